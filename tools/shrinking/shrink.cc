#include "tools/shrinking/shrink.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sim/result_json.h"
#include "tools/seed_farm/child_process.h"
#include "tools/seed_farm/sweep.h"

namespace crema::shrink {
namespace {

using nlohmann::json;

std::string TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern = absl::StrCat(base ? base : "/tmp", "/crema-shrink-XXXXXX");
  return mkdtemp(pattern.data()) ? pattern : "/tmp";
}

class Shrinker {
 public:
  explicit Shrinker(const ShrinkOptions& o) : o_(o), dir_(TempDir()) {
    jobs_ = std::max(1, o_.jobs);
  }

  ShrinkResult Run() {
    const absl::Time start = absl::Now();
    start_ = start;
    // The failing run, writing its own schedule.
    const std::string first = absl::StrCat(dir_, "/original.schedule.json");
    result_.original_run = RunOnce(nullptr, first);
    if (result_.original_run.pass) return Fail("the seed passes: nothing to shrink");
    result_.signature = result_.original_run.signature;
    std::ifstream in(first);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    absl::StatusOr<sim::Schedule> original = sim::ParseSchedule(text);
    if (!original.ok()) {
      return Fail(absl::StrCat("no schedule from the failing run: ", original.status().message()));
    }
    result_.original = *original;
    current_ = *original;
    const RunSummary replay = RunOnce(&current_, "");
    if (replay.pass || replay.signature != result_.signature) {
      return Fail(absl::StrCat("the failure does not reproduce from the run's own schedule (got '",
                               replay.pass ? "PASS" : replay.signature,
                               "'): the scenario draws inputs it does not record"));
    }
    current_run_ = replay;
    bool changed = true;
    while (changed && !Exhausted()) {
      changed = false;
      // By name, from copies: every accepted candidate replaces current_ (and its maps).
      std::vector<std::string> lists;
      for (const auto& [name, list] : current_.lists) lists.push_back(name);
      for (const std::string& name : ParamOrder()) changed = ShrinkParam(name) || changed;
      for (const std::string& name : lists) changed = ShrinkList(name) || changed;
      for (const std::string& name : lists) changed = ShrinkWindows(name) || changed;
    }
    result_.shrunk = current_;
    result_.shrunk_run = current_run_;
    result_.runs = runs_;
    result_.wall = absl::Now() - start;
    result_.budget_exhausted = Exhausted();
    return std::move(result_);
  }

 private:
  ShrinkResult Fail(std::string why) {
    result_.error = std::move(why);
    result_.runs = runs_;
    result_.wall = absl::Now() - start_;
    return std::move(result_);
  }

  bool Exhausted() const {
    return runs_ >= o_.max_runs || absl::Now() - start_ > o_.deadline;
  }

  std::vector<std::string> BaseArgs() const {
    std::vector<std::string> argv = {o_.sim_binary, "--quiet", "--json",
                                     absl::StrCat("--scenario=", o_.scenario),
                                     absl::StrCat("--seed=", o_.seed)};
    argv.insert(argv.end(), o_.extra_args.begin(), o_.extra_args.end());
    return argv;
  }

  // One run of the seed, replaying `schedule` (if any), writing its schedule to `schedule_out`.
  RunSummary RunOnce(const sim::Schedule* schedule, const std::string& schedule_out,
                     int slot = 0) {
    std::vector<std::string> argv = BaseArgs();
    if (schedule != nullptr) {
      const std::string path = absl::StrCat(dir_, "/candidate", slot, ".schedule.json");
      std::ofstream(path, std::ios::out | std::ios::trunc) << schedule->ToJson();
      argv.push_back("--schedule=" + path);
    }
    if (!schedule_out.empty()) argv.push_back("--schedule_out=" + schedule_out);
    RunSummary s;
    absl::StatusOr<farm::ChildProcess::Completed> done =
        farm::ChildProcess::RunToCompletion(argv, o_.run_timeout);
    if (!done.ok()) {
      s.signature = "cannot run the simulator";
      return s;
    }
    for (const std::string& line : done->stdout_lines) {
      if (line.empty() || line[0] != '{') continue;
      absl::StatusOr<sim::RunRecord> r = sim::ParseResultJsonLine(line);
      if (!r.ok()) continue;
      s.pass = r->pass;
      s.signature = r->signature;
      s.events = r->events;
      s.virtual_ms = r->virtual_ms;
      s.message = r->message;
      return s;
    }
    s.signature = done->timed_out ? "timeout | -"
                                  : farm::CrashSignature(done->stderr_tail, farm::DescribeExit(done->exit));
    s.message = done->stderr_tail;
    return s;
  }

  // Runs candidates, `jobs` at a time, until one reproduces; its index (-1: none). Adopts it.
  int FirstReproducing(const std::vector<sim::Schedule>& candidates) {
    for (size_t base = 0; base < candidates.size() && !Exhausted(); base += jobs_) {
      const size_t n = std::min(candidates.size() - base, static_cast<size_t>(jobs_));
      std::vector<RunSummary> runs(n);
      std::vector<std::thread> threads;
      for (size_t i = 0; i < n; ++i) {
        threads.emplace_back([&, i] { runs[i] = RunOnce(&candidates[base + i], "", static_cast<int>(i)); });
      }
      for (std::thread& t : threads) t.join();
      runs_ += static_cast<int>(n);
      for (size_t i = 0; i < n; ++i) {
        if (!runs[i].pass && runs[i].signature == result_.signature) {
          current_ = candidates[base + i];
          current_run_ = runs[i];
          return static_cast<int>(base + i);
        }
      }
    }
    return -1;
  }

