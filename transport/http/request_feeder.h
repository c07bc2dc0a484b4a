// RequestFeeder: hands the bytes read from an HTTP connection to a RequestParser — what Beast's
// http::async_read does (an eager parser, fed whatever is buffered, more read on need_more), plus
// one rule that keeps Boost 1.74's parser inside its own assertions.
//
// Why (found by http_fuzzer, raw mode): Beast 1.74's chunked-body parser, having read the last
// chunk's size line with nothing after it ("0\r\n", 3 bytes), answers need_more and keeps those
// bytes, then asserts that its next call sees at least 5 (basic_parser.ipp, parse_chunk_header:
// `BOOST_ASSERT(n >= 5)`). Beast's own read loop calls it again as soon as ONE more byte arrives,
// so a client that sends "...0\r\n" and then "\n" in a second segment aborted crema_server in any
// build with assertions (the default build); without them (-DNDEBUG) the parser goes on past a
// broken precondition of its own. So after a need_more that leaves exactly 3 bytes buffered, the
// feeder waits for 2 more bytes. That never waits too long: a complete message needs at least
// "\r\n" more there, and in any other state 3 pending bytes ("GET", "ab\r") need more than one
// byte too.
//
// Contract: one feeder per parser (per request). Call Feed whenever buffer.size() >= min_size()
// (before: read more); it consumes from `buffer` what the parser used. kDone: the message is
// complete (what follows in `buffer` is the next request's). kError: `ec` says why (the parser's
// error: body_limit, header_limit, bad_chunk, ...). kNeedMore: read more bytes, until
// buffer.size() >= min_size(). The parser must be eager (LimitRequestParser's caller sets it).
//
// Bounds: the buffer holds at most what the parser has not consumed (bounded by its header
// limit; bodies are consumed as they arrive) plus one read.
//
// Thread safety: none; one connection's loop.
#ifndef CREMA_TRANSPORT_HTTP_REQUEST_FEEDER_H_
#define CREMA_TRANSPORT_HTTP_REQUEST_FEEDER_H_

#include <cstddef>

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/dynamic_body.hpp>
#include <boost/beast/http/parser.hpp>

namespace crema::http {

enum class FeedResult { kDone, kNeedMore, kError };

class RequestFeeder {
 public:
  template <class Parser>
  FeedResult Feed(Parser& parser, boost::beast::flat_buffer& buffer, boost::beast::error_code& ec);

  // The buffered bytes to wait for before the next Feed.
  size_t min_size() const { return min_size_; }

 private:
  size_t min_size_ = 1;
};

template <class Parser>
FeedResult RequestFeeder::Feed(Parser& parser, boost::beast::flat_buffer& buffer,
                               boost::beast::error_code& ec) {
  ec = {};
  if (parser.is_done()) return FeedResult::kDone;
  if (buffer.size() < min_size_) return FeedResult::kNeedMore;
  const size_t used = parser.put(buffer.data(), ec);
  buffer.consume(used);
  if (ec == boost::beast::http::error::need_more) {
    ec = {};
    // Beast 1.74's final-chunk state (header comment): 3 bytes kept, at least 5 next time.
    min_size_ = buffer.size() + (buffer.size() == 3 ? 2 : 1);
    return FeedResult::kNeedMore;
  }
  if (ec) return FeedResult::kError;
  if (parser.is_done()) {
    min_size_ = 1;
    return FeedResult::kDone;
  }
  // Everything buffered was used (an eager parser stops only at the end of the buffer, at the
  // end of the message, or at need_more): read more.
  min_size_ = buffer.size() + 1;
  return FeedResult::kNeedMore;
}

}  // namespace crema::http

#endif  // CREMA_TRANSPORT_HTTP_REQUEST_FEEDER_H_
