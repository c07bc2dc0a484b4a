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
  const bool resp3 = session_.resp_version == 3;
  bool parsed_any = false;
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
    Pipeline::Item item;
    item.args = std::move(r.args);
    item.keys = std::move(c.keys);
    item.barrier = (c.spec->flags & (kConnection | kAdmin)) != 0;
    item.spec = c.spec;
    item.name = c.name;
    item.arrival_ns = absl::ToUnixNanos(server_->clock_->MonotonicNow());
    pipeline_.Add(std::move(item));
  }
  const absl::Time now = server_->clock_->MonotonicNow();
  if (!parser_.mid_command()) {
    command_started_ = absl::InfiniteFuture();
  } else if (parsed_any) {
    command_started_ = now;  // a new command began in this chunk
  } else {
    command_started_ = std::min(command_started_, now);
  }
  Schedule();
  Flush();
}

void RespConnection::Schedule() {
  waiting_for_fiber_ = false;
  while (!closed_ && pipeline_.HasRunnable()) {
    if (!server_->FiberAvailable()) {
      if (!waiting_for_fiber_) server_->WaitForFiber(shared_from_this());
      waiting_for_fiber_ = true;
      break;
    }
    Pipeline::Item* item = pipeline_.NextRunnable();
    if (item == nullptr) break;
    server_->TakeFiber();
    if (!Batchable(*item)) {
      RunCommand(item->seq);
      continue;
    }
    // Consecutive runnable plain SETs (distinct keys, by the pipeline's rules) become one
    // MultiPut: one fiber and, on the node, one proposal per shard instead of one per SET.
    std::vector<uint64_t> batch = {item->seq};
    std::vector<uint64_t> others;
    while (batch.size() < kMaxSetBatch && pipeline_.HasRunnable()) {
      Pipeline::Item* next = pipeline_.NextRunnable();
      if (next == nullptr) break;
      if (Batchable(*next)) {
        batch.push_back(next->seq);
      } else {
        others.push_back(next->seq);
        break;
      }
    }
    if (batch.size() == 1) {
      RunCommand(batch[0]);
    } else {
      RunSetBatch(std::move(batch));
    }
    for (uint64_t seq : others) {
      // Already started by NextRunnable: it runs even if that overshoots the budget by one.
      server_->TakeFiber();
      RunCommand(seq);
    }
  }
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
    absl::Status status;
    if (server.keyspaces != nullptr) {
      absl::StatusOr<keyspace::KeyspaceHandle> h =
          server.keyspaces->Open(self->session_.keyspace, self->session_.levels);
      if (h.ok()) {
        handle = *std::move(h);
        api = handle.api;
      } else {
        status = h.status();
      }
    }
    if (status.ok()) status = api->MultiPut(entries, Expiration::Default(), options);
    std::string reply;
    Encoder enc(&reply, self->session_.resp_version == 3);
    if (status.ok()) {
      enc.SimpleString("OK");
    } else {
      static const std::vector<std::string> kNoArgs;
      CommandCall call{nullptr, kNoArgs, self->session_, server, enc, absl::OkStatus()};
      call.ReplyStatus(status);
    }
    const absl::Duration took = self->server_->clock_->MonotonicNow() - first_arrival;
    server.counters.commands_processed += seqs.size();
    self->session_.commands += seqs.size();
    self->session_.last_command = "set";
    for (size_t i = 0; i < seqs.size(); ++i) self->server_->RecordRequest("set", status, took);
    self->server_->ReturnFiber();
    for (uint64_t seq : seqs) self->OnCommandDone(seq, reply);
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
  Flush();
  if (!stop_parsing_) ParseCommands();  // the window may have room for buffered commands
  Read();
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