  void Log(const std::string& line) {
    if (o_.log) *o_.log << "shrink: " << line << " (size " << current_.Size() << ", run " << runs_ << ")\n";
  }

  bool ShrinkList(const std::string& name) {
    bool changed = false;
    size_t n = 2;
    while (!Exhausted()) {
      const json& list = current_.lists.at(name);
      const size_t size = list.size();
      if (size == 0) break;
      n = std::min(n, size);
      const size_t chunk = (size + n - 1) / n;
      std::vector<sim::Schedule> candidates;
      for (size_t from = 0; from < size; from += chunk) {
        sim::Schedule c = current_;
        json& l = c.lists[name];
        l.erase(l.begin() + static_cast<std::ptrdiff_t>(from),
                l.begin() + static_cast<std::ptrdiff_t>(std::min(size, from + chunk)));
        candidates.push_back(std::move(c));
      }
      if (FirstReproducing(candidates) >= 0) {
        changed = true;
        Log(absl::StrCat("list ", name, ": ", size, " -> ", current_.lists.at(name).size(), " entries"));
        n = std::max<size_t>(n - 1, 2);
        continue;
      }
      if (n >= size) break;
      n = std::min(size, 2 * n);
    }
    return changed;
  }

  bool ShrinkWindows(const std::string& name) {
    bool changed = false;
    for (size_t i = 0; i < current_.lists.at(name).size() && !Exhausted(); ++i) {
      while (!Exhausted()) {
        const json& e = current_.lists.at(name)[i];
        if (!e.contains("end_ns")) break;
        const int64_t at = e["at_ns"], end = e["end_ns"];
        const int64_t length = end - at;
        if (length <= 1'000'000) break;  // 1 ms: short enough
        std::vector<sim::Schedule> candidates;
        for (int64_t shorter : {int64_t{0}, length / 4, length / 2}) {
          sim::Schedule c = current_;
          c.lists[name][i]["end_ns"] = at + shorter;
          candidates.push_back(std::move(c));
        }
        if (FirstReproducing(candidates) < 0) break;
        changed = true;
        Log(absl::StrCat("list ", name, " #", i, ": window ", length / 1'000'000, " ms -> ",
                         (current_.lists.at(name)[i]["end_ns"].get<int64_t>() - at) / 1'000'000, " ms"));
      }
    }
    return changed;
  }

  std::vector<std::string> ParamOrder() const {
    std::vector<std::string> first, rest;
    for (const auto& [name, p] : current_.params) {
      const bool size = name == "nodes" || name == "clients" || name == "keys" ||
                        name.find("safety") != std::string::npos;
      (size ? first : rest).push_back(name);
    }
    first.insert(first.end(), rest.begin(), rest.end());
    return first;
  }

  bool ShrinkParam(const std::string& name) {
    bool changed = false;
    while (!Exhausted()) {
      const sim::ScheduleParam p = current_.params.at(name);
      if (p.value == p.simplest) break;
      std::vector<sim::Schedule> candidates;
      std::vector<int64_t> values = {p.simplest};
      const int64_t mid = p.simplest + (p.value - p.simplest) / 2;
      if (mid != p.simplest && mid != p.value) values.push_back(mid);
      for (int64_t v : values) {
        sim::Schedule c = current_;
        c.params[name].value = v;
        candidates.push_back(std::move(c));
      }
      if (FirstReproducing(candidates) < 0) break;
      changed = true;
      Log(absl::StrCat("param ", name, ": ", p.value, " -> ", current_.params.at(name).value));
    }
    return changed;
  }

  const ShrinkOptions& o_;
  std::string dir_;
  int jobs_ = 1;
  int runs_ = 0;
  absl::Time start_;
  sim::Schedule current_;
  RunSummary current_run_;
  ShrinkResult result_;
};

}  // namespace

ShrinkResult Shrink(const ShrinkOptions& options) {
  if (options.sim_binary.empty() || access(options.sim_binary.c_str(), X_OK) != 0) {
    ShrinkResult r;
    r.error = absl::StrCat("no simulator binary at '", options.sim_binary, "'");
    return r;
  }
  return Shrinker(options).Run();
}

std::string DescribeShrink(const ShrinkResult& r) {
  auto params = [](const sim::Schedule& s) { return s.Size() - s.ListEntries(); };
  return absl::StrCat("size ", r.original.Size(), " -> ", r.shrunk.Size(), " (list entries ",
                      r.original.ListEntries(), " -> ", r.shrunk.ListEntries(), ", params ",
                      params(r.original), " -> ", params(r.shrunk), "), events ",
                      r.original_run.events, " -> ", r.shrunk_run.events, ", ", r.runs, " runs, ",
                      absl::FormatDuration(absl::Trunc(r.wall, absl::Milliseconds(100))));
}

}  // namespace crema::shrink
