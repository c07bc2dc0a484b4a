#include "node/membership/types.h"

namespace crema::membership {

std::string_view MemberStateName(MemberState state) {
  switch (state) {
    case MemberState::kAlive:
      return "alive";
    case MemberState::kSuspect:
      return "suspect";
    case MemberState::kDead:
      return "dead";
    case MemberState::kLeft:
      return "left";
  }
  return "invalid";
}

std::string_view MembershipEventKindName(MembershipEventKind kind) {
  switch (kind) {
    case MembershipEventKind::kJoined:
      return "joined";
    case MembershipEventKind::kSuspected:
      return "suspected";
    case MembershipEventKind::kAliveAgain:
      return "alive-again";
    case MembershipEventKind::kDead:
      return "dead";
    case MembershipEventKind::kLeft:
      return "left";
    case MembershipEventKind::kUpdated:
      return "updated";
  }
  return "invalid";
}

}  // namespace crema::membership
