#include "tools/trace_viewer/run_model.h"

#include <algorithm>
#include <fstream>
#include <regex>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace crema::trace_viewer {
namespace {

using nlohmann::json;

// "#<n>" anywhere (the last one) in `text`; 0 if none.
uint64_t HashId(const std::string& text) {
  const size_t hash = text.rfind('#');
  if (hash == std::string::npos) return 0;
  size_t end = hash + 1;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  uint64_t id = 0;
  return absl::SimpleAtoi(text.substr(hash + 1, end - hash - 1), &id) ? id : 0;
}

// "id=<n> rest" -> (n, rest).
std::pair<uint64_t, std::string> OpDetail(const std::string& text) {
  static const std::regex kOp(R"(id=([0-9]+) ?(.*))");
  std::smatch m;
  uint64_t id = 0;
  if (!std::regex_match(text, m, kOp) || !absl::SimpleAtoi(m[1].str(), &id)) return {0, text};
  return {id, m[2].str()};
}

std::vector<std::pair<NodeId, NodeId>> Links(const std::string& text) {
  static const std::regex kLink(R"(([0-9]+)>([0-9]+))");
  std::vector<std::pair<NodeId, NodeId>> links;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kLink); it != std::sregex_iterator();
       ++it) {
    uint32_t a = 0, b = 0;
    if (absl::SimpleAtoi((*it)[1].str(), &a) && absl::SimpleAtoi((*it)[2].str(), &b)) {
      links.emplace_back(a, b);
    }
  }
  return links;
}

class Builder {
 public:
  RunModel Build(const std::vector<sim::TraceEvent>& events) {
    for (const sim::TraceEvent& e : events) {
      m_.end_ns = std::max(m_.end_ns, e.time_ns);
      ++m_.events;
      if (e.node != kNoNode) nodes_.insert(e.node);
      if (!Handle(e)) ++m_.unknown_events;
    }
    Close();
    for (NodeId n : nodes_) m_.lanes.push_back({n, clients_.contains(n)});
    return std::move(m_);
  }

