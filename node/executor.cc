#include "node/executor.h"

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>
#include <vector>

// ThreadSanitizer keeps a shadow call stack per thread; switching stacks behind its back corrupts
// it. Under TSan each fiber is announced as a TSan fiber and every switch is reported (below, at
// the four switch points: Resume, SuspendCurrent, a fiber's exit, and unwinding in ~Executor).
// AddressSanitizer builds use Boost's own annotations instead (.bazelrc: BOOST_USE_ASAN with the
// ucontext implementation). Production builds compile none of this.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CREMA_TSAN_FIBERS 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CREMA_TSAN_FIBERS 1
#endif
#ifdef CREMA_TSAN_FIBERS
#include <sanitizer/tsan_interface.h>
#endif

namespace crema {

// Fiber stacks are reused. Mapping a guarded stack for every fiber and unmapping it when the
// fiber ends cost about a third of a busy server's CPU (mmap, mprotect of the guard page, page
// faults on fresh pages, munmap and the TLB shootdowns it sends to the process's other threads;
// docs/server.md, "Where the time goes"); every RESP command runs in its own fiber. A finished
// fiber's stack goes back to this pool, up to Executor::kMaxPooledStackBytes, and the next Spawn
// takes it. Stacks keep their guard page. Loop thread only, like the Executor.
// Sanitizer builds do not pool: a reused stack would carry the previous fiber's shadow state.
class FiberStackPool {
 public:
  explicit FiberStackPool(size_t stack_bytes, size_t max_pooled)
      : allocator_(stack_bytes), max_pooled_(max_pooled) {}
  ~FiberStackPool() {
    for (boost::context::stack_context& sc : free_) allocator_.deallocate(sc);
  }
  FiberStackPool(const FiberStackPool&) = delete;
  FiberStackPool& operator=(const FiberStackPool&) = delete;

  boost::context::stack_context Take() {
    if (free_.empty()) return allocator_.allocate();
    boost::context::stack_context sc = free_.back();
    free_.pop_back();
    return sc;
  }
  void Give(boost::context::stack_context& sc) {
    if (free_.size() < max_pooled_) {
      free_.push_back(sc);
    } else {
      allocator_.deallocate(sc);
    }
  }

 private:
  boost::context::protected_fixedsize_stack allocator_;
  size_t max_pooled_;
  std::vector<boost::context::stack_context> free_;  // bounded by max_pooled_
};

namespace {

// A Boost.Context StackAllocator over the pool.
class PooledStack {
 public:
  explicit PooledStack(std::shared_ptr<FiberStackPool> pool) : pool_(std::move(pool)) {}
  boost::context::stack_context allocate() { return pool_->Take(); }
  void deallocate(boost::context::stack_context& sc) noexcept { pool_->Give(sc); }

 private:
  std::shared_ptr<FiberStackPool> pool_;
};

#if defined(CREMA_TSAN_FIBERS) || defined(CREMA_SANITIZER) || defined(BOOST_USE_ASAN) || \
    defined(__SANITIZE_ADDRESS__)
constexpr bool kPoolStacks = false;
#else
constexpr bool kPoolStacks = true;
#endif

}  // namespace
}  // namespace crema

#if defined(BOOST_USE_UCONTEXT)
// Boost.Context's ucontext implementation keeps each thread's running context in a thread-local
// that its shared library defines only when the library itself was built for ucontext; Debian's
// is built for fcontext. Sanitizer builds (the only ones defining BOOST_USE_UCONTEXT) get the
// definition here: every thread starts in a "main context" record describing its own stack.
namespace boost::context::detail {
fiber_activation_record*& fiber_activation_record::current() noexcept {
  thread_local std::unique_ptr<fiber_activation_record> main_context;
  thread_local fiber_activation_record* current_record = nullptr;
  if (current_record == nullptr) {
    main_context = std::make_unique<fiber_activation_record>();
    current_record = main_context.get();
  }
  return current_record;
}
}  // namespace boost::context::detail
#endif

