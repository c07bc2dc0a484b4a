#include "tools/seed_farm/sweep.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <random>
#include <regex>
#include <thread>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "sim/result_json.h"
#include "sim/scenario.h"
#include "tools/seed_farm/child_process.h"

namespace crema::farm {
namespace {

constexpr size_t kNoPosition = static_cast<size_t>(-1);

// One child process and the batch it runs (positions into options.seeds).
struct Running {
  ChildProcess child;
  std::vector<size_t> batch;
  size_t finished = 0;                 // results received (in batch order)
  std::optional<size_t> current;       // announced, no result yet
  absl::Time current_started;
  bool timed_out = false;
  bool discarded = false;              // killed because the sweep stopped
};

bool Exists(const std::string& path) { return !path.empty() && access(path.c_str(), X_OK) == 0; }

class Sweeper {
 public:
  explicit Sweeper(const SweepOptions& options) : o_(options) {
    jobs_ = o_.jobs > 0 ? o_.jobs : std::max(1u, std::thread::hardware_concurrency());
    per_process_ = std::max(1, o_.seeds_per_process);
    for (size_t i = 0; i < o_.seeds.size(); ++i) pending_.push_back(i);
  }

  SweepResult Run() {
    start_ = absl::Now();
    last_progress_ = start_;
    while (!failed_to_start_ && (!pending_.empty() || !running_.empty())) {
      if (absl::Now() - start_ > o_.deadline && !pending_.empty()) {
        pending_.clear();
        result_.stopped_early = true;
      }
      while (static_cast<int>(running_.size()) < jobs_ && !pending_.empty()) StartBatch();
      PollChildren();
      ReapFinished();
      if (absl::Now() - last_progress_ >= absl::Seconds(1)) Progress();
    }
    // A later seed may have failed (and been recorded) before an earlier one lowered the cutoff:
    // outcomes past the final cutoff are not part of the answer.
    if (cutoff_ != kNoPosition) {
      std::vector<SeedOutcome> kept;
      for (size_t i = 0; i < result_.outcomes.size(); ++i) {
        if (outcome_positions_[i] <= cutoff_) kept.push_back(std::move(result_.outcomes[i]));
      }
      result_.outcomes = std::move(kept);
    }
    result_.wall = absl::Now() - start_;
    Progress();
    return std::move(result_);
  }

 private:
  void StartBatch() {
    std::vector<size_t> batch;
    while (!pending_.empty() && batch.size() < static_cast<size_t>(per_process_)) {
      batch.push_back(pending_.front());
      pending_.pop_front();
    }
    std::vector<std::string> seeds;
    for (size_t p : batch) seeds.push_back(absl::StrCat(o_.seeds[p]));
    std::vector<std::string> argv = {o_.sim_binary, "--quiet", "--json",
                                     absl::StrCat("--scenario=", o_.scenario),
                                     absl::StrCat("--seed_list=", absl::StrJoin(seeds, ","))};
    argv.insert(argv.end(), o_.extra_args.begin(), o_.extra_args.end());
    absl::StatusOr<ChildProcess> child = ChildProcess::Spawn(argv);
    if (!child.ok()) {
      result_.error = std::string(child.status().message());
      failed_to_start_ = true;
      return;
    }
    running_.push_back(Running{*std::move(child), std::move(batch)});
  }

  void PollChildren() {
    std::vector<pollfd> fds;
    for (const Running& r : running_) {
      fds.push_back({r.child.stdout_fd(), POLLIN, 0});
      fds.push_back({r.child.stderr_fd(), POLLIN, 0});
    }
    if (fds.empty()) return;
    if (poll(fds.data(), fds.size(), 200) <= 0) {
      CheckTimeouts();
      return;
    }
    for (size_t i = 0; i < running_.size(); ++i) {
      Running& r = running_[i];
      r.child.ReadReady(fds[2 * i].revents != 0, fds[2 * i + 1].revents != 0);
      for (const std::string& line : r.child.TakeStdoutLines()) OnLine(r, line);
    }
    CheckTimeouts();
  }