 private:
  bool Handle(const sim::TraceEvent& e) {
    const std::string& k = e.kind;
    const int64_t t = e.time_ns;
    if (k == "net.send") return Send(e);
    if (k == "net.deliver") {
      auto it = sent_.find(HashId(e.detail));
      if (it == sent_.end()) return false;
      Arrow a = m_.arrows[it->second];
      if (a.deliver_ns < 0) {
        m_.arrows[it->second].deliver_ns = t;  // first delivery
      } else {
        a.deliver_ns = t;  // a duplicate: another arrow
        m_.arrows.push_back(a);
      }
      return true;
    }
    if (k == "net.drop") {
      auto it = sent_.find(HashId(e.detail));
      if (it == sent_.end()) return false;
      const size_t last_space = e.detail.rfind(' ');
      m_.arrows[it->second].dropped = last_space == std::string::npos ? "dropped" : e.detail.substr(last_space + 1);
      m_.arrows[it->second].deliver_ns = t;
      return true;
    }
    if (k == "node.add") return Open(e.node, "down", t, "not started"), true;
    if (k == "node.start") {
      CloseKind(e.node, "down", t);
      if (e.detail != "incarnation=1") Mark(e.node, t, "restart", "restarted, " + e.detail);
      return true;
    }
    if (k == "node.crash") {
      CloseAll(e.node, t);
      Open(e.node, "down", t, "crashed");
      Mark(e.node, t, "crash", "crashed (" + e.detail + ")");
      return true;
    }
    if (k == "node.amnesia") return Relabel(e.node, "down", "crashed, disk wiped"), true;
    if (k == "node.pause") return Open(e.node, "paused", t, "paused"), true;
    if (k == "node.resume") return CloseKind(e.node, "paused", t), true;
    if (k == "net.partition") {
      ClosePartition(t);
      partition_ = LinkSpan{t, t, e.detail.substr(0, e.detail.find(':')), Links(e.detail)};
      partition_open_ = true;
      return true;
    }
    if (k == "net.heal") return ClosePartition(t), true;
    if (k == "net.clog" || k == "net.unclog") {
      const auto links = Links(e.detail);
      if (links.empty()) return false;
      if (k == "net.clog") {
        clogs_[links[0]] = t;
      } else if (auto it = clogs_.find(links[0]); it != clogs_.end()) {
        m_.clogs.push_back(LinkSpan{it->second, t, "", {links[0]}});
        clogs_.erase(it);
      }
      return true;
    }
    if (k == "clock.step") return Mark(e.node, t, "clock", "wall clock stepped " + e.detail), true;
    if (k.rfind("disk.", 0) == 0) return Mark(e.node, t, "disk", k.substr(5) + " " + e.detail), true;
    if (k == "app.raft.role") return Role(e), true;
    if (k == "app.op.invoke" || k == "app.op.return") return Op(e), true;
    if (k == "scenario.phase") return Mark(kNoNode, t, "phase", e.detail), true;
    if (k == "scenario.violation" || k == "app.violation") {
      Mark(e.node, t, "violation", e.detail);
      static const std::regex kOpRef(R"(op=([0-9]+))");
      std::smatch m;
      uint64_t id = 0;
      if (std::regex_search(e.detail, m, kOpRef) && absl::SimpleAtoi(m[1].str(), &id)) {
        m_.violating_ops.push_back(id);
      }
      return true;
    }
    if (k == "scenario.fail") {
      Mark(kNoNode, t, "fail", e.detail);
      verdict_ = "FAIL: " + e.detail.substr(0, e.detail.find(" :: "));
      return true;
    }
    if (k == "sim.start") return seed_ = e.detail, true;
    // Known, not drawn: loop callbacks, fault and nemesis bookkeeping, node events without a
    // picture, and the scenario drivers' own timed callbacks (cache.*: the cache workload's
    // clients, watchdogs and admin plan; kvsim.*: raft-kv's membership driver).
    for (const char* prefix : {"loop.", "fault.", "nemesis.", "app.", "scenario.", "net.", "cache.",
                               "kvsim."}) {
      if (k.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }

  bool Send(const sim::TraceEvent& e) {
    // "a>b s<svc> <n>B <digest> #<id>"
    static const std::regex kSend(R"(([0-9]+)>([0-9]+) s([0-9]+) ([0-9]+)B .*#([0-9]+))");
    std::smatch m;
    if (!std::regex_search(e.detail, m, kSend)) return false;
    Arrow a;
    a.send_ns = e.time_ns;
    absl::SimpleAtoi(m[1].str(), &a.from);
    absl::SimpleAtoi(m[2].str(), &a.to);
    absl::SimpleAtoi(m[3].str(), &a.service);
    absl::SimpleAtoi(m[4].str(), &a.bytes);
    absl::SimpleAtoi(m[5].str(), &a.id);
    nodes_.insert(a.to);
    sent_[a.id] = m_.arrows.size();
    m_.arrows.push_back(a);
    return true;
  }

  void Role(const sim::TraceEvent& e) {
    // "<group> <role> term=<t>"
    static const std::regex kRole(R"(([0-9]+) ([a-z-]+) term=([0-9]+))");
    std::smatch m;
    if (!std::regex_match(e.detail, m, kRole)) return;
    CloseKind(e.node, "role", e.time_ns);
    const std::string role = m[2].str();
    if (role == "follower") return;
    Open(e.node, role, e.time_ns, absl::StrCat("g", m[1].str(), " ", role, " term ", m[3].str()));
  }

  void Op(const sim::TraceEvent& e) {
    clients_.insert(e.node);
    auto [id, text] = OpDetail(e.detail);
    const std::pair<NodeId, uint64_t> key{e.node, id};
    if (e.kind == "app.op.invoke") {
      open_ops_[key] = m_.ops.size();
      m_.ops.push_back(OpSpan{e.node, id, e.time_ns, -1, text, ""});
      return;
    }
    auto it = open_ops_.find(key);
    if (it == open_ops_.end()) return;
    m_.ops[it->second].end_ns = e.time_ns;
    m_.ops[it->second].result = text;
    open_ops_.erase(it);
  }

  void Mark(NodeId node, int64_t t, std::string kind, std::string text) {
    m_.marks.push_back({node, t, std::move(kind), std::move(text)});
  }

  // Intervals open per node: (kind -> index in m_.intervals). Roles share the key "role".
  void Open(NodeId node, const std::string& kind, int64_t t, std::string label) {
    const std::string key = kind == "down" || kind == "paused" ? kind : "role";
    CloseKind(node, key, t);
    open_[{node, key}] = m_.intervals.size();
    m_.intervals.push_back({node, t, t, kind, std::move(label)});
  }
  void CloseKind(NodeId node, const std::string& key, int64_t t) {
    auto it = open_.find({node, key});
    if (it == open_.end()) return;
    m_.intervals[it->second].end_ns = t;
    open_.erase(it);
  }
  void Relabel(NodeId node, const std::string& key, std::string label) {
    auto it = open_.find({node, key});
    if (it != open_.end()) m_.intervals[it->second].label = std::move(label);
  }
  void CloseAll(NodeId node, int64_t t) {
    for (const char* key : {"paused", "role"}) CloseKind(node, key, t);
  }
  void ClosePartition(int64_t t) {
    if (!partition_open_) return;
    partition_.end_ns = t;
    m_.partitions.push_back(partition_);
    partition_open_ = false;
  }
  void Close() {
    for (auto& [key, index] : open_) m_.intervals[index].end_ns = m_.end_ns;
    open_.clear();
    ClosePartition(m_.end_ns);
    for (const auto& [link, start] : clogs_) m_.clogs.push_back({start, m_.end_ns, "", {link}});
    // Zero-length "not started" intervals (nodes started at once) are noise.
    std::erase_if(m_.intervals, [](const Interval& i) { return i.end_ns <= i.start_ns; });
    m_.title = absl::StrCat(seed_.empty() ? "run" : seed_, verdict_.empty() ? "" : " — ", verdict_);
  }

  RunModel m_;
  absl::btree_set<NodeId> nodes_, clients_;
  absl::btree_map<uint64_t, size_t> sent_;
  absl::btree_map<std::pair<NodeId, std::string>, size_t> open_;
  absl::btree_map<std::pair<NodeId, uint64_t>, size_t> open_ops_;
  absl::btree_map<std::pair<NodeId, NodeId>, int64_t> clogs_;
  LinkSpan partition_;
  bool partition_open_ = false;
  std::string seed_, verdict_;
};

}  // namespace

RunModel BuildModel(const std::vector<sim::TraceEvent>& events) { return Builder().Build(events); }

absl::StatusOr<std::vector<sim::TraceEvent>> ReadTraceFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::vector<sim::TraceEvent> events;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    std::optional<sim::TraceEvent> e = sim::ParseTraceLine(line);
    if (!e) return absl::InvalidArgumentError(absl::StrCat(path, ":", n, ": not a trace line"));
    events.push_back(*std::move(e));
  }
  return events;
}

