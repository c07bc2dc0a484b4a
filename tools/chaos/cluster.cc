#include "tools/chaos/cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/chaos/proc.h"
#include "tools/chaos/resp_conn.h"

namespace crema::chaos_tool {
namespace {

namespace fs = std::filesystem;

std::string RandomHex(size_t bytes) {
  std::random_device rd;
  std::string out;
  for (size_t i = 0; i < bytes; ++i) absl::StrAppend(&out, absl::Hex(rd() & 0xff, absl::kZeroPad2));
  return out;
}

absl::Status WriteSecretFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text << "\n";
  if (!out) return absl::UnavailableError("cannot write " + path);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  return absl::OkStatus();
}

// Looks up `key` in a RESP2-flattened map.
const resp::RespValue* Field(const resp::RespValue& map, std::string_view key) {
  for (size_t i = 0; i + 1 < map.elements.size(); i += 2) {
    if (map.elements[i].str == key) return &map.elements[i + 1];
  }
  return nullptr;
}

}  // namespace

RealCluster::RealCluster(Sandbox* sandbox, ClusterOptions options)
    : sandbox_(sandbox), options_(std::move(options)) {
  slots_.resize(static_cast<size_t>(sandbox_->slots()));
  offsets_.assign(slots_.size(), absl::ZeroDuration());
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].id = static_cast<NodeId>(i + 1);
    known_[slots_[i].id] = static_cast<int>(i + 1);
  }
  options_.rate_ppm.resize(slots_.size(), 0);
}

RealCluster::~RealCluster() {
  for (int s = 1; s <= static_cast<int>(slots_.size()); ++s) {
    if (slots_[s - 1].pid > 0) {
      kill(slots_[s - 1].pid, SIGCONT);
      kill(slots_[s - 1].pid, SIGKILL);
      WaitExit(slots_[s - 1].pid, absl::Seconds(5));
      slots_[s - 1].pid = -1;
    }
  }
}

int RealCluster::SlotOf(NodeId id) const {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].id == id) return static_cast<int>(i + 1);
  }
  return 0;
}

std::vector<Endpoint> RealCluster::Endpoints() const {
  std::lock_guard<std::mutex> lock(endpoints_mu_);
  return endpoints_;
}

std::vector<std::string> RealCluster::Flags(int slot) const {
  const Slot& s = slots_[slot - 1];
  std::vector<std::string> peers, founders, seeds;
  // Every id ever used stays in --peers (a founder restarted after a wipe-and-rejoin still names
  // the removed founder in --bootstrap, which must have an address).
  for (const auto& [known, at] : known_) {
    peers.push_back(absl::StrCat(known, "=", sandbox_->ip(at), ":", kPeerPort));
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    const int other = static_cast<int>(i + 1);
    founders.push_back(absl::StrCat(i + 1));
    if (other != slot) seeds.push_back(absl::StrCat(slots_[i].id));
  }
  const std::string ip = sandbox_->ip(slot);
  std::vector<std::string> flags = {
      options_.server_bin,
      absl::StrCat("--node_id=", s.id),
      absl::StrCat("--peer_address=", ip, ":", kPeerPort),
      absl::StrCat("--resp_address=", ip, ":", kRespPort),
      absl::StrCat("--http_address=", ip, ":", kHttpPort),
      "--data_dir=" + DataDir(slot),
      "--peers=" + absl::StrJoin(peers, ","),
      "--seeds=" + absl::StrJoin(seeds, ","),
      // Founders keep their list for life (it is ignored once a node has state); a rejoined node
      // has none: it joins through the seeds and waits to be admitted.
      "--bootstrap=" + (s.founder ? absl::StrJoin(founders, ",") : std::string()),
      absl::StrCat("--shards=", options_.shards),
      "--replication_factor=3",
      "--capacity=10000000",
      "--cluster_secret_file=" + secret_file_,
      "--admin_token_file=" + token_file_,
      "--log_file=" + s.log,
      "--log_level=debug",  // node events (Raft roles, replica lifecycle) for failure reports
      "--request_timeout=" + absl::FormatDuration(options_.request_timeout),
      "--shutdown_timeout=5s",
  };
  if (!options_.plant.empty()) flags.push_back("--testonly_plant=" + options_.plant);
  return flags;
}

