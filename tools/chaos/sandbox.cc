#include "tools/chaos/sandbox.h"

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "chaos/real/real_plan.h"
#include "tools/chaos/proc.h"

namespace crema::chaos_tool {
namespace {

namespace fs = std::filesystem;

constexpr int kFirstSubnet = 250;  // 10.250.X.0/24 for X in [0, 250)

bool PidAlive(long pid) { return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM; }

}  // namespace

Sandbox::Sandbox(SandboxOptions options)
    : options_(std::move(options)), tag_(absl::StrCat("cc", getpid())) {}

Sandbox::~Sandbox() { Teardown(); }

std::string Sandbox::netns(int slot) const { return absl::StrCat(tag_, "n", slot); }
std::string Sandbox::ip(int slot) const { return absl::StrCat("10.", kFirstSubnet, ".", subnet_, ".", slot); }
std::string Sandbox::host_ip() const { return absl::StrCat("10.", kFirstSubnet, ".", subnet_, ".254"); }
std::string Sandbox::fs_dir(int slot) const { return absl::StrCat(slot_dir(slot), "/fs"); }
std::string Sandbox::slot_dir(int slot) const { return absl::StrCat(options_.workdir, "/n", slot); }

absl::Status Sandbox::Run(const std::vector<std::string>& argv, const std::string& what) {
  CommandResult r = RunCommand(argv, absl::Seconds(20));
  if (r.ok()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("sandbox: cannot ", what, " (", absl::StrJoin(argv, " "),
                                             "): exit ", r.exit_code, ": ", r.output));
}

void Sandbox::Record(const std::string& line) {
  std::ofstream(options_.workdir + "/sandbox.manifest", std::ios::app) << line << "\n";
}

absl::Status Sandbox::Create() {
  if (getuid() != 0) {
    return absl::PermissionDeniedError(
        "sandbox: needs root (network namespaces, iptables, tmpfs mounts)");
  }
  std::error_code ec;
  fs::create_directories(options_.workdir, ec);
  if (ec) return absl::UnavailableError("sandbox: cannot create " + options_.workdir);
  // A /24 no route of the host covers yet (another run, or the host's own networks).
  const CommandResult routes = RunCommand({"ip", "-4", "route", "show"});
  for (int x = getpid() % kFirstSubnet, tries = 0; tries < kFirstSubnet; ++tries, x = (x + 1) % kFirstSubnet) {
    if (routes.output.find(absl::StrCat("10.", kFirstSubnet, ".", x, ".")) == std::string::npos) {
      subnet_ = x;
      break;
    }
  }
  if (subnet_ < 0) return absl::UnavailableError("sandbox: no free 10.250.X.0/24 subnet");
  Record(absl::StrCat("pid ", getpid(), " tag ", tag_, " subnet 10.", kFirstSubnet, ".", subnet_, ".0/24"));
  const std::string bridge = tag_ + "b";
  absl::Status s = Run({"ip", "link", "add", bridge, "type", "bridge"}, "create the bridge");
  if (!s.ok()) return s;
  bridge_ = true;
  Record("bridge " + bridge);
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"ip", "addr", "add", host_ip() + "/24", "dev", bridge},
           {"ip", "link", "set", bridge, "up"}}) {
    if (s = Run(argv, "configure the bridge"); !s.ok()) return s;
  }
  for (int i = 1; i <= options_.slots; ++i) {
    const std::string ns = netns(i);
    const std::string veth = absl::StrCat(tag_, "v", i);
    const std::string peer = absl::StrCat(tag_, "p", i);
    if (s = Run({"ip", "netns", "add", ns}, "create a network namespace"); !s.ok()) return s;
    namespaces_.push_back(i);
    Record("netns " + ns);
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"ip", "link", "add", veth, "type", "veth", "peer", "name", peer},
             {"ip", "link", "set", peer, "netns", ns},
             {"ip", "link", "set", veth, "master", bridge},
             {"ip", "link", "set", veth, "up"},
             {"ip", "-n", ns, "link", "set", peer, "name", "eth0"},
             {"ip", "-n", ns, "addr", "add", ip(i) + "/24", "dev", "eth0"},
             {"ip", "-n", ns, "link", "set", "eth0", "up"},
             {"ip", "-n", ns, "link", "set", "lo", "up"}}) {
      if (s = Run(argv, "wire a namespace"); !s.ok()) return s;
    }
    for (std::vector<std::string> rule : chaos::RealPlanner::SetupRules()) {
      rule.insert(rule.begin(), {"ip", "netns", "exec", ns, "iptables"});
      if (s = Run(rule, "set up iptables chains"); !s.ok()) return s;
    }
    fs::create_directories(fs_dir(i), ec);
    if (ec) return absl::UnavailableError("sandbox: cannot create " + fs_dir(i));
    if (s = Run({"mount", "-t", "tmpfs", "-o", absl::StrCat("size=", options_.disk_bytes), "tmpfs",
                 fs_dir(i)},
                "mount a size-limited tmpfs");
        !s.ok()) {
      return s;
    }
    mounts_.push_back(i);
    Record("mount " + fs_dir(i));
  }
  // The host must reach every node before the run starts.
  for (int i = 1; i <= options_.slots; ++i) {
    if (s = Run({"ping", "-c", "1", "-W", "2", ip(i)}, "reach a node's address"); !s.ok()) {
      // ping may be missing; the cluster's readiness check will tell instead.
      if (RunCommand({"sh", "-c", "command -v ping"}).ok()) return s;
    }
  }
  return absl::OkStatus();
}

