#include "transport/embedded/distributed_cache.h"

#include <boost/asio/post.hpp>
#include <chrono>

#include "absl/strings/str_cat.h"

namespace crema {
namespace {

// A one-shot result that is always delivered: if the fiber computing it is unwound (the node
// stopped) or never runs, its destruction delivers `fallback` instead of a broken promise.
template <typename R>
class Slot {
 public:
  explicit Slot(R fallback) : fallback_(std::move(fallback)) {}
  ~Slot() {
    if (!set_) promise_.set_value(std::move(fallback_));
  }
  void Set(R value) {
    set_ = true;
    promise_.set_value(std::move(value));
  }
  std::future<R> Future() { return promise_.get_future(); }

 private:
  std::promise<R> promise_;
  R fallback_;
  bool set_ = false;
};

absl::Status Stopped() { return absl::UnavailableError("the embedded cache is stopped"); }

}  // namespace

absl::StatusOr<std::unique_ptr<DistributedCache>> DistributedCache::Start(
    CacheConfig config, transport::NodeRuntimeOptions runtime_options, CacheNodeOptions options) {
  if (absl::Status s = config.Validate(); !s.ok()) return s;
  if (runtime_options.self != config.node_id) {
    return absl::InvalidArgumentError("runtime self and config node_id differ");
  }
  if (config.peer_address.empty()) config.peer_address = runtime_options.listen_address;
  absl::StatusOr<std::unique_ptr<transport::NodeRuntime>> runtime =
      transport::NodeRuntime::Create(std::move(runtime_options));
  if (!runtime.ok()) return runtime.status();
  std::unique_ptr<DistributedCache> cache(new DistributedCache());
  cache->runtime_ = *std::move(runtime);
  cache->peer_port_ = cache->runtime_->network().listen_port();
  std::promise<absl::Status> started;
  std::future<absl::Status> started_future = started.get_future();
  DistributedCache* self = cache.get();
  cache->thread_ = std::thread([self, config, options, &started] {
    Env env = self->runtime_->env();
    env.executor->Spawn("embedded-start", [self, env, &config, &options, &started] {
      absl::StatusOr<std::unique_ptr<CacheNode>> node = CacheNode::Start(env, config, options);
      if (node.ok()) {
        self->node_ = *std::move(node);
        started.set_value(absl::OkStatus());
      } else {
        started.set_value(node.status());
        self->runtime_->loop().Stop();
      }
    });
    self->runtime_->loop().Run();
    // Stopped: unwind every fiber while the node they use still exists, then drop the node.
    self->runtime_->Shutdown();
    self->node_.reset();
  });
  const absl::Status s = started_future.get();
  if (!s.ok()) {
    {
      absl::MutexLock lock(&cache->mu_);
      cache->stopped_ = true;
    }
    cache->thread_.join();
    return s;
  }
  return cache;
}

DistributedCache::~DistributedCache() {
  Stop();
  if (thread_.joinable()) thread_.join();
}

void DistributedCache::Post(std::function<void()> fn) {
  boost::asio::post(runtime_->loop().io_context(), std::move(fn));
}

void DistributedCache::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  Post([this] {
    runtime_->env().executor->Spawn("embedded-stop", [this] {
      if (node_ != nullptr) node_->Shutdown();
      runtime_->loop().Stop();
    });
  });
  if (thread_.joinable()) thread_.join();
}

template <typename R>
R DistributedCache::Call(std::function<R(CacheNode&)> fn, R if_stopped) {
  auto slot = std::make_shared<Slot<R>>(if_stopped);
  std::future<R> result = slot->Future();
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return if_stopped;
    Post([this, slot, fn = std::move(fn)]() mutable {
      runtime_->env().executor->Spawn("embedded-call", [this, slot, fn = std::move(fn)] {
        if (node_ != nullptr) slot->Set(fn(*node_));
      });
    });
  }
  slot.reset();  // the loop's copy decides; if it is dropped unrun, the fallback is delivered
  return result.get();
}

