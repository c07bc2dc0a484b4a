// RespConnection: one client socket of a RespServer — reads into a RequestParser, orders commands
// through a Pipeline, answers each inline when the node can without waiting (GET) or else in a
// fiber, writes replies in order. Internal to resp_server.cc; the contract and bounds are
// documented in resp_server.h.
//
// Writes: at most one socket write per loop pass — a read's inline replies and the replies of
// fibers finished in that pass queue the connection once (flush_posted_) with the server, which
// writes every queued connection's output after the pass (RespServer::FlushAtEndOfPass).
//
// Lifetime: owned by the server's table and by any in-flight fiber or asio handler (shared_ptr),
// so a command finishing after the client left finds `closed_` set and drops its reply.
// Thread safety: none (the loop thread).
#ifndef CREMA_TRANSPORT_RESP_RESP_CONNECTION_H_
#define CREMA_TRANSPORT_RESP_RESP_CONNECTION_H_

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <vector>

#include "transport/resp/pipeline.h"
#include "transport/resp/request_parser.h"
#include "transport/resp/session.h"

namespace crema::resp {

class RespServer;

class RespConnection : public std::enable_shared_from_this<RespConnection> {
 public:
  // Plain pipelined SETs (no options) batched into one CacheApi::MultiPut, at most this many.
  static constexpr size_t kMaxSetBatch = 64;

  RespConnection(RespServer* server, boost::asio::ip::tcp::socket socket, uint64_t id);

  void Start();
  // Closes the socket at once; in-flight commands finish and their replies are dropped.
  void Close(const char* reason);
  // Called by the server when fiber budget is available again.
  void Schedule();
  // Idle and slow-request checks (the server's sweep).
  void Sweep(absl::Time now);

  const Session& session() const { return session_; }
  bool closed() const { return closed_; }

 private:
  friend class RespServer;  // FlushNow
  void Read();
  bool MayRead() const;
  void OnRead(size_t bytes);
  void ParseCommands();  // parses and schedules all it can; the caller flushes
  void ParseWindow();    // parses and schedules until the window is full or input runs out
  void AddImmediate(std::string reply, std::string name);
  // Answers a runnable command at once if its spec has an inline path and the node can decide
  // it without waiting; true if it did (the command is then complete).
  bool RunNow(Pipeline::Item& item);
  void RunCommand(uint64_t seq);
  bool Batchable(const Pipeline::Item& item) const;
  void RunSetBatch(std::vector<uint64_t> seqs);
  void OnCommandDone(uint64_t seq, std::string reply);
  void Flush();
  void PostFlush();  // one Flush after the current loop pass (RespServer::FlushAtEndOfPass)
  void FlushNow();   // the server's end-of-pass call: Flush, then resume reading
  size_t output_bytes() const { return pending_out_.size() + writing_out_.size(); }

  RespServer* server_;
  boost::asio::ip::tcp::socket socket_;
  Session session_;
  RequestParser parser_;
  Pipeline pipeline_;
  std::vector<char> read_buffer_;
  std::string pending_out_;   // replies not yet handed to the socket
  std::string writing_out_;   // the buffer of the write in progress
  bool reading_ = false;
  bool writing_ = false;
  bool closed_ = false;
  bool stop_parsing_ = false;     // after a protocol error or QUIT
  bool close_after_flush_ = false;
  bool waiting_for_fiber_ = false;
  bool flush_posted_ = false;
  absl::Time command_started_ = absl::InfiniteFuture();  // first byte of an incomplete command
  struct InlineDone {  // a command ParseWindow answered inline, to record at the window's end
    std::string name;
    absl::Status status;
  };
  std::vector<InlineDone> inline_done_;  // bounded by the commands one read holds; empty between windows
};

}  // namespace crema::resp

#endif  // CREMA_TRANSPORT_RESP_RESP_CONNECTION_H_