std::vector<std::string> FakeClockEnvironment(const std::string& clock_file,
                                              const std::string& timer_shim) {
  return {
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
      absl::StrCat("LD_PRELOAD=", timer_shim, ":", kFaketimeLib),
      "FAKETIME_TIMESTAMP_FILE=" + clock_file,
      "FAKETIME_CACHE_DURATION=1",
      "FAKETIME_DONT_FAKE_MONOTONIC=1",
      "FAKETIME_DONT_RESET=1",
  };
}

absl::Status WriteFakeClock(const std::string& path, absl::Duration offset, int rate_ppm) {
  const std::string tmp = path + ".tmp";
  const double seconds = absl::ToDoubleSeconds(offset);
  const double rate = 1.0 + rate_ppm / 1e6;
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << (seconds >= 0 ? "+" : "") << absl::StrFormat("%.6f x%.6f", seconds, rate) << "\n";
    if (!out) return absl::UnavailableError("cannot write " + tmp);
  }
  // rename: libfaketime never reads a half-written file.
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  return absl::OkStatus();
}

std::vector<std::string> RealCluster::Env(int slot) const {
  return FakeClockEnvironment(sandbox_->slot_dir(slot) + "/faketime", options_.timer_shim);
}

absl::Status RealCluster::WriteClockFile(int slot) {
  return WriteFakeClock(sandbox_->slot_dir(slot) + "/faketime", offsets_[slot - 1],
                        options_.rate_ppm[slot - 1]);
}

