#include "sim/json_fields.h"

#include <limits>

namespace crema::sim {

bool JsonIsInt64(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= uint64_t{INT64_MAX};
  return v.is_number_integer();
}

bool JsonIsNodeId(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= std::numeric_limits<NodeId>::max();
  return v.is_number_integer() && v.get<int64_t>() >= 0 &&
         v.get<int64_t>() <= int64_t{std::numeric_limits<NodeId>::max()};
}

std::optional<int64_t> JsonAsInt64(const nlohmann::json& v) {
  if (!JsonIsInt64(v)) return std::nullopt;
  return v.is_number_unsigned() ? static_cast<int64_t>(v.get<uint64_t>()) : v.get<int64_t>();
}

std::optional<NodeId> JsonAsNodeId(const nlohmann::json& v) {
  if (!JsonIsNodeId(v)) return std::nullopt;
  return static_cast<NodeId>(v.is_number_unsigned() ? v.get<uint64_t>()
                                                    : static_cast<uint64_t>(v.get<int64_t>()));
}

bool JsonHas(const nlohmann::json& j, const char* name) { return j.is_object() && j.contains(name); }

std::optional<int64_t> JsonInt64(const nlohmann::json& j, const char* name) {
  if (!JsonHas(j, name)) return std::nullopt;
  return JsonAsInt64(j.at(name));
}

std::optional<NodeId> JsonNodeId(const nlohmann::json& j, const char* name) {
  if (!JsonHas(j, name)) return std::nullopt;
  return JsonAsNodeId(j.at(name));
}

std::optional<std::string> JsonString(const nlohmann::json& j, const char* name) {
  if (!JsonHas(j, name) || !j.at(name).is_string()) return std::nullopt;
  return j.at(name).get<std::string>();
}

std::optional<uint64_t> JsonUint64(const nlohmann::json& j, const char* name) {
  if (!JsonHas(j, name) || !j.at(name).is_number_unsigned()) return std::nullopt;
  return j.at(name).get<uint64_t>();
}

namespace {

template <typename T, typename Reader>
bool ReadOptionalWith(const nlohmann::json& j, const char* name, T* out, Reader read) {
  if (!JsonHas(j, name)) return true;
  std::optional<T> v = read(j, name);
  if (!v) return false;
  *out = *std::move(v);
  return true;
}

}  // namespace

bool ReadOptional(const nlohmann::json& j, const char* name, int64_t* out) {
  return ReadOptionalWith(j, name, out, JsonInt64);
}

bool ReadOptional(const nlohmann::json& j, const char* name, NodeId* out) {
  return ReadOptionalWith(j, name, out, JsonNodeId);
}

bool ReadOptional(const nlohmann::json& j, const char* name, std::string* out) {
  return ReadOptionalWith(j, name, out, JsonString);
}

}  // namespace crema::sim
