#include "chaos/history_json.h"

#include <cassert>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace crema::chaos {
namespace {

using Json = nlohmann::json;

// Deepest nesting a valid line needs: line object > cas value object > {"hex": ...}.
constexpr int kMaxJsonDepth = 3;

// At most this much of an offending JSON value is quoted in an error.
constexpr size_t kMaxQuotedJsonBytes = 60;

std::string Snippet(const Json& j) {
  std::string text = j.dump(-1, ' ', /*ensure_ascii=*/true);
  if (text.size() > kMaxQuotedJsonBytes) text = text.substr(0, kMaxQuotedJsonBytes) + "...";
  return text;
}

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("field \"", field, "\": ", problem));
}

// ---- Encoding ----

Json BytesToJson(std::string_view bytes) {
  if (IsValidUtf8(bytes)) return Json(std::string(bytes));
  return Json{{"hex", absl::BytesToHexString(absl::string_view(bytes.data(), bytes.size()))}};
}

Json OptionalBytesToJson(const std::optional<std::string>& bytes) {
  return bytes.has_value() ? BytesToJson(*bytes) : Json(nullptr);
}

// ---- Decoding ----

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> BytesFromJson(const Json& j, absl::string_view field,
                                          size_t max_bytes) {
  std::string bytes;
  if (j.is_string()) {
    bytes = j.get_ref<const std::string&>();
  } else if (j.is_object()) {
    if (j.size() != 1 || !j.contains("hex") || !j["hex"].is_string()) {
      return FieldError(field, "a byte object must be exactly {\"hex\": \"<hex digits>\"}");
    }
    const std::string& hex = j["hex"].get_ref<const std::string&>();
    if (hex.size() % 2 != 0) return FieldError(field, "hex has an odd number of digits");
    bytes.reserve(hex.size() / 2);
    for (size_t i = 0; i < hex.size(); i += 2) {
      const int hi = HexDigit(hex[i]);
      const int lo = HexDigit(hex[i + 1]);
      if (hi < 0 || lo < 0) return FieldError(field, "hex has a character that is not a digit");
      bytes.push_back(static_cast<char>(hi * 16 + lo));
    }
  } else {
    return FieldError(field, "expected a string or {\"hex\": ...}");
  }
  if (bytes.size() > max_bytes) {
    return FieldError(field, absl::StrCat(bytes.size(), " bytes is over the limit of ",
                                          max_bytes));
  }
  return bytes;
}

absl::StatusOr<int64_t> IntFromJson(const Json& j, absl::string_view field) {
  if (j.is_number_integer() && !j.is_number_unsigned()) return j.get<int64_t>();
  if (j.is_number_unsigned()) {
    const uint64_t u = j.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(u);
    }
  }
  return FieldError(field, "expected an integer that fits in int64");
}

absl::StatusOr<OpKind> KindFromJson(const Json& j) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    for (OpKind kind : {OpKind::kPut, OpKind::kGet, OpKind::kDelete, OpKind::kCas,
                        OpKind::kIncr, OpKind::kExpire}) {
      if (s == OpKindName(kind)) return kind;
    }
  }
  return FieldError("op", absl::StrCat("expected \"put\", \"get\", \"delete\", \"cas\", "
                                       "\"incr\" or \"expire\", got ",
                                       Snippet(j)));
}

absl::StatusOr<Outcome> OutcomeFromJson(const Json& j) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    for (Outcome outcome : {Outcome::kOk, Outcome::kAbsent, Outcome::kFail,
                            Outcome::kIndeterminate, Outcome::kError}) {
      if (s == OutcomeName(outcome)) return outcome;
    }
  }
  return FieldError("result",
                    absl::StrCat("expected \"ok\", \"absent\", \"fail\", \"indeterminate\" or "
                                 "\"error\", got ",
                                 Snippet(j)));
}

bool IsNullOrMissing(const Json& object, const char* field) {
  return !object.contains(field) || object[field].is_null();
}

