// Command dispatch against the fake node: replies compared byte for byte with redis-server 7.0's
// (each expected string below was taken from a live redis-server on this machine).
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "node/clock.h"
#include "node/executor.h"
#include "transport/asio_loop.h"
#include "transport/resp/command_table.h"
#include "node/keyspace/keyspace_node.h"
#include "transport/testing/fake_cache_api.h"

namespace crema::resp {
namespace {

class CommandsTest : public ::testing::Test {
 protected:
  CommandsTest() : executor_(&loop_, &clock_), api_(&clock_, &executor_) {
    server_.api = &api_;
    server_.clock = &clock_;
    server_.started = clock_.MonotonicNow();
    session_.id = 7;
  }

  std::string Run(std::vector<std::string> args) {
    std::string reply;
    bool done = false;
    executor_.Spawn("cmd", [&] {
      Classified c = Classify(args);
      if (c.spec == nullptr) {
        Encoder(&reply, session_.resp_version == 3).Error(c.error);
      } else {
        (void)Execute(*c.spec, args, session_, server_, &reply);
      }
      done = true;
    });
    EXPECT_TRUE(loop_.RunUntil([&] { return done; }, absl::Seconds(5)));
    return reply;
  }

  ManualClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  transport::AsioLoop loop_;
  Executor executor_;
  testing::FakeCacheApi api_;
  ServerContext server_;
  Session session_;
};

TEST_F(CommandsTest, UnknownCommandAndArityLikeRedis) {
  EXPECT_EQ(Run({"FOO", "a", "b"}), "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
  EXPECT_EQ(Run({"CREMA.X"}), "-ERR unknown command 'CREMA.X', with args beginning with: \r\n");
  EXPECT_EQ(Run({"FOO", "a\r\nbc"}),
            "-ERR unknown command 'FOO', with args beginning with: 'a  bc' \r\n");
  EXPECT_EQ(Run({"FOO", std::string(200, 'x'), "y"}),
            absl::StrCat("-ERR unknown command 'FOO', with args beginning with: '",
                         std::string(128, 'x'), "' \r\n"));
  EXPECT_EQ(Run({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Run({"get", "a", "b"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Run({"PING", "a", "b"}), "-ERR wrong number of arguments for 'ping' command\r\n");
  EXPECT_EQ(Run({"MSET", "a", "b", "c"}), "-ERR wrong number of arguments for 'mset' command\r\n");
  EXPECT_EQ(Run({"CLIENT", "SETNAME"}),
            "-ERR wrong number of arguments for 'client|setname' command\r\n");
  EXPECT_EQ(Run({"CLIENT", "FOO"}), "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n");
}

TEST_F(CommandsTest, SetGetAndOptions) {
  EXPECT_EQ(Run({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(Run({"GET", "nokey"}), "$-1\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "0"}), "-ERR invalid expire time in 'set' command\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "-1"}), "-ERR invalid expire time in 'set' command\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "abc"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "NX", "XX"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "FOO"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SET", "k", "1", "KEEPTTL", "EX", "5"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "PX", "9223372036854775807"}),
            "-ERR invalid expire time in 'set' command\r\n");
  EXPECT_EQ(Run({"SET", "k", "w", "GET", "NX"}), "$1\r\nv\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$1\r\nv\r\n");  // NX: not written
  EXPECT_EQ(Run({"SET", "k", "w", "XX"}), "+OK\r\n");
  EXPECT_EQ(Run({"SET", "absent", "w", "XX"}), "$-1\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "EXAT", "1"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$-1\r\n");  // a deadline in the past deletes
  EXPECT_EQ(Run({"SET", "t", "v", "EX", "10"}), "+OK\r\n");
  EXPECT_EQ(Run({"TTL", "t"}), ":10\r\n");
  EXPECT_EQ(Run({"PTTL", "t"}), ":10000\r\n");
  EXPECT_EQ(Run({"SET", "t", "x", "KEEPTTL"}), "+OK\r\n");
  EXPECT_EQ(Run({"TTL", "t"}), ":10\r\n");
  clock_.Advance(absl::Seconds(11));
  EXPECT_EQ(Run({"GET", "t"}), "$-1\r\n");
  EXPECT_EQ(Run({"TTL", "nokey"}), ":-2\r\n");
}

TEST_F(CommandsTest, OtherStringCommands) {
  EXPECT_EQ(Run({"SETNX", "k", "a"}), ":1\r\n");
  EXPECT_EQ(Run({"SETNX", "k", "b"}), ":0\r\n");
  EXPECT_EQ(Run({"GETSET", "k", "w"}), "$1\r\na\r\n");
  EXPECT_EQ(Run({"GETDEL", "k"}), "$1\r\nw\r\n");
  EXPECT_EQ(Run({"GETDEL", "k"}), "$-1\r\n");
  EXPECT_EQ(Run({"SETEX", "k", "0", "v"}), "-ERR invalid expire time in 'setex' command\r\n");
  EXPECT_EQ(Run({"SETEX", "k", "x", "v"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"PSETEX", "k", "-1", "v"}), "-ERR invalid expire time in 'psetex' command\r\n");
  EXPECT_EQ(Run({"SETEX", "k", "5", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"GETEX", "k", "EX", "0"}), "-ERR invalid expire time in 'getex' command\r\n");
  EXPECT_EQ(Run({"GETEX", "k", "PERSIST", "EX", "1"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"GETEX", "k", "PERSIST"}), "$1\r\nv\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":-1\r\n");
  EXPECT_EQ(Run({"SET", "n", "9223372036854775807"}), "+OK\r\n");
  EXPECT_EQ(Run({"INCR", "n"}), "-ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(Run({"INCRBY", "n", "x"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"INCRBY", "n", "9223372036854775808"}),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"DECRBY", "n", "-9223372036854775808"}), "-ERR decrement would overflow\r\n");
  EXPECT_EQ(Run({"INCR", "k"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"INCR", "c"}), ":1\r\n");
  EXPECT_EQ(Run({"DECRBY", "c", "5"}), ":-4\r\n");
  EXPECT_EQ(Run({"MSET", "a", "1", "b", "2"}), "+OK\r\n");
  EXPECT_EQ(Run({"MGET", "a", "nokey", "b"}), "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n");
  EXPECT_EQ(Run({"EXISTS", "a", "a", "nokey"}), ":2\r\n");
  EXPECT_EQ(Run({"DEL", "a", "nokey"}), ":1\r\n");
  EXPECT_EQ(Run({"UNLINK", "a", "b"}), ":1\r\n");
}

TEST_F(CommandsTest, ExpireFamily) {
  EXPECT_EQ(Run({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"PERSIST", "k"}), ":0\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "abc"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "100"}), ":1\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":100\r\n");
  EXPECT_EQ(Run({"PERSIST", "k"}), ":1\r\n");
  EXPECT_EQ(Run({"PEXPIREAT", "k", absl::StrCat(1'700'000'005'000)}), ":1\r\n");
  EXPECT_EQ(Run({"PTTL", "k"}), ":5000\r\n");
  EXPECT_EQ(Run({"EXPIRE", "nokey", "10"}), ":0\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "-1"}), ":1\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$-1\r\n");
}

// Redis 7's NX | XX | GT | LT: every reply below is what redis-server 7.0.15 answered to the same
// sequence (run by hand; the session is in the commit message).
TEST_F(CommandsTest, ExpireOptionsAnswerAsRedis) {
  const std::string kNxWith = "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n";
  EXPECT_EQ(Run({"SET", "k", "v"}), "+OK\r\n");
  // Options are checked before the time, in Redis's order.
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "nx", "xx"}), kNxWith);
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "gt", "lt"}),
            "-ERR GT and LT options at the same time are not compatible\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "NX", "GT"}), kNxWith);
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "foo"}), "-ERR Unsupported option foo\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "abc", "nx", "xx"}), kNxWith);
  EXPECT_EQ(Run({"EXPIRE", "k", "abc", "foo"}), "-ERR Unsupported option foo\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "abc", "gt"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "nx", "extra"}), "-ERR Unsupported option extra\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "99999999999999999", "nx"}),
            "-ERR invalid expire time in 'expire' command\r\n");
  // No TTL counts as infinite.
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "xx", "gt"}), ":0\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "gt"}), ":0\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "xx"}), ":0\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":-1\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "lt"}), ":1\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":10\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "20", "lt"}), ":0\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "5", "LT"}), ":1\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":5\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "5", "lt"}), ":0\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "6", "gt"}), ":1\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":6\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "nx"}), ":0\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "xx", "gt"}), ":1\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":100\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "50", "xx", "lt"}), ":1\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":50\r\n");
  EXPECT_EQ(Run({"EXPIRE", "nokey", "10", "nx"}), ":0\r\n");
  EXPECT_EQ(Run({"EXPIRE", "nokey", "10", "lt"}), ":0\r\n");
  EXPECT_EQ(Run({"SET", "k2", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k2", "10", "xx", "lt"}), ":0\r\n");
  EXPECT_EQ(Run({"TTL", "k2"}), ":-1\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k2", "-1", "lt"}), ":1\r\n");  // in the past: deleted
  EXPECT_EQ(Run({"EXISTS", "k2"}), ":0\r\n");
  EXPECT_EQ(Run({"SET", "k3", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k3", "-5", "gt"}), ":0\r\n");  // no TTL: GT fails, key stays
  EXPECT_EQ(Run({"EXISTS", "k3"}), ":1\r\n");
  EXPECT_EQ(Run({"PEXPIRE", "k3", "100", "gt"}), ":0\r\n");
  EXPECT_EQ(Run({"EXPIREAT", "k3", "100", "lt"}), ":1\r\n");
  EXPECT_EQ(Run({"EXISTS", "k3"}), ":0\r\n");
  EXPECT_EQ(Run({"SET", "k4", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k4", "10", "nx", "nx"}), ":1\r\n");  // repeats are allowed
  EXPECT_EQ(Run({"PEXPIRE", "k4", "20000", "gt", "gt"}), ":1\r\n");
  EXPECT_EQ(Run({"PTTL", "k4"}), ":20000\r\n");
}

TEST_F(CommandsTest, ConnectionCommands) {
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
  EXPECT_EQ(Run({"PING", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(Run({"ECHO", "a"}), "$1\r\na\r\n");
  EXPECT_EQ(Run({"SELECT", "0"}), "+OK\r\n");
  EXPECT_EQ(Run({"SELECT", "x"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"SELECT", "1"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(Run({"AUTH", "foo"}),
            "-ERR AUTH <password> called without any password configured for the default user. "
            "Are you sure your configuration is correct?\r\n");
  EXPECT_EQ(Run({"AUTH", "a", "b"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(Run({"HELLO", "4"}), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(Run({"HELLO", "x"}), "-ERR Protocol version is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"HELLO", "3", "FOO"}), "-ERR Syntax error in HELLO option 'FOO'\r\n");
  EXPECT_EQ(Run({"CLIENT", "SETNAME", "a b"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(Run({"CLIENT", "GETNAME"}), "$-1\r\n");
  const std::string hello = Run({"HELLO", "3", "SETNAME", "x"});
  EXPECT_EQ(hello.substr(0, 3), "%8\r");
  EXPECT_NE(hello.find("$5\r\nproto\r\n:3\r\n"), std::string::npos);
  EXPECT_EQ(Run({"CLIENT", "GETNAME"}), "$1\r\nx\r\n");
  EXPECT_EQ(Run({"GET", "nokey"}), "_\r\n");  // RESP3 null
  EXPECT_EQ(Run({"CLIENT", "ID"}), ":7\r\n");
  EXPECT_EQ(Run({"QUIT"}), "+OK\r\n");
  EXPECT_TRUE(session_.close_after_reply);
}

TEST_F(CommandsTest, PasswordAndAdmin) {
  server_.settings.password = "pw";
  server_.settings.admin_token = "tok";
  EXPECT_EQ(Run({"GET", "k"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(Run({"AUTH", "bad"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(Run({"AUTH", "pw"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$-1\r\n");
  EXPECT_EQ(Run({"CREMA.NODE", "ADMIT", "4"}),
            "-NOPERM admin commands need AUTH admin <admin token>\r\n");
  EXPECT_EQ(Run({"AUTH", "admin", "nope"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(Run({"AUTH", "admin", "tok"}), "+OK\r\n");
  EXPECT_EQ(Run({"CREMA.NODE", "ADMIT", "4"}), "+OK\r\n");
  EXPECT_EQ(Run({"CREMA.NODE", "DRAIN", "x"}), "-ERR node id must be a positive integer\r\n");
  api_.status().num_shards = 8;
  EXPECT_EQ(Run({"CREMA.SHARD", "TRANSFER", "3", "2"}), "+OK\r\n");
  EXPECT_EQ(Run({"CREMA.SHARD", "TRANSFER", "9", "2"}), "-ERR NOT_FOUND: no shard 9\r\n");
  EXPECT_EQ(api_.admin_log, (std::vector<std::string>{"admit 4", "transfer 3 to 2"}));
}

// CREMA.KEYSPACE CREATE|LIST|DROP: admin connections only, replies and refusals.
TEST_F(CommandsTest, KeyspacesAreCreatedListedAndDroppedByTheAdmin) {
  server_.settings.admin_token = "tok";
  api_.EnableKeyspaces(*keyspace::ParseKeyspaces(""));
  keyspace::KeyspaceNode keyspaces(&api_, nullptr, &clock_, *keyspace::ParseKeyspaces(""));
  server_.keyspaces = &keyspaces;
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "CREATE", "3:carts:strong"}),
            "-NOPERM admin commands need AUTH admin <admin token>\r\n");
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "LIST"}),
            "-NOPERM admin commands need AUTH admin <admin token>\r\n");
  EXPECT_EQ(Run({"AUTH", "admin", "tok"}), "+OK\r\n");
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "CREATE", "3:carts:strong:ttl=1h"}),
            "*2\r\n$21\r\n3:carts:strong:ttl=1h\r\n:1\r\n");
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "list"}),
            "*2\r\n*2\r\n$16\r\n0:default:strong\r\n:0\r\n"
            "*2\r\n$21\r\n3:carts:strong:ttl=1h\r\n:1\r\n");
  // The new keyspace is usable at once, and separate from keyspace 0.
  EXPECT_EQ(Run({"SELECT", "3"}), "+OK\r\n");
  EXPECT_EQ(Run({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"SELECT", "0"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$-1\r\n");
  // Refusals.
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "CREATE", "3:other:strong"}),
            "-ERR ALREADY_EXISTS: index: keyspace 3 exists ('carts')\r\n");
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "CREATE", "4:Carts:strong"}),
            "-ERR keyspace '4:Carts:strong': name must be 1..32 of [a-z0-9_-]\r\n");
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "CREATE", "4:ev:eventual"}).substr(0, 25),
            "-ERR FAILED_PRECONDITION:");
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "CREATE"}),
            "-ERR wrong number of arguments for 'crema.keyspace|create' command\r\n");
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "LIST", "x"}),
            "-ERR wrong number of arguments for 'crema.keyspace|list' command\r\n");
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "RENAME", "x"}),
            "-ERR unknown subcommand 'RENAME'. Try CREATE, LIST or DROP.\r\n");
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "DROP", "0"}),
            "-ERR index: keyspace 0 (the default) cannot be dropped\r\n");
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "DROP", "nosuch"}), "-ERR NOT_FOUND: no keyspace 'nosuch'\r\n");
  // Drop: refused at once; re-created, the index holds none of the old data.
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "DROP", "carts"}), "+OK\r\n");
  EXPECT_EQ(Run({"SELECT", "3"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(Run({"CREMA.KEYSPACE", "CREATE", "3:carts:strong"}),
            "*2\r\n$14\r\n3:carts:strong\r\n:2\r\n");
  EXPECT_EQ(Run({"SELECT", "3"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$-1\r\n");
  EXPECT_EQ(api_.admin_log, (std::vector<std::string>{"create 3:carts:strong:ttl=1h", "drop 3/1",
                                                      "create 3:carts:strong"}));
}

TEST_F(CommandsTest, DigestsAreAdminOnlyAndListEveryReplica) {
  server_.settings.admin_token = "tok";
  EXPECT_EQ(Run({"CREMA.DIGESTS"}), "-NOPERM admin commands need AUTH admin <admin token>\r\n");
  EXPECT_EQ(Run({"AUTH", "admin", "tok"}), "+OK\r\n");
  EXPECT_EQ(Run({"CREMA.DIGESTS"}), "-ERR this server cannot report replica digests\r\n");
  server_.replica_digests = [] {
    return std::vector<ReplicaDigest>{{.group = 0, .replica = 7, .applied = 12, .commit = 12,
                                       .digest = 0xabc, .leader = true, .raft_status = "lead x"},
                                      {.group = 3, .replica = 9, .applied = 4, .commit = 5,
                                       .digest = 0xffffffffffffffff, .leader = false},
                                      {.group = 4, .replica = 2, .not_running = "stopped: disk"}};
  };
  EXPECT_EQ(Run({"CREMA.DIGESTS"}),
            "*3\r\n*7\r\n:0\r\n:7\r\n:12\r\n:12\r\n$16\r\n0000000000000abc\r\n$6\r\nleader\r\n"
            "$6\r\nlead x\r\n"
            "*7\r\n:3\r\n:9\r\n:4\r\n:5\r\n$16\r\nffffffffffffffff\r\n$8\r\nfollower\r\n$0\r\n\r\n"
            "*7\r\n:4\r\n:2\r\n:0\r\n:0\r\n$16\r\n0000000000000000\r\n$13\r\nstopped: disk\r\n"
            "$0\r\n\r\n");
  EXPECT_EQ(Run({"CREMA.DIGESTS", "x"}),
            "-ERR wrong number of arguments for 'crema.digests' command\r\n");
}

TEST_F(CommandsTest, ConsistencyReachesTheNode) {
  EXPECT_EQ(Run({"CREMA.CONSISTENCY"}), "$5\r\nlocal\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$-1\r\n");
  EXPECT_EQ(api_.last_read_consistency(), std::nullopt);  // the node's default
  EXPECT_EQ(Run({"CREMA.CONSISTENCY", "linearizable"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$-1\r\n");
  EXPECT_EQ(api_.last_read_consistency(), ReadConsistency::kLinearizable);
  EXPECT_EQ(Run({"CREMA.CONSISTENCY", "eventual"}),
            "-ERR consistency must be local, linearizable or default\r\n");
}

TEST_F(CommandsTest, NodeErrorsMapToRedisStyleErrors) {
  api_.FailNext(absl::UnavailableError("no leader for shard 3"));
  EXPECT_EQ(Run({"GET", "k"}), "-CLUSTERDOWN no leader for shard 3\r\n");
  api_.FailNext(absl::ResourceExhaustedError("shard over memory ceiling"));
  EXPECT_EQ(Run({"SET", "k", "v"}), "-OOM command not allowed: shard over memory ceiling\r\n");
  api_.FailNext(absl::DeadlineExceededError("5s"));
  EXPECT_EQ(Run({"SET", "k", "v"}).substr(0, 9), "-TIMEOUT ");
  EXPECT_EQ(Run({"SET", std::string(kMaxKeyBytes + 1, 'k'), "v"}),
            "-ERR key must be 1..65536 bytes\r\n");
}

TEST_F(CommandsTest, CommandIntrospectionAndInfo) {
  EXPECT_EQ(Run({"COMMAND", "COUNT"}), absl::StrCat(":", AllCommands().size(), "\r\n"));
  EXPECT_EQ(Run({"COMMAND", "INFO", "get"}).substr(0, 20), "*1\r\n*10\r\n$3\r\nget\r\n:2");
  EXPECT_EQ(Run({"COMMAND", "FOO"}), "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n");
  const std::string docs = Run({"COMMAND", "DOCS", "set"});
  EXPECT_NE(docs.find("summary"), std::string::npos);
  const std::string info = Run({"INFO"});
  EXPECT_NE(info.find("redis_version:7.0.0"), std::string::npos) << info;
  EXPECT_NE(info.find("# Crema"), std::string::npos) << info;
  EXPECT_EQ(Run({"INFO", "crema"}).find("# Server"), std::string::npos);
  // Memory: the allocator always; used_memory only when the binary can tell.
  EXPECT_NE(info.find("# Memory\r\nmem_allocator:libc\r\n"), std::string::npos) << info;
  server_.settings.mem_allocator = "tcmalloc-2.10";
  server_.settings.used_memory = [] { return std::optional<size_t>(12345); };
  EXPECT_EQ(Run({"INFO", "memory"}),
            "$58\r\n# Memory\r\nused_memory:12345\r\nmem_allocator:tcmalloc-2.10\r\n\r\n");
  EXPECT_EQ(Run({"CONFIG", "GET", "save"}), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
  EXPECT_EQ(Run({"DBSIZE"}), ":0\r\n");
}

// What a pipeline orders commands by: the key arguments of each spec.
TEST(KeysOfTest, KeyArgumentsBySpec) {
  EXPECT_EQ(KeysOf(*FindCommand("GET"), {"GET", "k"}), (std::vector<std::string>{"k"}));
  EXPECT_EQ(KeysOf(*FindCommand("mset"), {"MSET", "a", "1", "b", "2"}),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(KeysOf(*FindCommand("del"), {"DEL", "x", "y", "z"}),
            (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_TRUE(KeysOf(*FindCommand("ping"), {"PING"}).empty());
}

}  // namespace
}  // namespace crema::resp
