#include "node/ping/ping_codec.h"

#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"

namespace crema::ping {
namespace {

constexpr size_t kMaxNumberDigits = 20;

// Strict unsigned decimal: digits only, no leading zeros, fits in 64 bits.
bool ParseNumber(std::string_view token, uint64_t* out) {
  if (token.empty() || token.size() > kMaxNumberDigits) return false;
  if (token.size() > 1 && token[0] == '0') return false;
  uint64_t value = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
  }
  *out = value;
  return true;
}

bool ParseNodeId(std::string_view token, NodeId* out) {
  uint64_t value = 0;
  if (!ParseNumber(token, &value) || value == kNoNode ||
      value > std::numeric_limits<NodeId>::max()) {
    return false;
  }
  *out = static_cast<NodeId>(value);
  return true;
}

// Splits on single spaces; an empty token (double, leading or trailing space) fails.
bool SplitTokens(std::string_view text, std::vector<std::string_view>* tokens) {
  constexpr size_t kMaxTokens = GCounter::kMaxEntries + 1;
  size_t start = 0;
  while (true) {
    if (tokens->size() >= kMaxTokens) return false;
    const size_t space = text.find(' ', start);
    const std::string_view token =
        text.substr(start, space == std::string_view::npos ? std::string_view::npos : space - start);
    if (token.empty()) return false;
    tokens->push_back(token);
    if (space == std::string_view::npos) return true;
    start = space + 1;
  }
}

absl::Status Invalid(std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("malformed ping message: ", std::string(why)));
}

absl::StatusOr<PingMessage> DecodeHeartbeat(const std::vector<std::string_view>& tokens) {
  PingMessage message;
  message.kind = PingMessage::Kind::kHeartbeat;
  for (size_t i = 1; i < tokens.size(); ++i) {
    const size_t colon = tokens[i].find(':');
    if (colon == std::string_view::npos) return Invalid("heartbeat entry without ':'");
    NodeId node = kNoNode;
    uint64_t count = 0;
    if (!ParseNodeId(tokens[i].substr(0, colon), &node) ||
        !ParseNumber(tokens[i].substr(colon + 1), &count)) {
      return Invalid("bad heartbeat entry");
    }
    if (message.counter.entries().contains(node)) return Invalid("repeated heartbeat entry");
    message.counter.MergeEntry(node, count);
  }
  return message;
}

}  // namespace

std::string EncodePing(const PingMessage& message) {
  switch (message.kind) {
    case PingMessage::Kind::kAdd:
      return absl::StrCat("add ", message.request_id);
    case PingMessage::Kind::kGet:
      return absl::StrCat("get ", message.request_id);
    case PingMessage::Kind::kAck:
      return absl::StrCat("ack ", message.request_id, " ", message.total);
    case PingMessage::Kind::kValue:
      return absl::StrCat("value ", message.request_id, " ", message.total, " ",
                          message.local_count);
    case PingMessage::Kind::kHeartbeat: {
      std::string out = "hb";
      for (const auto& [node, count] : message.counter.entries()) {
        absl::StrAppend(&out, " ", node, ":", count);
      }
      return out;
    }
  }
  return "";
}

absl::StatusOr<PingMessage> DecodePing(std::string_view text) {
  if (text.size() > kMaxPingMessageBytes) return Invalid("too long");
  std::vector<std::string_view> tokens;
  if (!SplitTokens(text, &tokens)) return Invalid("bad spacing or too many tokens");
  const std::string_view verb = tokens[0];
  if (verb == "hb") return DecodeHeartbeat(tokens);
  PingMessage message;
  size_t want_numbers = 0;
  if (verb == "add") {
    message.kind = PingMessage::Kind::kAdd;
    want_numbers = 1;
  } else if (verb == "get") {
    message.kind = PingMessage::Kind::kGet;
    want_numbers = 1;
  } else if (verb == "ack") {
    message.kind = PingMessage::Kind::kAck;
    want_numbers = 2;
  } else if (verb == "value") {
    message.kind = PingMessage::Kind::kValue;
    want_numbers = 3;
  } else {
    return Invalid("unknown verb");
  }
  if (tokens.size() != want_numbers + 1) return Invalid("wrong number of fields");
  uint64_t* fields[] = {&message.request_id, &message.total, &message.local_count};
  for (size_t i = 0; i < want_numbers; ++i) {
    if (!ParseNumber(tokens[i + 1], fields[i])) return Invalid("bad number");
  }
  return message;
}

}  // namespace crema::ping