std::string ModelJson(const RunModel& m) {
  json lanes = json::array(), arrows = json::array(), intervals = json::array(),
       marks = json::array(), ops = json::array(), partitions = json::array(), clogs = json::array();
  for (const Lane& l : m.lanes) lanes.push_back({l.node, l.client ? 1 : 0});
  for (const Arrow& a : m.arrows) {
    arrows.push_back({a.send_ns, a.deliver_ns, a.from, a.to, a.service, a.id, a.bytes, a.dropped});
  }
  for (const Interval& i : m.intervals) {
    intervals.push_back({i.node, i.start_ns, i.end_ns, i.kind, i.label});
  }
  for (const struct Mark& k : m.marks) marks.push_back({k.node, k.t_ns, k.kind, k.text});
  for (const OpSpan& o : m.ops) ops.push_back({o.node, o.id, o.start_ns, o.end_ns, o.what, o.result});
  auto spans = [](const std::vector<LinkSpan>& from, json& to) {
    for (const LinkSpan& s : from) {
      json links = json::array();
      for (const auto& [a, b] : s.links) links.push_back({a, b});
      to.push_back({s.start_ns, s.end_ns, s.text, links});
    }
  };
  spans(m.partitions, partitions);
  spans(m.clogs, clogs);
  const json j = {{"title", m.title},   {"end", m.end_ns},         {"events", m.events},
                  {"lanes", lanes},     {"arrows", arrows},        {"intervals", intervals},
                  {"marks", marks},     {"ops", ops},              {"partitions", partitions},
                  {"clogs", clogs},     {"violatingOps", m.violating_ops}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace crema::trace_viewer