void Sandbox::Teardown() {
  for (int i : mounts_) {
    if (umount2(fs_dir(i).c_str(), 0) != 0) umount2(fs_dir(i).c_str(), MNT_DETACH);
  }
  mounts_.clear();
  for (int i : namespaces_) (void)RunCommand({"ip", "netns", "del", netns(i)});
  namespaces_.clear();
  if (bridge_) (void)RunCommand({"ip", "link", "del", tag_ + "b"});
  bridge_ = false;
  if (!options_.keep_workdir && !options_.workdir.empty()) {
    std::error_code ec;
    fs::remove_all(options_.workdir, ec);
  }
}

std::vector<std::string> Sandbox::CleanupStale(const std::string& base_dir) {
  std::vector<std::string> removed;
  const std::regex netns_re("^cc([0-9]+)n[0-9]+$");
  const std::regex link_re("^[0-9]+: (cc([0-9]+)b)[:@]");
  for (absl::string_view line : absl::StrSplit(RunCommand({"ip", "netns", "list"}).output, '\n')) {
    const std::string name(line.substr(0, line.find(' ')));
    std::smatch m;
    if (std::regex_match(name, m, netns_re) && !PidAlive(std::stol(m[1]))) {
      // Processes still inside (a server of a harness killed before it could end them) go first:
      // a deleted namespace lives on as long as something runs in it.
      for (absl::string_view p : absl::StrSplit(RunCommand({"ip", "netns", "pids", name}).output, '\n')) {
        int64_t pid = 0;
        if (absl::SimpleAtoi(p, &pid) && pid > 1) {
          kill(static_cast<pid_t>(pid), SIGKILL);
          removed.push_back(absl::StrCat("process ", pid));
        }
      }
      (void)RunCommand({"ip", "netns", "del", name});
      removed.push_back("netns " + name);
    }
  }
  for (absl::string_view line : absl::StrSplit(RunCommand({"ip", "-o", "link", "show"}).output, '\n')) {
    const std::string text(line);
    std::smatch m;
    if (std::regex_search(text, m, link_re) && !PidAlive(std::stol(m[2]))) {
      (void)RunCommand({"ip", "link", "del", m[1]});
      removed.push_back("bridge " + std::string(m[1]));
    }
  }
  // Run directories are named after the harness pid: <base>/<pid>.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(base_dir, ec)) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (PidAlive(std::stol(name))) continue;
    std::ifstream mounts("/proc/mounts");
    std::string dev, point, rest;
    while (mounts >> dev >> point && std::getline(mounts, rest)) {
      if (point.rfind(entry.path().string() + "/", 0) == 0) {
        umount2(point.c_str(), MNT_DETACH);
        removed.push_back("mount " + point);
      }
    }
    fs::remove_all(entry.path(), ec);
    removed.push_back("dir " + entry.path().string());
  }
  return removed;
}

}  // namespace crema::chaos_tool
