// The replicated cache's command and result codecs: round trips, bounds, garbage.
#include "cache/replicated/command.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace crema::replicated {
namespace {

Command ClientCommand(CommandKind kind) {
  Command c;
  c.kind = kind;
  c.session = 7;
  c.seq = 12;
  c.ack_floor = 10;
  c.issued_unix_ns = 1'700'000'000'000'000'000;
  c.stamp_unix_ns = 1'700'000'000'500'000'000;
  c.key = "user:1";
  return c;
}

// Every kind with its fields filled from RapidCheck's values.
rc::Gen<Command> GenCommand() {
  return rc::gen::exec([] {
    const std::vector<CommandKind> kKinds = {
        CommandKind::kPut,    CommandKind::kDelete,      CommandKind::kCas,
        CommandKind::kIncrement, CommandKind::kExpire,   CommandKind::kGetAndTouch,
        CommandKind::kMultiPut,  CommandKind::kEvict,    CommandKind::kTick,
        CommandKind::kExpireIf,  CommandKind::kDeletePrefix};
    Command c;
    c.kind = *rc::gen::elementOf(kKinds);
    c.stamp_unix_ns = *rc::gen::arbitrary<int64_t>();
    const auto key = [] { return "k" + *rc::gen::arbitrary<std::string>(); };
    if (IsClientCommand(c.kind)) {
      c.session = *rc::gen::inRange<uint64_t>(1, UINT64_MAX);
      c.ack_floor = *rc::gen::inRange<uint64_t>(1, 1000);
      c.seq = c.ack_floor + *rc::gen::inRange<uint64_t>(0, 1000);
      c.issued_unix_ns = *rc::gen::arbitrary<int64_t>();
    }
    const auto expiry = [] {
      Expiry e;
      e.kind = static_cast<ExpiryKind>(*rc::gen::inRange(0, 4));
      e.ns = e.kind == ExpiryKind::kAfter ? *rc::gen::inRange<int64_t>(1, INT64_MAX)
                                          : *rc::gen::arbitrary<int64_t>();
      return e;
    };
    switch (c.kind) {
      case CommandKind::kPut:
        c.key = key();
        c.value = *rc::gen::arbitrary<std::string>();
        c.expiry = expiry();
        c.default_ttl_ns = *rc::gen::inRange<int64_t>(0, INT64_MAX);
        c.condition = static_cast<PutCondition>(*rc::gen::inRange(0, 3));
        c.return_previous = *rc::gen::arbitrary<bool>();
        break;
      case CommandKind::kCas:
        c.key = key();
        c.value = *rc::gen::arbitrary<std::string>();
        if (*rc::gen::arbitrary<bool>()) c.expected = *rc::gen::arbitrary<std::string>();
        c.expiry = expiry();
        break;
      case CommandKind::kIncrement:
        c.key = key();
        c.delta = *rc::gen::arbitrary<int64_t>();
        break;
      case CommandKind::kExpire:
      case CommandKind::kGetAndTouch:
        c.key = key();
        c.expiry = expiry();
        c.touch = c.kind == CommandKind::kGetAndTouch && *rc::gen::arbitrary<bool>();
        break;
      case CommandKind::kExpireIf: {
        c.key = key();
        c.expiry = expiry();
        if (c.expiry.kind != ExpiryKind::kAt) c.expiry = {ExpiryKind::kAfter, c.expiry.ns > 0 ? c.expiry.ns : 1};
        // One of the combinations Redis accepts: NX | XX | GT | LT | XX+GT | XX+LT.
        const int pick = *rc::gen::inRange(0, 6);
        c.expire_condition = ExpireCondition{.if_no_expiry = pick == 0,
                                             .if_has_expiry = pick == 1 || pick >= 4,
                                             .if_greater = pick == 2 || pick == 4,
                                             .if_less = pick == 3 || pick == 5};
        break;
      }
      case CommandKind::kMultiPut:
        for (int i = *rc::gen::inRange(1, 5); i > 0; --i) {
          c.entries.emplace_back(key(), *rc::gen::arbitrary<std::string>());
        }
        c.expiry = expiry();
        break;
      case CommandKind::kEvict:
        for (int i = *rc::gen::inRange(1, 5); i > 0; --i) c.keys.push_back(key());
        break;
      case CommandKind::kDelete:
      case CommandKind::kDeletePrefix:
        c.key = key();
        break;
      case CommandKind::kTick:
        break;
    }
    return c;
  });
}

RC_GTEST_PROP(CommandTest, EncodeDecodeRoundTrips, ()) {
  const Command c = *GenCommand();
  RC_ASSERT(ValidateCommand(c).ok());
  absl::StatusOr<Command> back = DecodeCommand(EncodeCommand(c));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == c);
}

