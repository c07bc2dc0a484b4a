// A small interpreter for Raft scenario scripts with golden output (consensus/testdata/*.txt).
//
// A script is a sequence of lines:
//   # comment            kept as is
//   > command args...    a command; everything up to the next command/comment/blank line is
//                        its output, regenerated on every run and compared with the file
//
// Commands (ids are replica ids; config keys are optional):
//   add-nodes N voters=(1,2,3) [learners=(4)] [join] [pre-vote=false] [check-quorum=false]
//       [lease=true] [drift-ms=50] [max-inflight=N] [max-entries=N] [keep=N] [follower-keep=N]
//       [seed=N] [quiesce=true] [max-reads=N]
//       (follower-keep is Config::compaction_follower_keep_entries: 0 in scripts unless given)
//   campaign ID                  tick ID [N]            tick-heartbeat ID     tick-election ID
//   propose ID DATA [N]          propose-conf-change ID add-voter|add-learner|remove REPLICA
//   read-index ID CTX            transfer-leader ID TARGET
//   process-ready ID...          deliver-msgs [ID...]   drop-msgs [ID...]     msgs
//   deliver-msg I                drop-msg I             (the I-th in-flight message, 0-based,
//                                                        as `msgs` lists them)
//   stabilize                    partition 1 2 / 3      isolate ID            heal
//   compact ID INDEX             restart ID             sleep ID MS           report-unreachable ID TO
//   unquiesce ID                 report-peer-down ID PEER
//   status [ID...]               log [ID...]
// After every command the five Raft invariants are checked; a violation is printed.
#ifndef CREMA_CONSENSUS_TESTING_SCENARIO_H_
#define CREMA_CONSENSUS_TESTING_SCENARIO_H_

#include <string>
#include <string_view>

namespace crema::raft::testing {

// Runs `script` and returns it with every command's output regenerated.
std::string RunScenario(std::string_view script);

}  // namespace crema::raft::testing

#endif  // CREMA_CONSENSUS_TESTING_SCENARIO_H_
