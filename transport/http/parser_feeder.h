// ParserFeeder and AsyncReadFed: read one HTTP message (a request at the HTTP server, a response
// in the etcd client) into a Beast parser — what Beast's http::async_read does (an eager parser,
// fed whatever is buffered, more read on need_more), plus one rule that keeps Boost 1.74's parser
// inside its own assertions. The HTTP server's and the etcd client's reads go through
// AsyncReadFed (cremactl's synchronous read of crema's own answers, never chunked, does not).
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
// ParserFeeder contract: one feeder per parser (per message). Call Feed whenever
// buffer.size() >= min_size() (before: read more); it consumes from `buffer` what the parser used. kDone: the message is
// complete (what follows in `buffer` is the next message's). kError: `ec` says why (the parser's
// error: body_limit, header_limit, bad_chunk, ...). kNeedMore: read more bytes, until
// buffer.size() >= min_size(). The parser must be eager (AsyncReadFed sets it).
//
// AsyncReadFed(stream, buffer, parser, keep_alive, done): reads until the parser is done, then
// calls done(error_code) once: success; the parser's error; the stream's (timeouts included);
// end_of_stream if the peer closed before a byte of the message; partial_message if it closed
// inside one (what put_eof says). `keep_alive` (e.g. the owner's shared_ptr) is held until then:
// `stream`, `buffer` and `parser` must live that long. Reads at most kFedReadBytes at a time.
//
// Bounds: the buffer holds at most what the parser has not consumed (bounded by its header
// limit; bodies are consumed as they arrive) plus one read.
//
// Thread safety: none; one connection's loop (the stream's executor).
#ifndef CREMA_TRANSPORT_HTTP_PARSER_FEEDER_H_
#define CREMA_TRANSPORT_HTTP_PARSER_FEEDER_H_

#include <cstddef>
#include <memory>
#include <utility>

#include <boost/asio/error.hpp>

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/dynamic_body.hpp>
#include <boost/beast/http/parser.hpp>

namespace crema::http {

enum class FeedResult { kDone, kNeedMore, kError };

class ParserFeeder {
 public:
  template <class Parser>
  FeedResult Feed(Parser& parser, boost::beast::flat_buffer& buffer, boost::beast::error_code& ec);

  // The buffered bytes to wait for before the next Feed.
  size_t min_size() const { return min_size_; }

 private:
  size_t min_size_ = 1;
};

template <class Parser>
FeedResult ParserFeeder::Feed(Parser& parser, boost::beast::flat_buffer& buffer,
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

inline constexpr size_t kFedReadBytes = 64 << 10;  // per read, as Beast's own read loop

namespace internal {

template <class Stream, class Parser, class KeepAlive, class Done>
struct FedRead : std::enable_shared_from_this<FedRead<Stream, Parser, KeepAlive, Done>> {
  FedRead(Stream& s, boost::beast::flat_buffer& b, Parser& p, KeepAlive k, Done d)
      : stream(s), buffer(b), parser(p), keep(std::move(k)), done(std::move(d)) {}

  void Step() {
    boost::beast::error_code ec;
    switch (feeder.Feed(parser, buffer, ec)) {
      case FeedResult::kDone: return done(boost::beast::error_code());
      case FeedResult::kError: return done(ec);
      case FeedResult::kNeedMore: break;
    }
    stream.async_read_some(buffer.prepare(kFedReadBytes),
                           [self = this->shared_from_this()](boost::beast::error_code ec, size_t n) {
                             self->buffer.commit(n);
                             self->OnBytes(ec);
                           });
  }

  void OnBytes(boost::beast::error_code ec) {
    namespace bhttp = boost::beast::http;
    if (ec == boost::asio::error::eof) {
      if (!parser.got_some()) return done(bhttp::error::end_of_stream);
      parser.put_eof(ec);
      if (ec) return done(ec);
      return done(parser.is_done() ? boost::beast::error_code()
                                   : boost::beast::error_code(bhttp::error::partial_message));
    }
    if (ec) return done(ec);
    Step();
  }

  Stream& stream;
  boost::beast::flat_buffer& buffer;
  Parser& parser;
  KeepAlive keep;
  Done done;
  ParserFeeder feeder;
};

}  // namespace internal

template <class Stream, class Parser, class KeepAlive, class Done>
void AsyncReadFed(Stream& stream, boost::beast::flat_buffer& buffer, Parser& parser,
                  KeepAlive keep_alive, Done done) {
  parser.eager(true);
  auto op = std::make_shared<internal::FedRead<Stream, Parser, KeepAlive, Done>>(
      stream, buffer, parser, std::move(keep_alive), std::move(done));
  op->Step();
}

}  // namespace crema::http

#endif  // CREMA_TRANSPORT_HTTP_PARSER_FEEDER_H_
