#include "chaos/invented_reads.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace crema::chaos {
namespace {

bool MayHaveWritten(const Operation& op) {
  if (op.kind != OpKind::kPut && op.kind != OpKind::kCas) return false;
  return op.outcome == Outcome::kOk || op.outcome == Outcome::kIndeterminate;
}

}  // namespace

absl::StatusOr<InventedReadsResult> CheckNoInventedReads(const History& history) {
  if (absl::Status status = ValidateHistory(history); !status.ok()) return status;
  // Earliest invocation of a write of each (key, value). Only looked up, never iterated.
  absl::flat_hash_map<std::pair<std::string_view, std::string_view>, int64_t> first_write_ns;
  for (const Operation& op : history) {
    if (!MayHaveWritten(op)) continue;
    auto [it, inserted] = first_write_ns.try_emplace(
        std::pair<std::string_view, std::string_view>(op.key, op.value), op.invoke_ns);
    if (!inserted) it->second = std::min(it->second, op.invoke_ns);
  }
  InventedReadsResult result;
  for (size_t i = 0; i < history.size(); ++i) {
    const Operation& op = history[i];
    if (op.kind != OpKind::kGet || op.outcome != Outcome::kOk) continue;
    ++result.reads_checked;
    auto it = first_write_ns.find(std::pair<std::string_view, std::string_view>(op.key, op.value));
    const bool explained = it != first_write_ns.end() && it->second <= *op.return_ns;
    if (explained) continue;
    ++result.invented_count;
    if (result.invented_reads.size() < kMaxReportedInventedReads) {
      result.invented_reads.push_back(i);
    }
  }
  return result;
}

std::string InventedReadsSummary(const InventedReadsResult& result) {
  std::string line = absl::StrCat("no_invented_reads=", result.ok() ? "true" : "false",
                                  " reads=", result.reads_checked,
                                  " invented=", result.invented_count);
  if (!result.invented_reads.empty()) absl::StrAppend(&line, " first=#", result.invented_reads[0]);
  return line;
}

}  // namespace crema::chaos