RC_GTEST_PROP(CommandTest, TruncationsAndGarbageAreErrorsNotCrashes, (std::string garbage)) {
  const std::string encoded = EncodeCommand(*GenCommand());
  const size_t cut = *rc::gen::inRange<size_t>(0, encoded.size());
  RC_ASSERT(!DecodeCommand(encoded.substr(0, cut)).ok());
  (void)DecodeCommand(garbage);
  (void)DecodeCommand(encoded + garbage.substr(0, 1) + "x");  // trailing bytes
  RC_ASSERT(!DecodeCommand(encoded + "x").ok());
  (void)DecodeResult(garbage);
}

TEST(CommandTest, RejectsWhatTheStateMachineMustNeverSee) {
  Command c = ClientCommand(CommandKind::kPut);
  EXPECT_TRUE(ValidateCommand(c).ok());
  c.key.clear();
  EXPECT_FALSE(ValidateCommand(c).ok());  // empty key
  c = ClientCommand(CommandKind::kPut);
  c.key.assign(kMaxKeyBytes + 1, 'k');
  EXPECT_FALSE(ValidateCommand(c).ok());
  c = ClientCommand(CommandKind::kPut);
  c.seq = 9;  // below its own ack floor
  EXPECT_FALSE(ValidateCommand(c).ok());
  c = ClientCommand(CommandKind::kPut);
  c.session = 0;
  EXPECT_FALSE(ValidateCommand(c).ok());
  c = ClientCommand(CommandKind::kPut);
  c.expiry = {ExpiryKind::kAfter, 0};
  EXPECT_FALSE(ValidateCommand(c).ok());  // EX 0 is a client error, caught before proposing
  Command tick;
  tick.kind = CommandKind::kTick;
  EXPECT_TRUE(ValidateCommand(tick).ok());
  tick.session = 3;
  EXPECT_FALSE(ValidateCommand(tick).ok());
  Command evict;
  evict.kind = CommandKind::kEvict;
  EXPECT_FALSE(ValidateCommand(evict).ok());  // no keys
  // Conditional expire: a condition Redis accepts, a ttl or a time; nothing else carries one.
  c = ClientCommand(CommandKind::kExpireIf);
  c.expiry = {ExpiryKind::kAfter, 1};
  EXPECT_FALSE(ValidateCommand(c).ok());  // empty condition: that is kExpire
  c.expire_condition.if_has_expiry = c.expire_condition.if_greater = true;
  EXPECT_TRUE(ValidateCommand(c).ok());
  c.expire_condition.if_less = true;
  EXPECT_FALSE(ValidateCommand(c).ok());  // GT and LT
  c.expire_condition = ExpireCondition{.if_no_expiry = true, .if_greater = true};
  EXPECT_FALSE(ValidateCommand(c).ok());  // NX and GT
  c.expire_condition = ExpireCondition{.if_less = true};
  c.expiry = {ExpiryKind::kNever, 0};
  EXPECT_FALSE(ValidateCommand(c).ok());  // PERSIST has no condition
  c = ClientCommand(CommandKind::kExpire);
  c.expire_condition.if_no_expiry = true;
  EXPECT_FALSE(ValidateCommand(c).ok());
  // A condition byte outside the four bits is garbage.
  c = ClientCommand(CommandKind::kExpireIf);
  c.expiry = {ExpiryKind::kAfter, 1};
  c.expire_condition.if_less = true;
  std::string bytes = EncodeCommand(c);
  ASSERT_TRUE(DecodeCommand(bytes).ok());
  bytes.back() = static_cast<char>(16);
  EXPECT_FALSE(DecodeCommand(bytes).ok());
}

TEST(CommandTest, ResultsRoundTrip) {
  for (const Result& r : {Result{}, Result{ResultCode::kNotApplied, "old", 0},
                          Result{ResultCode::kOk, std::nullopt, -42},
                          Result{ResultCode::kSessionLimit}}) {
    absl::StatusOr<Result> back = DecodeResult(EncodeResult(r));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, r);
  }
  EXPECT_FALSE(DecodeResult("").ok());
  EXPECT_FALSE(DecodeResult(std::string("\x01\x09\x00\x00", 4)).ok());  // unknown code
}

TEST(CommandTest, FormatIsShortAndEscaped) {
  Command c = ClientCommand(CommandKind::kPut);
  c.key = std::string("a\nb") + std::string(100, 'x');
  c.value = "v";
  const std::string shown = FormatCommand(c);
  EXPECT_LT(shown.size(), 100u);
  EXPECT_NE(shown.find("\\n"), std::string::npos);
}

}  // namespace
}  // namespace crema::replicated