  void CheckTimeouts() {
    const absl::Time now = absl::Now();
    for (Running& r : running_) {
      if (r.current && !r.timed_out && now - r.current_started > o_.seed_timeout) {
        r.timed_out = true;
        r.child.Kill();
      }
      if (r.current && *r.current > cutoff_ && !r.discarded) Discard(r);
    }
  }

  void Discard(Running& r) {
    r.discarded = true;
    r.child.Kill();
  }

  void OnLine(Running& r, const std::string& line) {
    static const std::regex kStart("sim: start seed=([0-9]+).*");
    std::smatch m;
    if (std::regex_match(line, m, kStart)) {
      const size_t expected = r.batch[r.finished];
      r.current = expected;
      r.current_started = absl::Now();
      if (expected > cutoff_) Discard(r);
      return;
    }
    if (line.empty() || line[0] != '{' || !r.current) return;
    absl::StatusOr<sim::RunRecord> record = sim::ParseResultJsonLine(line);
    if (!record.ok()) return;
    SeedOutcome out;
    out.seed = record->seed;
    out.pass = record->pass;
    out.signature = record->signature;
    out.message = record->message;
    out.events = record->events;
    out.virtual_ms = record->virtual_ms;
    out.trace_hash = record->trace_hash;
    out.schedule_size = record->schedule_size;
    out.coverage = std::move(record->coverage);
    out.wall = absl::Now() - r.current_started;
    Finish(*r.current, std::move(out));
    ++r.finished;
    r.current.reset();
  }

  void Finish(size_t position, SeedOutcome out) {
    if (!out.pass) {
      failing_positions_.insert(position);
      signatures_.insert(out.signature);
      if (o_.stop_after_failures > 0 &&
          failing_positions_.size() >= static_cast<size_t>(o_.stop_after_failures)) {
        // Stop at the k-th failure *in seed order*: seeds before it still finish, so the answer
        // ("caught after N seeds") does not depend on how many jobs ran at once.
        auto kth = failing_positions_.begin();
        std::advance(kth, o_.stop_after_failures - 1);
        if (*kth < cutoff_) {
          cutoff_ = *kth;
          result_.stopped_early = true;
          std::erase_if(pending_, [this](size_t p) { return p > cutoff_; });
        }
      }
    }
    result_.outcomes.push_back(std::move(out));
    outcome_positions_.push_back(position);
    Progress();
  }