absl::Status RealCluster::Start(absl::Duration bound) {
  if (access(kFaketimeLib, R_OK) != 0) {
    return absl::FailedPreconditionError(std::string(kFaketimeLib) +
                                         " is missing (Debian package libfaketime; "
                                         "tools/install_deps.sh installs it)");
  }
  if (access(options_.timer_shim.c_str(), R_OK) != 0) {
    return absl::FailedPreconditionError("no timer shim at " + options_.timer_shim +
                                         " (tools/chaos:libtimerfd_passthrough.so)");
  }
  if (access(options_.server_bin.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError("no server binary at " + options_.server_bin);
  }
  secret_file_ = sandbox_->workdir() + "/secret";
  token_file_ = sandbox_->workdir() + "/admin_token";
  admin_token_ = RandomHex(16);
  if (auto s = WriteSecretFile(secret_file_, RandomHex(24)); !s.ok()) return s;
  if (auto s = WriteSecretFile(token_file_, admin_token_); !s.ok()) return s;
  for (int slot = 1; slot <= static_cast<int>(slots_.size()); ++slot) {
    std::error_code ec;
    fs::create_directories(DataDir(slot), ec);
    slots_[slot - 1].log = absl::StrCat(sandbox_->slot_dir(slot), "/node", slots_[slot - 1].id, ".log");
    if (auto s = StartNode(slot); !s.ok()) return s;
  }
  const int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(bound);
  for (int slot = 1; slot <= static_cast<int>(slots_.size()); ++slot) {
    absl::Status last = absl::DeadlineExceededError("not tried");
    while (MonotonicNanos() < deadline) {
      if (!running(slot)) {
        return absl::UnavailableError(absl::StrCat("node ", id(slot), " exited at start:\n",
                                                   LogTail(slot, 20)));
      }
      last = Probe(slot, absl::Seconds(3));
      if (last.ok()) break;
      Nap(absl::Milliseconds(300));
    }
    if (!last.ok()) {
      return absl::DeadlineExceededError(absl::StrCat("node ", id(slot), " does not serve within ",
                                                      absl::FormatDuration(bound), ": ",
                                                      last.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status RealCluster::StartNode(int slot) {
  Slot& s = slots_[slot - 1];
  if (s.pid > 0 && Alive(s.pid)) return absl::FailedPreconditionError("already running");
  if (auto st = WriteClockFile(slot); !st.ok()) return st;
  absl::StatusOr<pid_t> pid =
      SpawnInNetns(sandbox_->netns_path(slot), Flags(slot), Env(slot),
                   absl::StrCat(sandbox_->slot_dir(slot), "/node", s.id, ".out"));
  if (!pid.ok()) return pid.status();
  s.pid = *pid;
  std::lock_guard<std::mutex> lock(endpoints_mu_);
  endpoints_.clear();
  for (size_t i = 0; i < slots_.size(); ++i) {
    endpoints_.push_back({slots_[i].id, sandbox_->ip(static_cast<int>(i + 1)), kRespPort});
  }
  return absl::OkStatus();
}

bool RealCluster::running(int slot) const { return Alive(slots_[slot - 1].pid); }

void RealCluster::Signal(int slot, int signal) {
  Slot& s = slots_[slot - 1];
  if (s.pid <= 0) return;
  kill(s.pid, signal);
  if (signal == SIGKILL) {
    WaitExit(s.pid, absl::Seconds(10));
    s.pid = -1;
  }
}

void RealCluster::StopGracefully(int slot) {
  Slot& s = slots_[slot - 1];
  StopProcess(s.pid, absl::Seconds(10));
  s.pid = -1;
}

absl::Status RealCluster::SetClockOffset(int slot, absl::Duration offset) {
  offsets_[slot - 1] = offset;
  return WriteClockFile(slot);
}

absl::Status RealCluster::FillDisk(int slot) {
  // Write until ENOSPC (tmpfs has no fallocate-without-write shortcut that counts the same).
  const int fd = open(FillerPath(slot).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError(std::string("filler: ") + std::strerror(errno));
  static const std::string kChunk(1 << 20, 'f');
  int64_t written = 0;
  for (int64_t i = 0; i < (int64_t{16} << 10); ++i) {  // bounded: 16 GiB at most
    const ssize_t n = write(fd, kChunk.data(), kChunk.size());
    if (n <= 0) break;
    written += n;
  }
  // Squeeze out the last partial chunk too.
  for (int i = 0; i < 4096; ++i) {
    if (write(fd, kChunk.data(), 4096) <= 0) break;
  }
  close(fd);
  return written > 0 || errno == ENOSPC ? absl::OkStatus()
                                        : absl::UnavailableError("filler wrote nothing");
}

void RealCluster::FreeDisk(int slot) { std::remove(FillerPath(slot).c_str()); }

absl::Status RealCluster::WipeAndRejoin(int slot, NodeId new_id) {
  StopGracefully(slot);
  FreeDisk(slot);
  std::error_code ec;
  fs::remove_all(DataDir(slot), ec);
  fs::create_directories(DataDir(slot), ec);
  if (ec) return absl::UnavailableError("cannot recreate " + DataDir(slot));
  Slot& s = slots_[slot - 1];
  s.id = new_id;
  s.founder = false;
  known_[new_id] = slot;
  s.log = absl::StrCat(sandbox_->slot_dir(slot), "/node", new_id, ".log");
  return StartNode(slot);
}

absl::StatusOr<std::string> RealCluster::Admin(const std::vector<std::string>& args,
                                               absl::Duration timeout) const {
  std::string last = "no node to ask";
  for (const Endpoint& e : Endpoints()) {
    RespConn c(e.ip, kRespPort);
    c.SetPrelude({{"AUTH", "admin", admin_token_}});
    CallResult r = c.Call(args, timeout);
    if (r.reply && !r.reply->is_error()) return r.reply->str.empty() ? r.reply->DebugString() : r.reply->str;
    last = r.reply ? r.reply->str : r.error;
    // NOT_FOUND / precondition answers are final; try another node only for unavailability.
    if (r.reply && r.reply->str.rfind("CLUSTERDOWN", 0) != 0 && r.reply->str.rfind("TIMEOUT", 0) != 0) {
      break;
    }
  }
  return absl::UnavailableError(absl::StrJoin(args, " ") + ": " + last);
}

absl::StatusOr<int64_t> RealCluster::ReplicasOf(NodeId node) const {
  for (const Endpoint& e : Endpoints()) {
    RespConn c(e.ip, kRespPort);
    CallResult r = c.Call({"CREMA.STATUS"}, absl::Seconds(3));
    if (!r.reply || r.reply->is_error()) continue;
    const resp::RespValue* nodes = Field(*r.reply, "nodes");
    if (nodes == nullptr) continue;
    for (const resp::RespValue& n : nodes->elements) {
      const resp::RespValue* id = Field(n, "id");
      const resp::RespValue* replicas = Field(n, "replicas");
      if (id != nullptr && replicas != nullptr && id->integer == node) return replicas->integer;
    }
    return 0;  // not in the map any more
  }
  return absl::UnavailableError("CREMA.STATUS: no node answered");
}

absl::Status RealCluster::Probe(int slot, absl::Duration timeout) {
  RespConn c(sandbox_->ip(slot), kRespPort);
  c.SetPrelude({{"CREMA.CONSISTENCY", "linearizable"}});
  const std::string key = absl::StrCat("chaos-probe-", id(slot));
  const std::string value = absl::StrCat(MonotonicNanos());
  CallResult w = c.Call({"SET", key, value}, timeout);
  if (!w.reply || w.reply->is_error()) {
    return absl::UnavailableError("SET: " + (w.reply ? w.reply->str : w.error));
  }
  CallResult r = c.Call({"GET", key}, timeout);
  if (!r.reply || r.reply->is_error()) {
    return absl::UnavailableError("GET: " + (r.reply ? r.reply->str : r.error));
  }
  if (r.reply->str != value) return absl::InternalError("GET after SET read " + r.reply->DebugString());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ReplicaState>> RealCluster::Digests(absl::Duration timeout) {
  std::vector<ReplicaState> out;
  for (int slot = 1; slot <= static_cast<int>(slots_.size()); ++slot) {
    if (!running(slot)) return absl::UnavailableError(absl::StrCat("node ", id(slot), " is down"));
    RespConn c(sandbox_->ip(slot), kRespPort);
    c.SetPrelude({{"AUTH", "admin", admin_token_}});
    CallResult r = c.Call({"CREMA.DIGESTS"}, timeout);
    if (!r.reply || r.reply->is_error()) {
      return absl::UnavailableError(absl::StrCat("node ", id(slot), ": CREMA.DIGESTS: ",
                                                 r.reply ? r.reply->str : r.error));
    }
    for (const resp::RespValue& e : r.reply->elements) {
      if (e.elements.size() < 6) return absl::InternalError("CREMA.DIGESTS: malformed entry");
      out.push_back({.node = id(slot),
                     .group = static_cast<uint64_t>(e.elements[0].integer),
                     .replica = static_cast<uint64_t>(e.elements[1].integer),
                     .applied = static_cast<uint64_t>(e.elements[2].integer),
                     .commit = static_cast<uint64_t>(e.elements[3].integer),
                     .digest = e.elements[4].str,
                     .leader = e.elements[5].str == "leader",
                     .not_running = e.elements[5].str == "leader" || e.elements[5].str == "follower"
                                        ? ""
                                        : e.elements[5].str,
                     .raft_status = e.elements.size() > 6 ? e.elements[6].str : ""});
    }
  }
  return out;
}

namespace {

// The last `lines` lines of the file at `path` that `keep` accepts.
std::string LastLines(const std::string& path, size_t lines,
                      const std::function<bool(const std::string&)>& keep) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    if (!keep(line)) continue;
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  return absl::StrJoin(tail, "\n");
}

}  // namespace

std::string RealCluster::LogLinesAbout(int slot, const std::vector<uint64_t>& groups,
                                       size_t lines) const {
  std::vector<std::string> needles = {"level=warn", "level=error"};
  for (uint64_t g : groups) needles.push_back(absl::StrCat("detail=\"", g, " "));
  return LastLines(slots_[slot - 1].log, lines, [&](const std::string& line) {
    for (const std::string& n : needles) {
      if (absl::StrContains(line, n)) return true;
    }
    return false;
  });
}

std::string RealCluster::LogTail(int slot, size_t lines) const {
  return LastLines(slots_[slot - 1].log, lines, [](const std::string&) { return true; });
}

}  // namespace crema::chaos_tool
