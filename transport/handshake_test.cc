#include "transport/handshake.h"

#include <gtest/gtest.h>

namespace crema::transport {
namespace {

constexpr char kSecret[] = "correct horse battery staple";
constexpr char kOtherSecret[] = "incorrect horse battery staple";

struct Outcome {
  absl::Status dialer_status;    // of OnChallenge
  absl::Status acceptor_status;  // of OnHello, then OnProof
};

Outcome Handshake(std::string dialer_secret, std::string acceptor_secret, NodeId dialer = 1,
              NodeId expected = 2, NodeId acceptor = 2) {
  DialerHandshake d(dialer_secret, dialer, expected, RandomNonce());
  AcceptorHandshake a(acceptor_secret, acceptor, RandomNonce());
  Outcome run;
  absl::StatusOr<std::string> challenge = a.OnHello(dialer, d.HelloPayload());
  if (!challenge.ok()) {
    run.acceptor_status = challenge.status();
    return run;
  }
  absl::StatusOr<std::string> proof = d.OnChallenge(acceptor, *challenge);
  run.dialer_status = proof.status();
  if (!proof.ok()) {
    // A dishonest dialer would send a proof anyway: the acceptor must refuse it too.
    proof = std::string(kMacBytes, 'x');
  }
  run.acceptor_status = a.OnProof(dialer, *proof);
  if (run.acceptor_status.ok()) {
    EXPECT_EQ(a.peer(), dialer);
  }
  return run;
}

TEST(HandshakeTest, SameSecretAuthenticatesBothWays) {
  Outcome run = Handshake(kSecret, kSecret);
  EXPECT_TRUE(run.dialer_status.ok()) << run.dialer_status;
  EXPECT_TRUE(run.acceptor_status.ok()) << run.acceptor_status;
}

TEST(HandshakeTest, WrongSecretIsRefusedByBothSides) {
  Outcome run = Handshake(kSecret, kOtherSecret);
  EXPECT_TRUE(absl::IsUnauthenticated(run.dialer_status)) << run.dialer_status;
  EXPECT_TRUE(absl::IsUnauthenticated(run.acceptor_status)) << run.acceptor_status;
}

TEST(HandshakeTest, DialingTheWrongNodeIsRefused) {
  // The dialer expects node 3 but node 2 answers (stale address book).
  Outcome run = Handshake(kSecret, kSecret, /*dialer=*/1, /*expected=*/3, /*acceptor=*/2);
  EXPECT_FALSE(run.acceptor_status.ok());  // hello names node 3: the acceptor refuses at once
}

TEST(HandshakeTest, ProofIsBoundToTheNoncesAndIdentity) {
  DialerHandshake d(kSecret, 1, 2, RandomNonce());
  AcceptorHandshake first(kSecret, 2, RandomNonce());
  absl::StatusOr<std::string> challenge = first.OnHello(1, d.HelloPayload());
  ASSERT_TRUE(challenge.ok());
  absl::StatusOr<std::string> proof = d.OnChallenge(2, *challenge);
  ASSERT_TRUE(proof.ok());
  // Replaying the recorded hello and proof to a new connection (fresh acceptor nonce) fails.
  AcceptorHandshake second(kSecret, 2, RandomNonce());
  ASSERT_TRUE(second.OnHello(1, d.HelloPayload()).ok());
  EXPECT_TRUE(absl::IsUnauthenticated(second.OnProof(1, *proof)));
  // The proof does not pass as another node's either.
  AcceptorHandshake third(kSecret, 2, RandomNonce());
  ASSERT_TRUE(third.OnHello(5, d.HelloPayload()).ok());
  EXPECT_FALSE(third.OnProof(5, *proof).ok());
  // And the genuine one still works.
  EXPECT_TRUE(first.OnProof(1, *proof).ok());
}

TEST(HandshakeTest, MalformedStepsAreErrorsNotCrashes) {
  AcceptorHandshake a(kSecret, 2, RandomNonce());
  EXPECT_FALSE(a.OnProof(1, "early").ok());
  EXPECT_FALSE(a.OnHello(1, "short").ok());
  EXPECT_FALSE(a.OnHello(kNoNode, std::string(4 + kNonceBytes, '\0')).ok());
  DialerHandshake d(kSecret, 1, 2, RandomNonce());
  EXPECT_FALSE(d.OnChallenge(2, "").ok());
  EXPECT_FALSE(d.OnChallenge(2, std::string(kNonceBytes + kMacBytes, '\0')).ok());
}

TEST(HandshakeTest, SecretLengthIsValidated) {
  EXPECT_FALSE(ValidateClusterSecret("").ok());
  EXPECT_FALSE(ValidateClusterSecret("short").ok());
  EXPECT_TRUE(ValidateClusterSecret(kSecret).ok());
  EXPECT_FALSE(ValidateClusterSecret(std::string(kMaxClusterSecretBytes + 1, 's')).ok());
}

TEST(HandshakeTest, NoncesDiffer) { EXPECT_NE(RandomNonce(), RandomNonce()); }

}  // namespace
}  // namespace crema::transport
