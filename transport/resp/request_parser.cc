#include "transport/resp/request_parser.h"

#include <algorithm>
#include <cassert>

#include "transport/resp/strict_int.h"

namespace crema::resp {
namespace {

constexpr std::string_view kProto = "ERR Protocol error: ";

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}
bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'; }

}  // namespace

bool SplitInlineArgs(std::string_view line, std::vector<std::string>* args, size_t max_args) {
  args->clear();
  size_t i = 0;
  const size_t n = line.size();
  while (true) {
    while (i < n && IsSpace(line[i])) ++i;
    if (i >= n) return true;
    if (args->size() >= max_args) return false;
    std::string current;
    bool in_double = false, in_single = false, done = false;
    while (!done) {
      if (in_double) {
        if (i >= n) return false;  // unterminated quotes
        if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' && IsHexDigit(line[i + 2]) &&
            IsHexDigit(line[i + 3])) {
          current.push_back(static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3])));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < n) {
          ++i;
          char c = line[i];
          switch (c) {
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'a': c = '\a'; break;
            default: break;
          }
          current.push_back(c);
        } else if (line[i] == '"') {
          // A closing quote must be followed by a space or the end.
          if (i + 1 < n && !IsSpace(line[i + 1])) return false;
          done = true;
        } else {
          current.push_back(line[i]);
        }
      } else if (in_single) {
        if (i >= n) return false;
        if (line[i] == '\\' && i + 1 < n && line[i + 1] == '\'') {
          ++i;
          current.push_back('\'');
        } else if (line[i] == '\'') {
          if (i + 1 < n && !IsSpace(line[i + 1])) return false;
          done = true;
        } else {
          current.push_back(line[i]);
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        switch (line[i]) {
          case ' ': case '\n': case '\r': case '\t': case '\0':
            done = true;
            break;
          case '"': in_double = true; break;
          case '\'': in_single = true; break;
          default: current.push_back(line[i]); break;
        }
      }
      if (i < n) ++i;
    }
    args->push_back(std::move(current));
  }
}

void RequestParser::Append(std::string_view bytes) {
  if (failed_) return;
  Compact();
  buffer_.append(bytes.data(), bytes.size());
}

void RequestParser::Compact() {
  if (pos_ == 0) return;
  if (pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
    no_newline_before_ = 0;
  } else if (pos_ > 4096 && pos_ * 2 > buffer_.size()) {
    buffer_.erase(0, pos_);
    no_newline_before_ = no_newline_before_ > pos_ ? no_newline_before_ - pos_ : 0;
    pos_ = 0;
  }
}

RequestParser::Result RequestParser::Fail(std::string error) {
  failed_ = true;
  error_ = std::move(error);
  buffer_.clear();
  buffer_.shrink_to_fit();
  pos_ = 0;
  no_newline_before_ = 0;
  args_.clear();
  args_.shrink_to_fit();
  return {kError, {}, error_};
}

bool RequestParser::ReadLine(std::string_view* line, size_t* consumed) const {
  const size_t from = std::max(pos_, no_newline_before_);
  const size_t nl = buffer_.find('\n', from);
  line_bytes_searched_ += (nl == std::string::npos ? buffer_.size() : nl + 1) - from;
  if (nl == std::string::npos) {
    no_newline_before_ = buffer_.size();
    return false;
  }
  no_newline_before_ = nl + 1;
  size_t end = nl;
  if (end > pos_ && buffer_[end - 1] == '\r') --end;
  *line = std::string_view(buffer_).substr(pos_, end - pos_);
  *consumed = nl + 1 - pos_;
  return true;
}

bool RequestParser::PartialLineTooLong() const {
  size_t n = buffered_bytes();
  if (n > 0 && buffer_.back() == '\r') --n;  // maybe the start of the CRLF, not part of the line
  return n > limits_.max_inline_bytes;
}