  void ReapFinished() {
    for (size_t i = 0; i < running_.size();) {
      Running& r = running_[i];
      if (r.child.open()) {
        ++i;
        continue;
      }
      const ChildProcess::Exit exit = r.child.Wait();
      for (const std::string& line : r.child.TakeStdoutLines()) OnLine(r, line);
      if (exit.exited && exit.code == 2 && r.finished == 0 && !r.current) {
        result_.error = absl::StrCat("the simulator refused its arguments: ", r.child.stderr_tail());
        failed_to_start_ = true;
      }
      if (r.current && !r.discarded && *r.current <= cutoff_) {
        // The process died inside this seed: a failure of its own.
        SeedOutcome out;
        out.seed = o_.seeds[*r.current];
        out.crashed = true;
        out.stderr_tail = r.child.stderr_tail();
        out.wall = absl::Now() - r.current_started;
        if (r.timed_out) {
          out.signature = absl::StrCat("timeout | seed ran longer than ",
                                       absl::FormatDuration(o_.seed_timeout), " | -");
          out.message = "TIMEOUT: killed after " + absl::FormatDuration(o_.seed_timeout);
        } else {
          out.signature = CrashSignature(out.stderr_tail, DescribeExit(exit));
          out.message = absl::StrCat("CRASH (", DescribeExit(exit), "): ", LastLine(out.stderr_tail));
        }
        Finish(*r.current, std::move(out));
        ++r.finished;
      }
      // Seeds of the batch never reached go back to the queue (unless the sweep is stopping).
      for (size_t k = r.batch.size(); k > r.finished; --k) {
        if (r.batch[k - 1] <= cutoff_ && !failed_to_start_) pending_.push_front(r.batch[k - 1]);
      }
      running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  static std::string LastLine(const std::string& text) {
    std::string t = text;
    while (!t.empty() && t.back() == '\n') t.pop_back();
    const size_t nl = t.rfind('\n');
    return nl == std::string::npos ? t : t.substr(nl + 1);
  }

  void Progress() {
    last_progress_ = absl::Now();
    if (!o_.on_progress) return;
    farm::Progress p;
    p.done = result_.outcomes.size();
    p.total = o_.seeds.size();
    p.failed = failing_positions_.size();
    p.groups = signatures_.size();
    p.elapsed = absl::Now() - start_;
    o_.on_progress(p);
  }

  const SweepOptions& o_;
  int jobs_ = 1;
  int per_process_ = 1;
  std::deque<size_t> pending_;
  std::vector<Running> running_;
  size_t cutoff_ = kNoPosition;  // positions beyond it are not run (stop_after_failures)
  absl::btree_set<size_t> failing_positions_;
  std::vector<size_t> outcome_positions_;  // of result_.outcomes, index for index
  absl::btree_set<std::string> signatures_;
  bool failed_to_start_ = false;
  absl::Time start_, last_progress_;
  SweepResult result_;
};

}  // namespace

SweepResult RunSweep(const SweepOptions& options) {
  if (!Exists(options.sim_binary)) {
    SweepResult r;
    r.error = absl::StrCat("no simulator binary at '", options.sim_binary, "'");
    return r;
  }
  signal(SIGPIPE, SIG_IGN);
  return Sweeper(options).Run();
}

std::vector<uint64_t> ConsecutiveSeeds(uint64_t first, uint64_t count) {
  std::vector<uint64_t> seeds;
  for (uint64_t i = 0; i < count; ++i) seeds.push_back(first + i);
  return seeds;
}

std::vector<uint64_t> FreshSeeds(uint64_t count) {
  std::random_device device;
  std::mt19937_64 mix((static_cast<uint64_t>(device()) << 32) ^ device());
  absl::btree_set<uint64_t> seen;
  std::vector<uint64_t> seeds;
  while (seeds.size() < count) {
    const uint64_t seed = mix();
    if (seen.insert(seed).second) seeds.push_back(seed);
  }
  return seeds;
}

std::string FindSimBinary(const std::string& argv0, const std::string& flag) {
  if (!flag.empty()) return Exists(flag) ? flag : "";
  std::vector<std::string> candidates = {argv0 + ".runfiles/crema/tools/sim"};
  if (const char* dir = std::getenv("RUNFILES_DIR")) {
    candidates.push_back(absl::StrCat(dir, "/crema/tools/sim"));
  }
  if (const char* dir = std::getenv("TEST_SRCDIR")) {
    candidates.push_back(absl::StrCat(dir, "/crema/tools/sim"));
  }
  candidates.push_back("tools/sim");
  if (const char* dir = std::getenv("BUILD_WORKSPACE_DIRECTORY")) {
    candidates.push_back(absl::StrCat(dir, "/bazel-bin/tools/sim"));
  }
  candidates.push_back("bazel-bin/tools/sim");
  for (const std::string& c : candidates) {
    if (Exists(c)) return c;
  }
  return "";
}

std::string CrashSignature(const std::string& stderr_tail, const std::string& exit_description) {
  // glibc: "prog: file.cc:123: void f(): Assertion `x' failed."
  static const std::regex kAssert(R"(([^ :]+):([0-9]+): [^\n]*Assertion `([^\n]*)' failed)");
  std::smatch m;
  if (std::regex_search(stderr_tail, m, kAssert)) {
    return absl::StrCat("crash | assertion `", sim::NormaliseSignaturePart(m[3].str()), "` | ",
                        sim::NormaliseSignaturePart(m[1].str()));
  }
  return absl::StrCat("crash | ", sim::NormaliseSignaturePart(exit_description), " | -");
}

}  // namespace crema::farm
