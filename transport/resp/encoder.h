// Encoder: appends RESP2 or RESP3 replies to a byte string (pure; no sockets).
//
// The protocol version decides how RESP3-only types degrade for RESP2 clients, as redis-server
// does: null -> "$-1" (a null array -> "*-1"), map -> flat array of 2n, set -> array, double ->
// bulk string, boolean -> integer 0/1, verbatim string -> bulk string.
//
// Example:
//   std::string out;
//   Encoder enc(&out, /*resp3=*/false);
//   enc.ArrayHeader(2); enc.Bulk("a"); enc.Null();   // "*2\r\n$1\r\na\r\n$-1\r\n"
//
// Contract: errors and simple strings never contain CR or LF (they are replaced by spaces, as
// Redis's addReplyErrorLength does), so a reply can never break framing.
// Thread safety: none; `out` must outlive the encoder.
#ifndef CREMA_TRANSPORT_RESP_ENCODER_H_
#define CREMA_TRANSPORT_RESP_ENCODER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace crema::resp {

class Encoder {
 public:
  Encoder(std::string* out, bool resp3) : out_(out), resp3_(resp3) {}

  void SimpleString(std::string_view s);  // +OK
  void Error(std::string_view s);         // -ERR ... (s includes the code word)
  void Integer(int64_t v);                // :42
  void Bulk(std::string_view s);          // $3\r\nabc
  void Null();                            // RESP3 "_", RESP2 "$-1"
  void NullArray();                       // RESP3 "_", RESP2 "*-1"
  void ArrayHeader(size_t n);             // *n
  void MapHeader(size_t pairs);           // RESP3 %n, RESP2 *2n
  void SetHeader(size_t n);               // RESP3 ~n, RESP2 *n
  void Double(double v);                  // RESP3 ,v  RESP2 bulk
  void Boolean(bool v);                   // RESP3 #t  RESP2 :1
  void Verbatim(std::string_view format, std::string_view text);  // RESP3 =, RESP2 bulk

  bool resp3() const { return resp3_; }
  std::string* out() { return out_; }

 private:
  void Line(char type, std::string_view s);
  std::string* out_;
  bool resp3_;
};

// Replaces CR and LF by spaces (for error and status lines).
std::string SanitizeLine(std::string_view s);

}  // namespace crema::resp

#endif  // CREMA_TRANSPORT_RESP_ENCODER_H_
