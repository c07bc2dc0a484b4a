// Strict readers of JSON fields, for the files the project reads as input (schedule files, fault
// plans, real-chaos schedules). nlohmann's `value(name, default)` throws when the field exists
// with another type, and `get<T>()` converts silently (a float to an integer is undefined
// behaviour; 4294967297 becomes node 1). These return nullopt instead, so a caller can answer a
// bad file with INVALID_ARGUMENT.
//
// Contract: every function accepts any JSON value (not only objects) and never throws.
// Thread safety: pure functions.
#ifndef CREMA_SIM_JSON_FIELDS_H_
#define CREMA_SIM_JSON_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "node/network.h"
#include "nlohmann/json.hpp"

namespace crema::sim {

// A JSON integer (signed or unsigned) that fits int64_t.
bool JsonIsInt64(const nlohmann::json& v);
// A JSON non-negative integer that fits NodeId.
bool JsonIsNodeId(const nlohmann::json& v);
std::optional<int64_t> JsonAsInt64(const nlohmann::json& v);
std::optional<NodeId> JsonAsNodeId(const nlohmann::json& v);

// Whether `j` is an object with a field `name` (of any type).
bool JsonHas(const nlohmann::json& j, const char* name);
// `j[name]` as the type, or nullopt if `j` is not an object, lacks it, or it has another type.
std::optional<int64_t> JsonInt64(const nlohmann::json& j, const char* name);
std::optional<NodeId> JsonNodeId(const nlohmann::json& j, const char* name);
std::optional<std::string> JsonString(const nlohmann::json& j, const char* name);
std::optional<uint64_t> JsonUint64(const nlohmann::json& j, const char* name);

// An optional field: true if `j` has no `name` (`*out` unchanged) or has one of the type (stored
// in `*out`); false if it has one of another type or out of range (`*out` unchanged).
bool ReadOptional(const nlohmann::json& j, const char* name, int64_t* out);
bool ReadOptional(const nlohmann::json& j, const char* name, NodeId* out);
bool ReadOptional(const nlohmann::json& j, const char* name, std::string* out);

}  // namespace crema::sim

#endif  // CREMA_SIM_JSON_FIELDS_H_