namespace crema {
namespace {

// A TSan fiber handle (nullptr when not built with TSan).
void* NewSanitizerFiber() {
#ifdef CREMA_TSAN_FIBERS
  return __tsan_create_fiber(0);
#else
  return nullptr;
#endif
}
void DeleteSanitizerFiber(void* fiber) {
#ifdef CREMA_TSAN_FIBERS
  if (fiber != nullptr) __tsan_destroy_fiber(fiber);
#else
  (void)fiber;
#endif
}
void* CurrentSanitizerFiber() {
#ifdef CREMA_TSAN_FIBERS
  return __tsan_get_current_fiber();
#else
  return nullptr;
#endif
}
// Call right before switching stacks to the context `to` stands for.
void SwitchingTo(void* to) {
#ifdef CREMA_TSAN_FIBERS
  __tsan_switch_to_fiber(to, 0);
#else
  (void)to;
#endif
}

}  // namespace

struct Executor::Fiber {
  FiberId id = 0;
  std::string name;
  absl::AnyInvocable<void()> body;
  boost::context::fiber context;    // the fiber itself, while it is suspended
  boost::context::fiber scheduler;  // the way back to RunReady, while the fiber runs
  uint64_t generation = 0;          // bumped at each Wait; stale wake-ups are ignored
  bool runnable = false;            // queued in ready_
  bool cancelled = false;
  bool finished = false;
  void* sanitizer_fiber = NewSanitizerFiber();  // TSan builds only
  void* sanitizer_return = nullptr;             // the context that resumed this fiber
  ~Fiber() { DeleteSanitizerFiber(sanitizer_fiber); }
};

namespace {
const std::string kNoFiberName;
}  // namespace


void WaitList::WakeOne(Executor& executor) {
  // Skip waiters whose wait already ended (timed out or cancelled); wake the first live one.
  while (!waiters_.empty()) {
    Waiter w = waiters_.front();
    waiters_.pop_front();
    auto it = executor.fibers_.find(w.fiber);
    if (it == executor.fibers_.end() || it->second->generation != w.generation) continue;
    executor.Wake(w.fiber, w.generation);
    return;
  }
}

void WaitList::WakeAll(Executor& executor) {
  std::deque<Waiter> waiters = std::move(waiters_);
  waiters_.clear();
  for (const Waiter& w : waiters) executor.Wake(w.fiber, w.generation);
}

Executor::Executor(EventLoop* loop, const Clock* clock, size_t stack_bytes)
    : loop_(loop), clock_(clock), stack_bytes_(stack_bytes),
      stacks_(std::make_shared<FiberStackPool>(
          stack_bytes, kPoolStacks ? kMaxPooledStackBytes / std::max<size_t>(stack_bytes, 1) : 0)),
      self_(std::make_shared<Executor*>(this)) {
  assert(loop_ != nullptr && clock_ != nullptr);
}

Executor::~Executor() {
  assert(current_ == nullptr);  // never destroyed from inside one of its own fibers
  destroying_ = true;
  self_.reset();
  // Destroying a suspended boost fiber unwinds its stack (forced_unwind). Newest first, like a
  // stack: a fiber's destructors may touch objects owned by the fiber that spawned it (a node
  // started by a fiber that was still waiting inside Start owns the parts its own fibers wait
  // in), never the other way round. Ids descend: deterministic.
  while (!fibers_.empty()) {
    auto node = fibers_.extract(std::prev(fibers_.end()));
    Fiber* fiber = node.mapped().get();
    current_ = fiber;
    fiber->sanitizer_return = CurrentSanitizerFiber();
    SwitchingTo(fiber->sanitizer_fiber);
    fiber->context = boost::context::fiber();
    SwitchingTo(fiber->sanitizer_return);  // the unwound fiber jumped back without telling TSan
    current_ = nullptr;
  }
}

FiberId Executor::Spawn(std::string name, absl::AnyInvocable<void()> body) {
  assert(!destroying_);
  if (fibers_.size() >= kMaxFibers) {
    std::fprintf(stderr, "Executor: more than %zu live fibers (spawning %s)\n", kMaxFibers,
                 name.c_str());
    std::abort();
  }
  auto fiber = std::make_unique<Fiber>();
  Fiber* raw = fiber.get();
  raw->id = next_id_++;
  raw->name = std::move(name);
  raw->body = std::move(body);
  raw->context = boost::context::fiber(
      std::allocator_arg, PooledStack(stacks_),
      [this, raw](boost::context::fiber&& scheduler) {
        raw->scheduler = std::move(scheduler);
        // Boost's ucontext implementation (the sanitizer builds) enters a never-started fiber
        // when it is destroyed instead of dropping it: a crash must not run its body.
        if (!destroying_) raw->body();
        raw->body = nullptr;  // run the captures' destructors on the fiber's own stack
        raw->finished = true;
        SwitchingTo(raw->sanitizer_return);
        return std::move(raw->scheduler);
      });
  fibers_.emplace(raw->id, std::move(fiber));
  MakeRunnable(raw);
  return raw->id;
}

void Executor::Cancel(FiberId id) {
  auto it = fibers_.find(id);
  if (it == fibers_.end() || it->second->finished) return;
  Fiber* fiber = it->second.get();
  fiber->cancelled = true;
  ++fiber->generation;  // whatever it waits on, it waits no more
  if (fiber != current_) MakeRunnable(fiber);
}

void Executor::MakeRunnable(Fiber* fiber) {
  if (fiber->runnable) return;
  fiber->runnable = true;
  ready_.push_back(fiber->id);
  if (run_posted_) return;
  run_posted_ = true;
  std::weak_ptr<Executor*> weak = self_;
  loop_->Post([weak] {
    if (auto self = weak.lock()) (*self)->RunReady();
  });
}

void Executor::RunReady() {
  run_posted_ = false;
  // Run only the fibers that were ready when this pass began: a fiber that yields goes to the
  // back and runs in a later pass, after loop callbacks queued meanwhile.
  size_t batch = ready_.size();
  while (batch-- > 0 && !ready_.empty()) {
    FiberId id = ready_.front();
    ready_.pop_front();
    auto it = fibers_.find(id);
    if (it == fibers_.end()) continue;
    Fiber* fiber = it->second.get();
    fiber->runnable = false;
    Resume(fiber);
  }
}

void Executor::Resume(Fiber* fiber) {
  assert(current_ == nullptr);
  current_ = fiber;
  fiber->sanitizer_return = CurrentSanitizerFiber();
  SwitchingTo(fiber->sanitizer_fiber);
  fiber->context = std::move(fiber->context).resume();
  current_ = nullptr;
  if (fiber->finished) fibers_.erase(fiber->id);
}

void Executor::SuspendCurrent() {
  Fiber* fiber = current_;
  assert(fiber != nullptr);
  if (destroying_) {
    std::fprintf(stderr, "Executor: fiber %s blocked while being unwound\n", fiber->name.c_str());
    std::abort();
  }
  SwitchingTo(fiber->sanitizer_return);
  fiber->scheduler = std::move(fiber->scheduler).resume();
  // Resumed by RunReady (or by the destructor, which unwinds instead of returning here).
}

void Executor::Wake(FiberId id, uint64_t generation) {
  auto it = fibers_.find(id);
  if (it == fibers_.end()) return;
  Fiber* fiber = it->second.get();
  if (fiber->generation != generation || fiber == current_) return;
  ++fiber->generation;  // one wake-up per wait
  MakeRunnable(fiber);
}

FiberId Executor::CurrentFiber() const { return current_ == nullptr ? 0 : current_->id; }

const std::string& Executor::CurrentFiberName() const {
  return current_ == nullptr ? kNoFiberName : current_->name;
}

absl::Status Executor::Sleep(absl::Duration duration) {
  return SleepUntil(clock_->MonotonicNow() + duration);
}

absl::Status Executor::SleepUntil(absl::Time deadline) {
  WaitList never_woken;
  // The outcome as a plain value: a sleep ends by timing out, and an error Status allocates.
  switch (WaitUntil(never_woken, deadline)) {
    case WaitOutcome::kTimedOut: return absl::OkStatus();
    case WaitOutcome::kCancelled: return absl::CancelledError("fiber cancelled");
    case WaitOutcome::kWoken: break;
  }
  return absl::InternalError("sleep woken without a waker");
}

absl::Status Executor::Yield() {
  assert(InFiber());
  Fiber* fiber = current_;
  if (fiber->cancelled) return absl::CancelledError("fiber cancelled");
  MakeRunnable(fiber);
  SuspendCurrent();
  return fiber->cancelled ? absl::CancelledError("fiber cancelled") : absl::OkStatus();
}

absl::Status Executor::Wait(WaitList& list, absl::Time deadline) {
  switch (WaitUntil(list, deadline)) {
    case WaitOutcome::kWoken: return absl::OkStatus();
    case WaitOutcome::kTimedOut: return absl::DeadlineExceededError("deadline passed");
    case WaitOutcome::kCancelled: break;
  }
  return absl::CancelledError("fiber cancelled");
}

Executor::WaitOutcome Executor::WaitUntil(WaitList& list, absl::Time deadline) {
  assert(InFiber());
  Fiber* fiber = current_;
  if (fiber->cancelled) return WaitOutcome::kCancelled;
  const uint64_t generation = ++fiber->generation;
  const absl::Time now = clock_->MonotonicNow();
  if (deadline <= now) return WaitOutcome::kTimedOut;
  list.waiters_.push_back({fiber->id, generation});
  // However the wait ends — woken, timed out, cancelled, or unwound because the executor is being
  // destroyed (a crash) — the entry must leave the list: a list can outlive this executor (a
  // Promise held elsewhere), and a stale entry would later wake a fiber of a freed executor.
  struct RemoveOnExit {
    WaitList& list;
    FiberId fiber;
    uint64_t generation;
    ~RemoveOnExit() {
      std::erase_if(list.waiters_, [&](const WaitList::Waiter& w) {
        return w.fiber == fiber && w.generation == generation;
      });
    }
  } remove_on_exit{list, fiber->id, generation};

  bool timed_out = false;
  EventLoop::TimerId timer = 0;
  if (deadline != absl::InfiniteFuture()) {
    std::weak_ptr<Executor*> weak = self_;
    const FiberId id = fiber->id;
    timer = loop_->RunAfter(deadline - now, [weak, id, generation, &timed_out] {
      auto self = weak.lock();
      if (!self) return;
      auto it = (*self)->fibers_.find(id);
      if (it == (*self)->fibers_.end() || it->second->generation != generation) return;
      timed_out = true;  // the fiber is parked in this Wait, so its frame is alive
      (*self)->Wake(id, generation);
    });
  }
  SuspendCurrent();
  if (timer != 0 && !timed_out) loop_->Cancel(timer);
  if (fiber->cancelled) return WaitOutcome::kCancelled;
  if (timed_out) return WaitOutcome::kTimedOut;
  return WaitOutcome::kWoken;
}

}  // namespace crema
