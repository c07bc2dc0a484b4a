#include "cache/entry.h"

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <new>

namespace crema::cache::internal {
namespace {

constexpr size_t kMaxSize = 0xFFFFFFFFu;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "cache entry: %s\n", what);
  std::abort();
}

}  // namespace

Entry* Entry::Create(std::string_view key, std::string_view value, uint32_t weight,
                     Layout layout) {
  if (key.size() > kMaxSize || value.size() > kMaxSize) Fail("key or value of 4 GiB or more");
  const bool long_key = key.size() >= kLongKey;
  const size_t prefix = (layout.weight ? 4 : 0) + (long_key ? 4 : 0);
  const size_t timer_bytes = layout.timer ? sizeof(TimerBlock) : 0;
  const size_t bytes = timer_bytes + sizeof(Entry) + prefix + key.size() + value.size();
  char* base = static_cast<char*>(std::malloc(bytes));
  if (base == nullptr) throw std::bad_alloc();
  if (layout.timer) new (base) TimerBlock();
  Entry* e = new (base + timer_bytes) Entry();
  e->value_size_ = static_cast<uint32_t>(value.size());
  e->key_size_ = long_key ? kLongKey : static_cast<uint16_t>(key.size());
  e->flags_ = (layout.timer ? kHasTimer : 0) | (layout.weight ? kHasWeight : 0);
  char* data = e->Data();
  if (layout.weight) {
    std::memcpy(data, &weight, sizeof(weight));
    data += 4;
  }
  if (long_key) {
    const uint32_t size = static_cast<uint32_t>(key.size());
    std::memcpy(data, &size, sizeof(size));
    data += 4;
  }
  if (!key.empty()) std::memcpy(data, key.data(), key.size());
  if (!value.empty()) std::memcpy(data + key.size(), value.data(), value.size());
  return e;
}

void Entry::Destroy(Entry* e) {
  char* base = e->Base();
  const bool timer = e->has_timer();
  e->~Entry();
  if (timer) reinterpret_cast<TimerBlock*>(base)->~TimerBlock();
  std::free(base);
}

Entry* Entry::CloneWith(const Entry* e, std::string_view value, bool timer) {
  const bool with_timer = timer || e->has_timer();
  Entry* copy = Create(e->key(), value, e->weight(),
                       Layout{.weight = (e->flags_ & kHasWeight) != 0, .timer = with_timer});
  copy->queue_ = e->queue_;
  if (e->has_timer()) {
    const TimerBlock* from = e->timer();
    TimerBlock* to = copy->timer();
    to->deadline_ns = from->deadline_ns;
    to->write_deadline_ns = from->write_deadline_ns;
    to->variable_deadline_ns = from->variable_deadline_ns;
  }
  return copy;
}

bool Entry::ValueFits(size_t size) const {
  if (size > kMaxSize) return false;
  const size_t used = (Data() - Base()) + PrefixBytes() + KeySize();
  return used + size <= malloc_usable_size(const_cast<char*>(Base()));
}

void Entry::SetValue(std::string_view value) {
  if (!ValueFits(value.size())) Fail("SetValue of a value that does not fit");
  value_size_ = static_cast<uint32_t>(value.size());
  if (!value.empty()) std::memmove(const_cast<char*>(KeyData()) + KeySize(), value.data(), value.size());
}

size_t Entry::AllocatedBytes() const { return malloc_usable_size(const_cast<char*>(Base())); }

}  // namespace crema::cache::internal