bool DistributedCache::WaitUntilReady(absl::Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::nanoseconds(absl::ToInt64Nanoseconds(timeout));
  while (true) {
    if (Call<bool>([](CacheNode& n) { return n.ready() && n.Status().meta_leader != kNoNode; },
                   false)) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

absl::StatusOr<std::optional<std::string>> DistributedCache::Get(std::string_view key,
                                                                 ReadOptions options) {
  return Call<absl::StatusOr<std::optional<std::string>>>(
      [key = std::string(key), options](CacheNode& n) { return n.Get(key, options); }, Stopped());
}

absl::StatusOr<std::vector<std::optional<std::string>>> DistributedCache::MultiGet(
    const std::vector<std::string>& keys, ReadOptions options) {
  return Call<absl::StatusOr<std::vector<std::optional<std::string>>>>(
      [keys, options](CacheNode& n) { return n.MultiGet(keys, options); }, Stopped());
}

absl::StatusOr<TtlResult> DistributedCache::Ttl(std::string_view key, ReadOptions options) {
  return Call<absl::StatusOr<TtlResult>>(
      [key = std::string(key), options](CacheNode& n) { return n.Ttl(key, options); }, Stopped());
}

absl::StatusOr<PutResult> DistributedCache::Put(std::string_view key, std::string_view value,
                                                PutOptions options) {
  return Call<absl::StatusOr<PutResult>>(
      [key = std::string(key), value = std::string(value), options](CacheNode& n) {
        return n.Put(key, value, options);
      },
      Stopped());
}

absl::Status DistributedCache::MultiPut(
    const std::vector<std::pair<std::string, std::string>>& entries, Expiration expiration,
    WriteOptions options) {
  return Call<absl::Status>(
      [entries, expiration, options](CacheNode& n) {
        return n.MultiPut(entries, expiration, options);
      },
      Stopped());
}

absl::StatusOr<std::optional<std::string>> DistributedCache::Delete(std::string_view key,
                                                                    WriteOptions options) {
  return Call<absl::StatusOr<std::optional<std::string>>>(
      [key = std::string(key), options](CacheNode& n) { return n.Delete(key, options); },
      Stopped());
}

absl::StatusOr<bool> DistributedCache::CompareAndSet(std::string_view key,
                                                     std::optional<std::string> expected,
                                                     std::string_view new_value,
                                                     Expiration expiration,
                                                     WriteOptions options) {
  return Call<absl::StatusOr<bool>>(
      [key = std::string(key), expected = std::move(expected), value = std::string(new_value),
       expiration, options](CacheNode& n) {
        return n.CompareAndSet(key, expected, value, expiration, options);
      },
      Stopped());
}

absl::StatusOr<int64_t> DistributedCache::Increment(std::string_view key, int64_t delta,
                                                    WriteOptions options) {
  return Call<absl::StatusOr<int64_t>>(
      [key = std::string(key), delta, options](CacheNode& n) {
        return n.Increment(key, delta, options);
      },
      Stopped());
}

absl::StatusOr<bool> DistributedCache::Expire(std::string_view key, Expiration expiration,
                                              WriteOptions options) {
  return Call<absl::StatusOr<bool>>(
      [key = std::string(key), expiration, options](CacheNode& n) {
        return n.Expire(key, expiration, options);
      },
      Stopped());
}

absl::StatusOr<std::optional<std::string>> DistributedCache::GetAndTouch(
    std::string_view key, std::optional<Expiration> expiration, WriteOptions options) {
  return Call<absl::StatusOr<std::optional<std::string>>>(
      [key = std::string(key), expiration, options](CacheNode& n) {
        return n.GetAndTouch(key, expiration, options);
      },
      Stopped());
}

absl::StatusOr<int64_t> DistributedCache::Size(ReadOptions options) {
  return Call<absl::StatusOr<int64_t>>([options](CacheNode& n) { return n.Size(options); },
                                       Stopped());
}

absl::Status DistributedCache::AdmitNode(NodeId node, WriteOptions options) {
  return Call<absl::Status>([node, options](CacheNode& n) { return n.AdmitNode(node, options); },
                            Stopped());
}

absl::Status DistributedCache::DrainNode(NodeId node, WriteOptions options) {
  return Call<absl::Status>([node, options](CacheNode& n) { return n.DrainNode(node, options); },
                            Stopped());
}

absl::Status DistributedCache::RemoveNode(NodeId node, WriteOptions options) {
  return Call<absl::Status>([node, options](CacheNode& n) { return n.RemoveNode(node, options); },
                            Stopped());
}

absl::Status DistributedCache::TransferShardLeader(uint32_t shard, NodeId to,
                                                   WriteOptions options) {
  return Call<absl::Status>(
      [shard, to, options](CacheNode& n) { return n.TransferShardLeader(shard, to, options); },
      Stopped());
}

absl::StatusOr<ClusterStatus> DistributedCache::Status() {
  return Call<absl::StatusOr<ClusterStatus>>([](CacheNode& n) { return n.Status(); }, Stopped());
}

}  // namespace crema
