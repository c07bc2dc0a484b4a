// Sandbox: the machine resources one chaos run creates, and their removal.
//
// For N slots (one per node process) it creates, all named after the harness's pid (tag "cc<pid>"):
//   * a Linux bridge "cc<pid>b" with the host's address 10.250.X.254/24 on it (X picked so no
//     route of the host already covers the subnet). Nothing routes beyond it: no default route in
//     the namespaces, no forwarding or NAT — packets never leave the machine;
//   * per slot i: a network namespace "cc<pid>n<i>" with loopback and eth0 = 10.250.X.i/24 (a veth
//     pair "cc<pid>v<i>" enslaved to the bridge), and the chaos iptables chains
//     (chaos/real/real_plan.h) hooked into INPUT;
//   * per slot: a tmpfs of `disk_bytes` mounted at <workdir>/n<i>/fs (the node's data directory
//     lives inside, so "disk full" is real ENOSPC).
// Teardown() removes all of it (idempotent); the destructor calls it. A record of what exists is
// kept in <workdir>/sandbox.manifest; CleanupStale() removes leftovers of runs whose harness died
// (pid gone) — namespaces, bridges and mounts matching the naming scheme only.
//
// Thread safety: one thread (the harness's main thread).
#ifndef CREMA_TOOLS_CHAOS_SANDBOX_H_
#define CREMA_TOOLS_CHAOS_SANDBOX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace crema::chaos_tool {

struct SandboxOptions {
  int slots = 5;
  std::string workdir;                    // created if missing; removed at teardown unless keep
  int64_t disk_bytes = 256ll << 20;       // per slot
  bool keep_workdir = false;
};

class Sandbox {
 public:
  explicit Sandbox(SandboxOptions options);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Creates everything; on error, removes what it made and says what failed.
  absl::Status Create();
  void Teardown();

  // Slot i in 1..slots.
  std::string netns(int slot) const;
  std::string netns_path(int slot) const { return "/run/netns/" + netns(slot); }
  std::string ip(int slot) const;
  std::string host_ip() const;
  std::string fs_dir(int slot) const;      // the tmpfs mount point
  std::string slot_dir(int slot) const;    // logs, faketime file (not on the tmpfs)
  const std::string& workdir() const { return options_.workdir; }
  int slots() const { return options_.slots; }

  // Removes leftovers of dead harness runs (see the file comment). Returns what it removed.
  static std::vector<std::string> CleanupStale(const std::string& base_dir);

 private:
  absl::Status Run(const std::vector<std::string>& argv, const std::string& what);
  void Record(const std::string& line);

  SandboxOptions options_;
  std::string tag_;
  int subnet_ = -1;
  bool bridge_ = false;
  std::vector<int> namespaces_;
  std::vector<int> mounts_;
};

}  // namespace crema::chaos_tool

#endif  // CREMA_TOOLS_CHAOS_SANDBOX_H_
