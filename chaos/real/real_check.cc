#include "chaos/real/real_check.h"

#include "absl/strings/str_cat.h"

namespace crema::chaos {

std::string RealCheckResult::Describe() const {
  std::string out = absl::StrCat("history: ", operations, " operations; ", linearizability, "\n");
  if (!error.empty()) absl::StrAppend(&out, "MALFORMED HISTORY: ", error, "\n");
  if (!explanation.empty()) absl::StrAppend(&out, explanation, "\n");
  absl::StrAppend(&out, "oracles: local reads checked ", oracles.local_reads_checked,
                  ", TTL reads checked ", oracles.ttl_reads_checked, ", violations ",
                  oracles.violation_count, "\n");
  for (const std::string& v : oracles.violations) absl::StrAppend(&out, "  ", v, "\n");
  return out;
}

RealCheckResult CheckRealHistory(const History& history, const std::vector<OracleInfo>& info,
                                 const RealCheckOptions& options) {
  RealCheckResult r;
  r.operations = history.size();
  LinearizabilityOptions lin;
  lin.cache_model = true;
  lin.cache_may_evict = options.may_evict;
  lin.max_steps = options.max_steps;
  absl::StatusOr<LinearizabilityResult> result = CheckLinearizability(history, lin);
  if (!result.ok()) {
    r.error = std::string(result.status().message());
    return r;
  }
  r.verdict = result->verdict;
  r.operations_checked = result->operations_checked;
  r.linearizability = LinearizabilitySummary(*result);
  if (result->verdict == Verdict::kNotLinearizable) {
    r.explanation = ExplainViolation(history, *result);
  } else if (result->verdict == Verdict::kUnknown) {
    r.explanation = absl::StrCat("not checked to the end: ", result->unknown_reason);
  }
  CacheOracleOptions oracle_options;
  oracle_options.max_skew = options.max_skew;
  oracle_options.lose_nothing = !options.may_evict;
  r.oracles = CheckCacheOracles(history, info, oracle_options);
  return r;
}

}  // namespace crema::chaos
