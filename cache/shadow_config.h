// The shape of a W-TinyLFU configuration that the policy shadows compare and LocalCache adopts
// (see policy_shadows.h for what each knob means), and the constants shadows and cache share.
#ifndef CREMA_CACHE_SHADOW_CONFIG_H_
#define CREMA_CACHE_SHADOW_CONFIG_H_

#include <cstdint>

namespace crema::cache {

enum class WindowHit : uint8_t { kStay, kToProtected, kToProbation };

struct PolicyConfig {
  WindowHit window_hit = WindowHit::kStay;
  bool repeat_to_front = false;
  int32_t window_permille = 10;

  bool operator==(const PolicyConfig&) const = default;
};

// Percent of the main space given to its protected segment (the real cache uses the same).
inline constexpr int64_t kProtectedPercent = 80;
// A key the sketch has seen this often counts as met before (PolicyConfig::repeat_to_front).
inline constexpr int kRepeatFrequency = 2;

}  // namespace crema::cache

#endif  // CREMA_CACHE_SHADOW_CONFIG_H_
