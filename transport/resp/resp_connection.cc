#include "transport/resp/resp_connection.h"

#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "transport/resp/command_table.h"
#include "transport/resp/encoder.h"
#include "transport/resp/resp_server.h"

namespace crema::resp {

namespace asio = boost::asio;

namespace {
std::string Endpoint(const asio::ip::tcp::endpoint& e) {
  return absl::StrCat(e.address().to_string(), ":", e.port());
}
}  // namespace

RespConnection::RespConnection(RespServer* server, asio::ip::tcp::socket socket, uint64_t id)
    : server_(server),
      socket_(std::move(socket)),
      parser_(server->options_.request_limits),
      pipeline_(server->options_.pipeline_window),
      read_buffer_(server->options_.read_chunk_bytes) {
  session_.id = id;
  session_.consistency = std::nullopt;
  session_.created = session_.last_active = server->clock_->MonotonicNow();
  boost::system::error_code ignored;
  session_.peer_address = Endpoint(socket_.remote_endpoint(ignored));
  session_.local_address = Endpoint(socket_.local_endpoint(ignored));
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
}

void RespConnection::Start() { Read(); }

void RespConnection::Close(const char* reason) {
  if (closed_) return;
  closed_ = true;
  (void)reason;
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  pending_out_.clear();
  server_->Forget(session_.id);
}

bool RespConnection::MayRead() const {
  return !closed_ && !reading_ && !stop_parsing_ && !pipeline_.full() &&
         output_bytes() <= server_->options_.output_buffer_soft_bytes;
}

void RespConnection::Read() {
  if (!MayRead()) return;
  reading_ = true;
  socket_.async_read_some(asio::buffer(read_buffer_),
                          [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                            self->reading_ = false;
                            if (self->closed_) return;
                            if (ec) {
                              self->Close("read error or EOF");
                              return;
                            }
                            self->OnRead(n);
                          });
}

void RespConnection::OnRead(size_t bytes) {
  session_.last_active = server_->clock_->MonotonicNow();
  parser_.Append(std::string_view(read_buffer_.data(), bytes));
  ParseCommands();
  // One write for every reply this read could answer, at the end of the loop pass (as Redis
  // writes before it sleeps): a client is woken once for all its connections served in the pass
  // rather than once per connection (docs/server.md has the measurement).
  PostFlush();
  Read();
}

void RespConnection::AddImmediate(std::string reply, std::string name) {
  Pipeline::Item item;
  item.name = std::move(name);
  const uint64_t seq = pipeline_.Add(std::move(item));
  Pipeline::Item* added = pipeline_.Find(seq);
  added->started = true;  // nothing to run: complete at once, in order
  added->done = true;
  added->reply = std::move(reply);
}

void RespConnection::ParseCommands() {
  // A full window whose head was answered inline frees nothing until its replies are popped:
  // pop them (in order, into the output) and go on parsing what is already buffered — no fiber
  // completion will come to do it.
  do {
    ParseWindow();
  } while (!closed_ && !stop_parsing_ && pipeline_.full() &&
           pipeline_.PopReplies(&pending_out_) > 0);
}

void RespConnection::ParseWindow() {
  const bool resp3 = session_.resp_version == 3;
  bool parsed_any = false;
  InlineWindow window;  // the clock reading and keyspace the window's inline commands share
  while (!stop_parsing_ && !closed_ && !pipeline_.full()) {
    RequestParser::Result r = parser_.Next();
    if (r.kind == RequestParser::kNeedMore) break;
    parsed_any = true;
    if (r.kind == RequestParser::kError) {
      ++server_->context_.counters.protocol_errors;
      if (server_->metrics_) server_->metrics_->protocol_errors.With({{"protocol", "resp"}}).Inc();
      std::string reply;
      Encoder(&reply, resp3).Error(r.error);
      AddImmediate(std::move(reply), "protocol_error");
      stop_parsing_ = true;
      close_after_flush_ = true;
      break;
    }
    Classified c = Classify(r.args);
    if (c.spec == nullptr) {
      std::string reply;
      Encoder(&reply, resp3).Error(c.error);
      server_->RecordRequest(c.name.empty() ? "unknown" : c.name,
                             absl::InvalidArgumentError("rejected"), absl::ZeroDuration());
      AddImmediate(std::move(reply), c.name);
      continue;
    }
    // Nothing earlier is pending: a command the node can answer without waiting (a GET of a
    // local replica) is answered here, its reply appended straight to the output, in order,
    // with no pipeline entry (most of a pipelined GET's allocations).
    if (pipeline_.empty() && c.spec->try_now != nullptr) {
      // The window's inline reads share one reading of the clocks, taken after their bytes
      // arrived; nothing else runs on the loop until the window ends (ReadOptions::now).
      if (!window.clock.has_value()) {
        window.clock = ClockReading{server_->clock_->MonotonicNow(), server_->clock_->Now()};
      }
      std::optional<absl::Status> status =
          TryExecuteNow(*c.spec, r.args, session_, server_->context_, &pending_out_, &window);
      if (status.has_value()) {
        inline_done_.push_back({std::move(c.name), *std::move(status)});  // recorded below
        continue;
      }
    }
    Pipeline::Item item;
    item.keys = KeysOf(*c.spec, r.args);
    item.args = std::move(r.args);
    item.barrier = (c.spec->flags & (kConnection | kAdmin)) != 0;
    item.spec = c.spec;
    item.name = std::move(c.name);
    item.arrival_ns = absl::ToUnixNanos(session_.last_active);  // when its bytes were read
    pipeline_.Add(std::move(item));
  }
  const absl::Time now = server_->clock_->MonotonicNow();
  // Commands answered inline in this window: their latency runs from the read to now (one clock
  // reading for the window, not one per command), recorded once per run of equal commands and
  // outcomes.
  for (size_t i = 0; i < inline_done_.size();) {
    size_t j = i + 1;
    while (j < inline_done_.size() && inline_done_[j].name == inline_done_[i].name &&
           inline_done_[j].status.code() == inline_done_[i].status.code()) {
      ++j;
    }
    server_->RecordRequest(inline_done_[i].name, inline_done_[i].status,
                           now - session_.last_active, j - i);
    i = j;
  }
  inline_done_.clear();
  if (!parser_.mid_command()) {
    command_started_ = absl::InfiniteFuture();
  } else if (parsed_any) {
    command_started_ = now;  // a new command began in this chunk
  } else {
    command_started_ = std::min(command_started_, now);
  }
  Schedule();
}

void RespConnection::Schedule() {
  waiting_for_fiber_ = false;
  while (!closed_) {
    Pipeline::Item* item = pipeline_.PeekRunnable();
    if (item == nullptr) break;
    if (RunNow(*item)) continue;
    if (!server_->FiberAvailable()) {
      if (!waiting_for_fiber_) server_->WaitForFiber(shared_from_this());
      waiting_for_fiber_ = true;
      break;
    }
    pipeline_.Start(item->seq);
    server_->TakeFiber();
    if (!Batchable(*item)) {
      RunCommand(item->seq);
      continue;
    }
    // Consecutive runnable plain SETs (distinct keys, by the pipeline's rules) become one
    // MultiPutEach: one fiber and, on the node, one proposal per shard instead of one per SET.
    std::vector<uint64_t> batch = {item->seq};
    while (batch.size() < kMaxSetBatch) {
      Pipeline::Item* next = pipeline_.PeekRunnable();
      if (next == nullptr || !Batchable(*next)) break;
      pipeline_.Start(next->seq);
      batch.push_back(next->seq);
    }
    if (batch.size() == 1) {
      RunCommand(batch[0]);
    } else {
      RunSetBatch(std::move(batch));
    }
  }
}

bool RespConnection::RunNow(Pipeline::Item& item) {
  const CommandSpec* spec = static_cast<const CommandSpec*>(item.spec);
  if (spec == nullptr || spec->try_now == nullptr) return false;
  std::string reply;
  std::optional<absl::Status> status =
      TryExecuteNow(*spec, item.args, session_, server_->context_, &reply);
  if (!status.has_value()) return false;
  const uint64_t seq = item.seq;
  server_->RecordRequest(item.name, *status,
                         server_->clock_->MonotonicNow() - absl::FromUnixNanos(item.arrival_ns));
  pipeline_.Start(seq);
  pipeline_.Complete(seq, std::move(reply));
  return true;
}

bool RespConnection::Batchable(const Pipeline::Item& item) const {
  const CommandSpec* spec = static_cast<const CommandSpec*>(item.spec);
  if (spec == nullptr || std::string_view(spec->name) != "set" || item.args.size() != 3) return false;
  if (!session_.authenticated && !server_->context_.settings.password.empty()) return false;
  // Invalid keys or values run alone so that only they get the error.
  return !item.args[1].empty() && item.args[1].size() <= kMaxKeyBytes &&
         item.args[2].size() <= kMaxValueBytes;
}

void RespConnection::RunSetBatch(std::vector<uint64_t> seqs) {
  server_->executor_->Spawn("resp:set-batch", [self = shared_from_this(), seqs = std::move(seqs)] {
    std::vector<std::pair<std::string, std::string>> entries;
    entries.reserve(seqs.size());
    absl::Time first_arrival = absl::InfiniteFuture();
    for (uint64_t seq : seqs) {
      Pipeline::Item* item = self->pipeline_.Find(seq);
      entries.emplace_back(std::move(item->args[1]), std::move(item->args[2]));
      first_arrival = std::min(first_arrival, absl::FromUnixNanos(item->arrival_ns));
    }
    ServerContext& server = self->server_->context_;
    WriteOptions options;
    options.timeout = server.settings.request_timeout;
    CacheApi* api = server.api;
    keyspace::KeyspaceHandle handle;  // SELECT is a pipeline barrier: one keyspace per batch
    std::vector<absl::Status> statuses;
    if (server.keyspaces != nullptr) {
      absl::StatusOr<keyspace::KeyspaceHandle> h =
          server.keyspaces->Open(self->session_.keyspace, self->session_.levels);
      if (h.ok()) {
        handle = *std::move(h);
        api = handle.api;
      } else {
        statuses.assign(seqs.size(), h.status());
      }
    }
    // Each SET gets its own outcome: its shard's command's (a shard failing does not fail the
    // SETs of other shards).
    if (statuses.empty()) statuses = api->MultiPutEach(entries, Expiration::Default(), options);
    const absl::Duration took = self->server_->clock_->MonotonicNow() - first_arrival;
    server.counters.commands_processed += seqs.size();
    self->session_.commands += seqs.size();
    self->session_.last_command = "set";
    self->server_->ReturnFiber();
    for (size_t i = 0; i < seqs.size(); ++i) {
      std::string reply;
      Encoder enc(&reply, self->session_.resp_version == 3);
      if (statuses[i].ok()) {
        enc.SimpleString("OK");
      } else {
        static const std::vector<std::string> kNoArgs;
        CommandCall call{nullptr, kNoArgs, self->session_, server, enc, absl::OkStatus()};
        call.ReplyStatus(statuses[i]);
      }
      self->server_->RecordRequest("set", statuses[i], took);
      self->OnCommandDone(seqs[i], std::move(reply));
    }
  });
}

void RespConnection::RunCommand(uint64_t seq) {
  Pipeline::Item* item = pipeline_.Find(seq);
  const CommandSpec* spec = static_cast<const CommandSpec*>(item->spec);
  server_->executor_->Spawn(
      absl::StrCat("resp:", item->name), [self = shared_from_this(), seq, spec] {
        Pipeline::Item* item = self->pipeline_.Find(seq);
        const std::vector<std::string> args = std::move(item->args);
        const std::string name = item->name;
        const absl::Time arrival = absl::FromUnixNanos(item->arrival_ns);
        std::string reply;
        absl::Status status =
            Execute(*spec, args, self->session_, self->server_->context_, &reply);
        self->server_->RecordRequest(name, status,
                                     self->server_->clock_->MonotonicNow() - arrival);
        self->server_->ReturnFiber();
        self->OnCommandDone(seq, std::move(reply));
      });
}

void RespConnection::OnCommandDone(uint64_t seq, std::string reply) {
  if (closed_) return;
  pipeline_.Complete(seq, std::move(reply));
  if (session_.close_after_reply && !stop_parsing_) {
    // QUIT is a barrier: nothing after it has started; those commands are dropped, as in Redis.
    pipeline_.TruncateAfter(seq);
    stop_parsing_ = true;
    close_after_flush_ = true;
  }
  Schedule();
  if (!stop_parsing_) ParseCommands();  // the window may have room for buffered commands
  PostFlush();
  Read();
}

void RespConnection::PostFlush() {
  if (flush_posted_ || closed_) return;
  flush_posted_ = true;
  server_->FlushAtEndOfPass(shared_from_this());
}

void RespConnection::FlushNow() {
  flush_posted_ = false;
  Flush();
  Read();  // output drained or window freed: reading may resume
}

void RespConnection::Flush() {
  if (closed_) return;
  pipeline_.PopReplies(&pending_out_);
  if (output_bytes() > server_->options_.output_buffer_hard_bytes) {
    ++server_->context_.counters.connections_rejected;
    if (server_->metrics_) {
      server_->metrics_->connections_rejected
          .With({{"protocol", "resp"}, {"reason", "output_buffer"}})
          .Inc();
    }
    Close("output buffer limit");
    return;
  }
  if (writing_) return;
  if (pending_out_.empty()) {
    if (close_after_flush_ && pipeline_.empty()) {
      Close("closed after final reply");
    }
    return;
  }
  writing_ = true;
  ++server_->context_.counters.reply_writes;
  writing_out_.swap(pending_out_);
  pending_out_.clear();
  asio::async_write(socket_, asio::buffer(writing_out_),
                    [self = shared_from_this()](boost::system::error_code ec, size_t) {
                      self->writing_ = false;
                      self->writing_out_.clear();
                      if (self->closed_) return;
                      if (ec) {
                        self->Close("write error");
                        return;
                      }
                      self->Flush();
                      self->Read();  // output drained: reading may resume
                    });
}

void RespConnection::Sweep(absl::Time now) {
  if (closed_) return;
  const RespServerOptions& o = server_->options_;
  const bool throttled_by_us =
      pipeline_.full() || output_bytes() > o.output_buffer_soft_bytes;
  if (!throttled_by_us && now - command_started_ > o.max_command_receive_time) {
    Close("request not completed in time");
    return;
  }
  if (o.idle_timeout > absl::ZeroDuration() && pipeline_.empty() && !writing_ &&
      now - session_.last_active > o.idle_timeout) {
    Close("idle timeout");
  }
}

}  // namespace crema::resp
