#include "consensus/message.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace crema::raft {

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kVote: return "MsgVote";
    case MessageType::kVoteResp: return "MsgVoteResp";
    case MessageType::kPreVote: return "MsgPreVote";
    case MessageType::kPreVoteResp: return "MsgPreVoteResp";
    case MessageType::kApp: return "MsgApp";
    case MessageType::kAppResp: return "MsgAppResp";
    case MessageType::kHeartbeat: return "MsgHeartbeat";
    case MessageType::kHeartbeatResp: return "MsgHeartbeatResp";
    case MessageType::kSnap: return "MsgSnap";
    case MessageType::kSnapResp: return "MsgSnapResp";
    case MessageType::kReadIndex: return "MsgReadIndex";
    case MessageType::kReadIndexResp: return "MsgReadIndexResp";
    case MessageType::kTimeoutNow: return "MsgTimeoutNow";
    case MessageType::kTransferLeader: return "MsgTransferLeader";
    case MessageType::kProp: return "MsgProp";
  }
  return "MsgUnknown";
}

std::string FormatEntry(const Entry& e) {
  std::string s = absl::StrCat(e.term, "/", e.index);
  if (e.type == EntryType::kConfChange) {
    absl::StrAppend(&s, " conf");
  } else if (e.data.empty()) {
    absl::StrAppend(&s, " noop");
  } else {
    absl::StrAppend(&s, " '", e.data.size() <= 32 ? e.data : e.data.substr(0, 32) + "...", "'");
  }
  return s;
}

std::string FormatMessage(const Message& m) {
  std::string s = absl::StrCat(m.from, "->", m.to, " ", MessageTypeName(m.type), " term=", m.term);
  switch (m.type) {
    case MessageType::kVote:
    case MessageType::kPreVote:
      absl::StrAppend(&s, " last=", m.log_term, "/", m.index);
      if (m.leader_transfer) absl::StrAppend(&s, " transfer");
      break;
    case MessageType::kVoteResp:
    case MessageType::kPreVoteResp:
      absl::StrAppend(&s, m.reject ? " rejected" : " granted");
      break;
    case MessageType::kApp:
    case MessageType::kProp: {
      if (m.type == MessageType::kApp) {
        absl::StrAppend(&s, " prev=", m.log_term, "/", m.index, " commit=", m.commit);
      }
      std::vector<std::string> es;
      for (const Entry& e : m.entries) es.push_back(FormatEntry(e));
      absl::StrAppend(&s, " entries=[", absl::StrJoin(es, ", "), "]");
      break;
    }
    case MessageType::kAppResp:
      if (m.reject) {
        absl::StrAppend(&s, " reject index=", m.index, " hint=", m.log_term, "/", m.reject_hint);
      } else {
        absl::StrAppend(&s, " index=", m.index);
      }
      break;
    case MessageType::kHeartbeat:
      absl::StrAppend(&s, " commit=", m.commit, " round=", m.round, m.quiesce ? " quiesce" : "");
      break;
    case MessageType::kHeartbeatResp:
      absl::StrAppend(&s, " round=", m.round);
      break;
    case MessageType::kSnap:
      if (m.snapshot) {
        absl::StrAppend(&s, " snapshot=", m.snapshot->term, "/", m.snapshot->index);
      }
      break;
    case MessageType::kSnapResp:
      absl::StrAppend(&s, " offset=", m.snapshot_offset);
      break;
    case MessageType::kReadIndex:
      absl::StrAppend(&s, " ctx=", m.context);
      break;
    case MessageType::kReadIndexResp:
      absl::StrAppend(&s, " ctx=", m.context, m.reject ? " rejected" : "",
                      m.reject ? "" : absl::StrCat(" index=", m.index));
      break;
    case MessageType::kTransferLeader:
      absl::StrAppend(&s, " target=", m.index);
      break;
    case MessageType::kTimeoutNow:
      break;
  }
  return s;
}

}  // namespace crema::raft