// Fills op.value / op.expected from the "value" field according to op.kind and op.outcome.
absl::Status ValueFromJson(const Json& object, Operation& op) {
  const bool missing = IsNullOrMissing(object, "value");
  switch (op.kind) {
    case OpKind::kPut: {
      if (missing) return FieldError("value", "put needs the value written");
      absl::StatusOr<std::string> value = BytesFromJson(object["value"], "value", kMaxValueBytes);
      if (!value.ok()) return value.status();
      op.value = *std::move(value);
      return absl::OkStatus();
    }
    case OpKind::kGet: {
      if (op.outcome != Outcome::kOk) {
        if (!missing) {
          return FieldError("value", absl::StrCat("must be null or omitted for a get with result \"",
                                                  OutcomeName(op.outcome), "\""));
        }
        return absl::OkStatus();
      }
      if (missing) return FieldError("value", "a get with result \"ok\" needs the value read");
      absl::StatusOr<std::string> value = BytesFromJson(object["value"], "value", kMaxValueBytes);
      if (!value.ok()) return value.status();
      op.value = *std::move(value);
      return absl::OkStatus();
    }
    case OpKind::kDelete:
      if (!missing) return FieldError("value", "must be null or omitted for delete");
      return absl::OkStatus();
    case OpKind::kCas: {
      if (missing || !object["value"].is_object()) {
        return FieldError("value", "cas needs {\"expected\": bytes or null, \"new\": bytes}");
      }
      const Json& v = object["value"];
      for (const auto& [name, unused] : v.items()) {
        if (name != "expected" && name != "new") {
          return FieldError("value", absl::StrCat("unknown cas field \"", name, "\""));
        }
      }
      if (!v.contains("expected")) return FieldError("value.expected", "missing (null = absent)");
      if (IsNullOrMissing(v, "new")) return FieldError("value.new", "missing");
      if (!v["expected"].is_null()) {
        absl::StatusOr<std::string> expected =
            BytesFromJson(v["expected"], "value.expected", kMaxValueBytes);
        if (!expected.ok()) return expected.status();
        op.expected = *std::move(expected);
      }
      absl::StatusOr<std::string> new_value = BytesFromJson(v["new"], "value.new", kMaxValueBytes);
      if (!new_value.ok()) return new_value.status();
      op.value = *std::move(new_value);
      return absl::OkStatus();
    }
    case OpKind::kIncr: {
      if (missing || !object["value"].is_object()) {
        return FieldError("value", "incr needs {\"delta\": integer, \"result\": string or null}");
      }
      const Json& v = object["value"];
      for (const auto& [name, unused] : v.items()) {
        if (name != "delta" && name != "result") {
          return FieldError("value", absl::StrCat("unknown incr field \"", name, "\""));
        }
      }
      if (!v.contains("delta")) return FieldError("value.delta", "missing");
      absl::StatusOr<int64_t> delta = IntFromJson(v["delta"], "value.delta");
      if (!delta.ok()) return delta.status();
      op.delta = *delta;
      if (op.outcome == Outcome::kOk) {
        if (IsNullOrMissing(v, "result")) return FieldError("value.result", "missing");
        absl::StatusOr<std::string> result = BytesFromJson(v["result"], "value.result", 32);
        if (!result.ok()) return result.status();
        op.value = *std::move(result);
      } else if (!IsNullOrMissing(v, "result")) {
        return FieldError("value.result", "only an incr with result \"ok\" has one");
      }
      return absl::OkStatus();
    }
    case OpKind::kExpire:
      if (!missing) return FieldError("value", "must be null or omitted for expire");
      return absl::OkStatus();
  }
  return absl::InternalError("unreachable");
}

// Parses `line` into a DOM, rejecting duplicate object keys and deep nesting.
absl::StatusOr<Json> ParseStrict(std::string_view line) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  bool too_deep = false;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth) too_deep = true;
        if (event == Json::parse_event_t::object_start) open_objects.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get<std::string>()).second &&
            duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  Json j;
  try {
    j = Json::parse(line.begin(), line.end(), callback, /*allow_exceptions=*/true);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", e.what()));
  }
  if (too_deep) return absl::InvalidArgumentError("JSON nested too deeply");
  if (!duplicate.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("duplicate field \"", duplicate, "\""));
  }
  return j;
}

constexpr const char* kFields[] = {"client",    "op",        "key",    "value", "invoke_ns",
                                   "return_ns", "result",    "ttl",    "local"};

// The optional boolean `field`, false if absent.
absl::StatusOr<bool> FlagFromJson(const Json& object, const char* field) {
  if (!object.contains(field)) return false;
  if (!object[field].is_boolean()) return FieldError(field, "expected true or false");
  return object[field].get<bool>();
}

