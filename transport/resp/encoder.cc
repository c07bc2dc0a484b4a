#include "transport/resp/encoder.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace crema::resp {

std::string SanitizeLine(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return r;
}

void Encoder::Line(char type, std::string_view s) {
  out_->push_back(type);
  const size_t start = out_->size();
  out_->append(s.data(), s.size());
  for (size_t i = start; i < out_->size(); ++i) {
    if ((*out_)[i] == '\r' || (*out_)[i] == '\n') (*out_)[i] = ' ';
  }
  out_->append("\r\n");
}

void Encoder::SimpleString(std::string_view s) { Line('+', s); }
void Encoder::Error(std::string_view s) { Line('-', s); }
void Encoder::Integer(int64_t v) { absl::StrAppend(out_, ":", v, "\r\n"); }

void Encoder::Bulk(std::string_view s) {
  absl::StrAppend(out_, "$", s.size(), "\r\n");
  out_->append(s.data(), s.size());
  out_->append("\r\n");
}

void Encoder::Null() { out_->append(resp3_ ? "_\r\n" : "$-1\r\n"); }
void Encoder::NullArray() { out_->append(resp3_ ? "_\r\n" : "*-1\r\n"); }
void Encoder::ArrayHeader(size_t n) { absl::StrAppend(out_, "*", n, "\r\n"); }
void Encoder::MapHeader(size_t pairs) {
  absl::StrAppend(out_, resp3_ ? "%" : "*", resp3_ ? pairs : 2 * pairs, "\r\n");
}
void Encoder::SetHeader(size_t n) { absl::StrAppend(out_, resp3_ ? "~" : "*", n, "\r\n"); }

void Encoder::Double(double v) {
  std::string text;
  if (std::isinf(v)) {
    text = v > 0 ? "inf" : "-inf";
  } else if (std::isnan(v)) {
    text = "nan";
  } else {
    text = absl::StrFormat("%.17g", v);
  }
  if (resp3_) {
    absl::StrAppend(out_, ",", text, "\r\n");
  } else {
    Bulk(text);
  }
}

void Encoder::Boolean(bool v) {
  if (resp3_) {
    out_->append(v ? "#t\r\n" : "#f\r\n");
  } else {
    Integer(v ? 1 : 0);
  }
}

void Encoder::Verbatim(std::string_view format, std::string_view text) {
  if (!resp3_) {
    Bulk(text);
    return;
  }
  absl::StrAppend(out_, "=", format.size() + 1 + text.size(), "\r\n");
  out_->append(format.data(), format.size());
  out_->push_back(':');
  out_->append(text.data(), text.size());
  out_->append("\r\n");
}

}  // namespace crema::resp