RequestParser::Result RequestParser::Next() {
  if (failed_) return {kError, {}, error_};
  while (true) {
    if (multibulk_remaining_ == 0) {
      if (pos_ >= buffer_.size()) {
        Compact();
        return {};
      }
      if (buffer_[pos_] != '*') {
        Result r = ParseInline();
        if (r.kind == kCommand && r.args.empty()) continue;  // empty line: skip
        return r;
      }
    }
    Result r = ParseMultibulk();
    if (r.kind == kCommand && r.args.empty()) continue;  // "*0" or "*-1": skip
    return r;
  }
}

RequestParser::Result RequestParser::ParseInline() {
  std::string_view line;
  size_t consumed = 0;
  if (!ReadLine(&line, &consumed)) {
    if (PartialLineTooLong()) {
      return Fail(std::string(kProto) + "too big inline request");
    }
    Compact();
    return {};
  }
  if (line.size() > limits_.max_inline_bytes) {
    return Fail(std::string(kProto) + "too big inline request");
  }
  std::vector<std::string> args;
  if (!SplitInlineArgs(line, &args, limits_.max_multibulk_count)) {
    return Fail(std::string(kProto) + "unbalanced quotes in request");
  }
  pos_ += consumed;
  return {kCommand, std::move(args), {}};
}

RequestParser::Result RequestParser::ParseMultibulk() {
  std::string_view line;
  size_t consumed = 0;
  if (multibulk_remaining_ == 0) {
    assert(buffer_[pos_] == '*');
    if (!ReadLine(&line, &consumed)) {
      if (PartialLineTooLong()) {
        return Fail(std::string(kProto) + "too big mbulk count string");
      }
      return {};
    }
    if (line.size() > limits_.max_inline_bytes) {
      return Fail(std::string(kProto) + "too big mbulk count string");
    }
    std::optional<int64_t> count = ParseStrictInt64(line.substr(1));
    if (!count || *count > static_cast<int64_t>(limits_.max_multibulk_count)) {
      return Fail(std::string(kProto) + "invalid multibulk length");
    }
    pos_ += consumed;
    if (*count <= 0) return {kCommand, {}, {}};
    multibulk_remaining_ = *count;
    bulk_length_ = -1;
    command_bytes_ = consumed;
    args_.clear();
    args_.reserve(std::min<size_t>(static_cast<size_t>(*count), kMaxReservedArgs));
  }
  while (multibulk_remaining_ > 0) {
    if (bulk_length_ < 0) {
      if (pos_ >= buffer_.size()) return {};
      if (buffer_[pos_] != '$') {
        return Fail(std::string(kProto) + "expected '$', got '" + buffer_[pos_] + "'");
      }
      if (!ReadLine(&line, &consumed)) {
        if (PartialLineTooLong()) {
          return Fail(std::string(kProto) + "too big bulk count string");
        }
        return {};
      }
      if (line.size() > limits_.max_inline_bytes) {
        return Fail(std::string(kProto) + "too big bulk count string");
      }
      std::optional<int64_t> length = ParseStrictInt64(line.substr(1));
      if (!length || *length < 0 || *length > static_cast<int64_t>(limits_.max_bulk_bytes)) {
        return Fail(std::string(kProto) + "invalid bulk length");
      }
      pos_ += consumed;
      command_bytes_ += consumed;
      bulk_length_ = *length;
    }
    const size_t need = static_cast<size_t>(bulk_length_) + 2;
    if (command_bytes_ + std::min(need, buffered_bytes()) > limits_.max_query_buffer_bytes) {
      return Fail(std::string(kProto) + "query buffer limit reached");
    }
    if (buffered_bytes() < need) return {};
    if (buffer_[pos_ + need - 2] != '\r' || buffer_[pos_ + need - 1] != '\n') {
      return Fail(std::string(kProto) + "expected CRLF after bulk");
    }
    args_.emplace_back(buffer_, pos_, static_cast<size_t>(bulk_length_));
    pos_ += need;
    command_bytes_ += need;
    bulk_length_ = -1;
    --multibulk_remaining_;
  }
  command_bytes_ = 0;
  Compact();
  return {kCommand, std::move(args_), {}};
}

}  // namespace crema::resp
