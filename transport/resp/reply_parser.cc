#include "transport/resp/reply_parser.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "transport/resp/strict_int.h"

namespace crema::resp {

std::string RespValue::DebugString() const {
  switch (type) {
    case Type::kNull: return "nil";
    case Type::kInteger: return absl::StrCat(integer);
    case Type::kBoolean: return integer ? "true" : "false";
    case Type::kError: case Type::kBulkError: return absl::StrCat("(error) ", str);
    case Type::kArray: case Type::kSet: case Type::kMap: case Type::kPush: case Type::kAttribute: {
      std::vector<std::string> parts;
      for (const RespValue& e : elements) parts.push_back(e.DebugString());
      return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
    }
    default: return absl::StrCat("\"", str, "\"");
  }
}

void ReplyParser::Append(std::string_view bytes) {
  if (failed_) return;
  if (pos_ > 0 && pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  } else if (pos_ > 4096 && pos_ * 2 > buffer_.size()) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes.data(), bytes.size());
}

absl::StatusOr<std::optional<RespValue>> ReplyParser::Next() {
  if (failed_) return absl::DataLossError(error_);
  size_t at = pos_;
  RespValue value;
  if (!Parse(&at, 0, &value)) {
    if (!error_.empty()) {
      failed_ = true;
      return absl::DataLossError(error_);
    }
    return std::nullopt;
  }
  pos_ = at;
  return value;
}

bool ReplyParser::Parse(size_t* at, int depth, RespValue* out) {
  if (depth > kMaxReplyDepth) {
    error_ = "reply nested too deeply";
    return false;
  }
  const size_t nl = buffer_.find("\r\n", *at);
  if (nl == std::string::npos) {
    if (buffer_.size() - *at > 64 * 1024) error_ = "reply line too long";
    return false;
  }
  const char type = buffer_[*at];
  const std::string_view line = std::string_view(buffer_).substr(*at + 1, nl - *at - 1);
  size_t next = nl + 2;
  out->type = static_cast<RespValue::Type>(type);
  switch (type) {
    case '+': case '-': case ',': case '(':
      out->str = std::string(line);
      break;
    case ':': {
      std::optional<int64_t> v = ParseStrictInt64(line);
      if (!v) { error_ = "bad integer reply"; return false; }
      out->integer = *v;
      break;
    }
    case '_':
      if (!line.empty()) { error_ = "bad null reply"; return false; }
      break;
    case '#':
      if (line != "t" && line != "f") { error_ = "bad boolean reply"; return false; }
      out->integer = line == "t";
      break;
    case '$': case '!': case '=': {
      std::optional<int64_t> n = ParseStrictInt64(line);
      if (n && *n == -1 && type == '$') {
        out->type = RespValue::Type::kNull;
        break;
      }
      if (!n || *n < 0 || static_cast<uint64_t>(*n) > kMaxReplyBulkBytes) {
        error_ = "bad bulk length";
        return false;
      }
      if (buffer_.size() < next + static_cast<size_t>(*n) + 2) return false;
      if (buffer_.compare(next + *n, 2, "\r\n") != 0) { error_ = "bulk without CRLF"; return false; }
      out->str = buffer_.substr(next, static_cast<size_t>(*n));
      next += static_cast<size_t>(*n) + 2;
      break;
    }
    case '*': case '%': case '~': case '|': case '>': {
      std::optional<int64_t> n = ParseStrictInt64(line);
      if (n && *n == -1 && type == '*') {
        out->type = RespValue::Type::kNull;
        break;
      }
      const int64_t factor = (type == '%' || type == '|') ? 2 : 1;
      if (!n || *n < 0 || static_cast<uint64_t>(*n) * factor > kMaxReplyElements) {
        error_ = "bad aggregate length";
        return false;
      }
      out->elements.reserve(std::min<size_t>(static_cast<size_t>(*n * factor), 1024));
      for (int64_t i = 0; i < *n * factor; ++i) {
        RespValue element;
        if (!Parse(&next, depth + 1, &element)) return false;
        out->elements.push_back(std::move(element));
      }
      break;
    }
    default:
      error_ = absl::StrCat("unknown reply type byte 0x",
                            absl::Hex(static_cast<unsigned char>(type)));
      return false;
  }
  *at = next;
  return true;
}

}  // namespace crema::resp
