// Command, result and protocol codecs: round trips, strict bounds, garbage never crashes.
#include "consensus/kv/command.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>

#include "consensus/kv/protocol.h"

namespace crema::kv {
namespace {

Command Cas(std::optional<std::string> expected) {
  return Command{CommandKind::kCas, 7, 9, "key", "new", std::move(expected)};
}

TEST(CommandTest, RoundTripsEveryKind) {
  const Command commands[] = {
      {CommandKind::kPut, 1, 1, "k", "v", std::nullopt},
      {CommandKind::kGet, 2, 5, "k", "", std::nullopt},
      {CommandKind::kDelete, 3, 8, "", "", std::nullopt},
      Cas("old"),
      Cas(std::nullopt),
      Cas(""),
  };
  for (const Command& c : commands) {
    absl::StatusOr<Command> decoded = DecodeCommand(EncodeCommand(c));
    ASSERT_TRUE(decoded.ok()) << decoded.status() << " " << FormatCommand(c);
    EXPECT_EQ(*decoded, c) << FormatCommand(c);
  }
}

TEST(CommandTest, EmptyExpectedDiffersFromAbsent) {
  EXPECT_NE(EncodeCommand(Cas("")), EncodeCommand(Cas(std::nullopt)));
}

TEST(CommandTest, RejectsBadInput) {
  const std::string good = EncodeCommand({CommandKind::kPut, 1, 1, "k", "v", std::nullopt});
  EXPECT_FALSE(DecodeCommand("").ok());
  EXPECT_FALSE(DecodeCommand(good + "x").ok()) << "trailing bytes";
  EXPECT_FALSE(DecodeCommand(good.substr(0, good.size() - 1)).ok()) << "truncated";
  std::string bad_kind = good;
  bad_kind[1] = 9;
  EXPECT_FALSE(DecodeCommand(bad_kind).ok());
  std::string zero_session = EncodeCommand({CommandKind::kGet, 1, 1, "k", "", std::nullopt});
  for (int i = 2; i < 10; ++i) zero_session[i] = 0;
  EXPECT_FALSE(DecodeCommand(zero_session).ok());
  EXPECT_FALSE(ValidateCommand({CommandKind::kGet, 1, 1, std::string(kMaxKeyBytes + 1, 'k'), "",
                                std::nullopt}).ok());
  EXPECT_FALSE(ValidateCommand({CommandKind::kGet, 1, 1, "k", "value on a get", std::nullopt})
                   .ok());
}

TEST(CommandTest, OversizedLengthFieldIsRejectedNotAllocated) {
  std::string bytes = EncodeCommand({CommandKind::kGet, 1, 1, "k", "", std::nullopt});
  // key_len sits after version, kind, session and seq: make it 4 GiB - 1.
  for (int i = 18; i < 22; ++i) bytes[i] = static_cast<char>(0xff);
  EXPECT_FALSE(DecodeCommand(bytes).ok());
}

TEST(CommandTest, ResultsAndProtocolRoundTrip) {
  for (const Result& r : {Result{ResultCode::kOk, "v"}, Result{ResultCode::kNotFound, {}},
                          Result{ResultCode::kCasFailed, {}}, Result{ResultCode::kOk, ""}}) {
    absl::StatusOr<Result> decoded = DecodeResult(EncodeResult(r));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, r);
  }
  const Request request{42, Cas("x")};
  absl::StatusOr<Request> req = DecodeRequest(EncodeRequest(request));
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->request_id, 42u);
  EXPECT_EQ(req->command, request.command);
  Reply reply{43, ReplyStatus::kResult, 2, Result{ResultCode::kOk, "v"}};
  absl::StatusOr<Reply> rep = DecodeReply(EncodeReply(reply));
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->request_id, 43u);
  EXPECT_EQ(rep->leader_hint, 2u);
  EXPECT_EQ(rep->result, reply.result);
  reply.status = ReplyStatus::kUnknown;
  EXPECT_TRUE(DecodeReply(EncodeReply(reply)).ok());
  EXPECT_FALSE(DecodeReply(EncodeReply(reply) + "junk").ok());
}

RC_GTEST_PROP(CommandProperty, RoundTrip, (uint8_t kind_raw, uint64_t session, uint64_t seq,
                                           std::string key, std::string value, bool has_expected,
                                           std::string expected)) {
  Command c;
  c.kind = static_cast<CommandKind>(1 + kind_raw % 4);
  c.session = session | 1;
  c.seq = seq | 1;
  c.key = key.substr(0, kMaxKeyBytes);
  if (c.kind == CommandKind::kPut || c.kind == CommandKind::kCas) c.value = value;
  if (c.kind == CommandKind::kCas && has_expected) c.expected = expected;
  absl::StatusOr<Command> decoded = DecodeCommand(EncodeCommand(c));
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == c);
}

RC_GTEST_PROP(CommandProperty, GarbageNeverCrashes, (std::string bytes)) {
  (void)DecodeCommand(bytes);
  (void)DecodeResult(bytes);
  (void)DecodeRequest(bytes);
  (void)DecodeReply(bytes);
  // A valid command with one byte flipped either decodes to something valid or is rejected.
  std::string good = EncodeCommand({CommandKind::kPut, 1, 2, "key", bytes, std::nullopt});
  const size_t at = *rc::gen::inRange<size_t>(0, good.size());
  good[at] = static_cast<char>(good[at] ^ *rc::gen::inRange(1, 256));
  absl::StatusOr<Command> decoded = DecodeCommand(good);
  if (decoded.ok()) RC_ASSERT(ValidateCommand(*decoded).ok());
}

}  // namespace
}  // namespace crema::kv