absl::Status CheckFieldNames(const Json& object) {
  for (const auto& [name, unused] : object.items()) {
    bool known = false;
    for (const char* field : kFields) known = known || name == field;
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown field \"", name, "\" (allowed: ", absl::StrJoin(kFields, ", "), ")"));
    }
  }
  for (const char* field : {"client", "op", "key", "invoke_ns", "result"}) {
    if (!object.contains(field)) return FieldError(field, "missing");
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidUtf8(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t code_point;
    if ((b0 & 0xE0) == 0xC0) {
      length = 2;
      code_point = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      length = 3;
      code_point = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      length = 4;
      code_point = b0 & 0x07;
    } else {
      return false;
    }
    if (i + length > bytes.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto b = static_cast<unsigned char>(bytes[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (b & 0x3F);
    }
    constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinForLength[length]) return false;                 // Overlong.
    if (code_point >= 0xD800 && code_point <= 0xDFFF) return false;       // Surrogate.
    if (code_point > 0x10FFFF) return false;
    i += length;
  }
  return true;
}

std::string OperationToJson(const Operation& op) {
  assert(ValidateOperation(op).ok());
  Json value = nullptr;
  switch (op.kind) {
    case OpKind::kPut:
      value = BytesToJson(op.value);
      break;
    case OpKind::kGet:
      if (op.outcome == Outcome::kOk) value = BytesToJson(op.value);
      break;
    case OpKind::kDelete:
      break;
    case OpKind::kCas:
      value = Json{{"expected", OptionalBytesToJson(op.expected)}, {"new", BytesToJson(op.value)}};
      break;
    case OpKind::kIncr:
      value = Json{{"delta", op.delta},
                   {"result", op.outcome == Outcome::kOk ? Json(op.value) : Json(nullptr)}};
      break;
    case OpKind::kExpire:
      break;
  }
  // Fields in the documented order, for people reading the file.
  nlohmann::ordered_json j;
  j["client"] = op.client;
  j["op"] = OpKindName(op.kind);
  j["key"] = BytesToJson(op.key);
  j["value"] = value;
  j["invoke_ns"] = op.invoke_ns;
  j["return_ns"] = op.return_ns.has_value() ? Json(*op.return_ns) : Json(nullptr);
  j["result"] = OutcomeName(op.outcome);
  if (op.ttl || op.kind == OpKind::kExpire) j["ttl"] = op.ttl;
  if (op.local) j["local"] = true;
  // Strings are valid UTF-8 (others went to hex), so dump cannot throw.
  return j.dump();
}

std::string HistoryToJsonLines(const History& history) {
  std::string out;
  for (const Operation& op : history) absl::StrAppend(&out, OperationToJson(op), "\n");
  return out;
}

absl::StatusOr<Operation> OperationFromJson(std::string_view line) {
  if (line.size() > kMaxJsonLineBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("line is ", line.size(), " bytes; the limit is ", kMaxJsonLineBytes));
  }
  absl::StatusOr<Json> parsed = ParseStrict(line);
  if (!parsed.ok()) return parsed.status();
  const Json& j = *parsed;
  if (!j.is_object()) return absl::InvalidArgumentError("expected a JSON object");
  if (absl::Status s = CheckFieldNames(j); !s.ok()) return s;

  Operation op;
  absl::StatusOr<int64_t> client = IntFromJson(j["client"], "client");
  if (!client.ok()) return client.status();
  op.client = *client;
  absl::StatusOr<OpKind> kind = KindFromJson(j["op"]);
  if (!kind.ok()) return kind.status();
  op.kind = *kind;
  absl::StatusOr<std::string> key = BytesFromJson(j["key"], "key", kMaxKeyBytes);
  if (!key.ok()) return key.status();
  op.key = *std::move(key);
  absl::StatusOr<Outcome> outcome = OutcomeFromJson(j["result"]);
  if (!outcome.ok()) return outcome.status();
  op.outcome = *outcome;
  absl::StatusOr<int64_t> invoke_ns = IntFromJson(j["invoke_ns"], "invoke_ns");
  if (!invoke_ns.ok()) return invoke_ns.status();
  op.invoke_ns = *invoke_ns;
  if (!IsNullOrMissing(j, "return_ns")) {
    absl::StatusOr<int64_t> return_ns = IntFromJson(j["return_ns"], "return_ns");
    if (!return_ns.ok()) return return_ns.status();
    op.return_ns = *return_ns;
  }
  absl::StatusOr<bool> ttl = FlagFromJson(j, "ttl");
  if (!ttl.ok()) return ttl.status();
  op.ttl = *ttl;
  absl::StatusOr<bool> local = FlagFromJson(j, "local");
  if (!local.ok()) return local.status();
  op.local = *local;
  if (absl::Status s = ValueFromJson(j, op); !s.ok()) return s;
  if (absl::Status s = ValidateOperation(op); !s.ok()) return s;
  return op;
}

absl::Status JsonLinesHistoryParser::AddLine(std::string_view line) {
  if (!status_.ok()) return status_;
  ++line_number_;
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return absl::OkStatus();
  if (history_.size() >= kMaxHistoryOperations) {
    status_ = absl::InvalidArgumentError(absl::StrCat(
        "line ", line_number_, ": more than ", kMaxHistoryOperations, " operations"));
    return status_;
  }
  absl::StatusOr<Operation> op = OperationFromJson(line);
  if (!op.ok()) {
    status_ = absl::InvalidArgumentError(absl::StrCat("line ", line_number_, ": ",
                                                      op.status().message()));
    return status_;
  }
  history_.push_back(*std::move(op));
  return absl::OkStatus();
}

absl::StatusOr<History> HistoryFromJsonLines(std::string_view text) {
  JsonLinesHistoryParser parser;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (absl::Status s = parser.AddLine(text.substr(start, end - start)); !s.ok()) return s;
    start = end + 1;
  }
  return std::move(parser).Finish();
}

}  // namespace crema::chaos
