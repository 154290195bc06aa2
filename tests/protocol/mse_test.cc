#include "protocol/mse.h"

#include <openssl/bn.h>

#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/random.h"
#include "base/sha.h"
#include "gtest/gtest.h"
#include "protocol/handshake.h"

namespace bt::protocol {
namespace {

using ::absl::StatusCode;
using State = MseHandshake::State;

const absl::Time kNow = absl::FromUnixSeconds(1000000);

Sha1Hash Skey(uint8_t fill) {
  Sha1Hash h;
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(fill + i);
  return h;
}

std::string PlainHandshake(const Sha1Hash& ih) {
  Handshake hs;
  hs.info_hash = ih;
  hs.peer_id[0] = 'P';
  std::string out;
  AppendHandshake(hs, &out);
  return out;
}

// Delivers `bytes` to `to` in chunks of `chunk` bytes; what `to` answers is
// appended to `reply`.
absl::Status Deliver(MseHandshake& to, std::string_view bytes, size_t chunk,
                     std::string* reply) {
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    absl::Status s = to.Receive(bytes.substr(i, chunk), reply);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

struct Outcome {
  absl::Status initiator;
  absl::Status responder;
};

// Runs both machines against each other until neither has anything to say.
Outcome Exchange(MseInitiator& a, MseResponder& b, size_t chunk) {
  std::string to_b, to_a;
  Outcome o{a.Start(&to_b), absl::OkStatus()};
  for (int round = 0; round < 10 && o.initiator.ok() && o.responder.ok();
       ++round) {
    if (to_b.empty() && to_a.empty()) break;
    std::string next_a;
    o.responder = Deliver(b, to_b, chunk, &next_a);
    to_b.clear();
    if (!o.responder.ok()) break;
    to_a += next_a;
    std::string next_b;
    o.initiator = Deliver(a, to_a, chunk, &next_b);
    to_a.clear();
    to_b = next_b;
  }
  return o;
}

struct PolicyCase {
  EncryptionPolicy initiator;
  EncryptionPolicy responder;
  bool prefer_rc4;
  uint32_t expected;  // 0: the responder refuses
};

class MsePolicyTest : public ::testing::TestWithParam<PolicyCase> {};

TEST_P(MsePolicyTest, HandshakeAndTrafficBothWays) {
  const PolicyCase& c = GetParam();
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{100000}}) {
    SkeyTable table;
    table.Add(Skey(1));
    std::string ia = PlainHandshake(Skey(1));
    MseOptions ao, bo;
    ao.policy = c.initiator;
    bo.policy = c.responder;
    bo.prefer_rc4 = c.prefer_rc4;
    MseInitiator a(Skey(1), ia, ao, kNow);
    MseResponder b(&table, bo, kNow);
    Outcome o = Exchange(a, b, chunk);
    if (c.expected == 0) {
      EXPECT_EQ(o.responder.code(), StatusCode::kFailedPrecondition)
          << o.responder;
      EXPECT_EQ(b.state(), State::kFailed);
      continue;
    }
    ASSERT_TRUE(o.initiator.ok()) << o.initiator;
    ASSERT_TRUE(o.responder.ok()) << o.responder;
    ASSERT_TRUE(a.done());
    ASSERT_TRUE(b.done());
    EXPECT_EQ(a.selected_method(), c.expected);
    EXPECT_EQ(b.selected_method(), c.expected);
    EXPECT_FALSE(b.plaintext_handshake());
    EXPECT_EQ(b.skey(), Skey(1));
    EXPECT_EQ(b.TakeReceivedPayload(), ia);
    EXPECT_EQ(a.TakeReceivedPayload(), "");

    // Post-handshake traffic in both directions, in two pieces each.
    for (int round = 0; round < 2; ++round) {
      std::string msg = "message " + std::to_string(round) +
                        std::string(3000, static_cast<char>('a' + round));
      std::string wire = msg;
      a.Encrypt(&wire);
      EXPECT_EQ(wire == msg, c.expected == kCryptoPlaintext);
      std::string unused;
      ASSERT_TRUE(b.Receive(wire, &unused).ok());
      EXPECT_TRUE(b.TakeReceivedPayload() == msg);
      wire = msg;
      b.Encrypt(&wire);
      EXPECT_EQ(wire == msg, c.expected == kCryptoPlaintext);
      a.Decrypt(&wire);
      EXPECT_TRUE(wire == msg);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllPolicies, MsePolicyTest,
    ::testing::Values(PolicyCase{EncryptionPolicy::kEnabled,
                                 EncryptionPolicy::kEnabled, true, kCryptoRc4},
                      PolicyCase{EncryptionPolicy::kEnabled,
                                 EncryptionPolicy::kEnabled, false,
                                 kCryptoPlaintext},
                      PolicyCase{EncryptionPolicy::kEnabled,
                                 EncryptionPolicy::kForced, true, kCryptoRc4},
                      PolicyCase{EncryptionPolicy::kEnabled,
                                 EncryptionPolicy::kForced, false, kCryptoRc4},
                      PolicyCase{EncryptionPolicy::kForced,
                                 EncryptionPolicy::kEnabled, true, kCryptoRc4},
                      PolicyCase{EncryptionPolicy::kForced,
                                 EncryptionPolicy::kEnabled, false, kCryptoRc4},
                      PolicyCase{EncryptionPolicy::kForced,
                                 EncryptionPolicy::kForced, true, kCryptoRc4},
                      PolicyCase{EncryptionPolicy::kEnabled,
                                 EncryptionPolicy::kDisabled, true, 0},
                      PolicyCase{EncryptionPolicy::kForced,
                                 EncryptionPolicy::kDisabled, true, 0}));

// A plain (policy disabled) initiator just sends the BitTorrent handshake.
TEST(MseTest, PlainHandshakeIsHandedToThePlainPath) {
  SkeyTable table;
  std::string hs = PlainHandshake(Skey(1)) + "\0\0\0\1\2";
  for (EncryptionPolicy policy :
       {EncryptionPolicy::kDisabled, EncryptionPolicy::kEnabled}) {
    MseOptions o;
    o.policy = policy;
    MseResponder b(&table, o, kNow);
    std::string out;
    for (size_t i = 0; i < 19; ++i) {
      ASSERT_TRUE(b.Receive(hs.substr(i, 1), &out).ok());
      EXPECT_FALSE(b.done()) << i;  // undecided until byte 20
    }
    ASSERT_TRUE(b.Receive(hs.substr(19), &out).ok());
    EXPECT_TRUE(b.done());
    EXPECT_TRUE(b.plaintext_handshake());
    EXPECT_EQ(out, "");
    EXPECT_EQ(b.TakeReceivedPayload(), hs);
    ASSERT_TRUE(b.Receive("more", &out).ok());
    EXPECT_EQ(b.TakeReceivedPayload(), "more");
  }
  MseOptions forced;
  forced.policy = EncryptionPolicy::kForced;
  MseResponder b(&table, forced, kNow);
  std::string out;
  absl::Status s = b.Receive(hs, &out);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("forced"), std::string_view::npos) << s;
}

TEST(MseTest, DisabledInitiatorRefusesToStart) {
  MseOptions o;
  o.policy = EncryptionPolicy::kDisabled;
  MseInitiator a(Skey(1), "", o, kNow);
  std::string out;
  EXPECT_EQ(a.Start(&out).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(out, "");
}

// A peer without MSE reads our key as a broken handshake and hangs up, or
// answers with a plain handshake (never a 96-byte key).
TEST(MseTest, PlaintextRetryAdvisedOnlyWhenEnabledAndNoKeyArrived) {
  MseInitiator a(Skey(1), "", {}, kNow);
  std::string out;
  EXPECT_FALSE(a.PlaintextRetryAdvised());  // not started
  ASSERT_TRUE(a.Start(&out).ok());
  EXPECT_TRUE(a.PlaintextRetryAdvised());  // e.g. the connection closed
  ASSERT_TRUE(a.Receive(PlainHandshake(Skey(1)), &out).ok());
  EXPECT_TRUE(a.PlaintextRetryAdvised());
  EXPECT_EQ(a.CheckDeadline(kNow + absl::Minutes(1)).code(),
            StatusCode::kUnavailable);
  EXPECT_TRUE(a.PlaintextRetryAdvised());  // timed out without a key

  MseOptions forced;
  forced.policy = EncryptionPolicy::kForced;
  MseInitiator f(Skey(1), "", forced, kNow);
  ASSERT_TRUE(f.Start(&out).ok());
  EXPECT_FALSE(f.PlaintextRetryAdvised());

  // Once the peer's key arrived, the peer speaks MSE: no plaintext retry.
  SkeyTable table;
  table.Add(Skey(2));
  MseInitiator c(Skey(1), "", {}, kNow);
  MseResponder b(&table, {}, kNow);
  Outcome o = Exchange(c, b, 100);
  EXPECT_EQ(o.responder.code(), StatusCode::kNotFound);
  EXPECT_FALSE(c.PlaintextRetryAdvised());
}

TEST(MseTest, ResponderFindsTheTorrentAmongMany) {
  SkeyTable table;
  for (int i = 0; i < 1000; ++i) table.Add(Skey(static_cast<uint8_t>(i)));
  Sha1Hash want = Skey(77);
  want[19] = 0xEE;
  table.Add(want);
  MseInitiator a(want, "ia", {}, kNow);
  MseResponder b(&table, {}, kNow);
  Outcome o = Exchange(a, b, 1000);
  ASSERT_TRUE(o.responder.ok()) << o.responder;
  ASSERT_TRUE(b.done());
  EXPECT_EQ(b.skey(), want);
  EXPECT_EQ(b.TakeReceivedPayload(), "ia");
  table.Remove(want);
  MseInitiator a2(want, "ia", {}, kNow);
  MseResponder b2(&table, {}, kNow);
  o = Exchange(a2, b2, 1000);
  EXPECT_EQ(o.responder.code(), StatusCode::kNotFound) << o.responder;
}

TEST(MseTest, WrongSkeyFailsCleanly) {
  SkeyTable table;
  table.Add(Skey(1));
  MseInitiator a(Skey(2), "", {}, kNow);
  MseResponder b(&table, {}, kNow);
  Outcome o = Exchange(a, b, 64);
  EXPECT_EQ(o.responder.code(), StatusCode::kNotFound);
  EXPECT_NE(o.responder.message().find("SKEY"), std::string_view::npos);
  EXPECT_EQ(b.state(), State::kFailed);
  std::string out;
  EXPECT_EQ(b.Receive("x", &out), o.responder);  // stays failed
  EXPECT_FALSE(a.done());
}

// Step 3 arrives as one chunk: req1 (20) | req2^req3 (20) | ENCRYPT(VC...).
TEST(MseTest, BadVcIsRejected) {
  SkeyTable table;
  table.Add(Skey(1));
  MseInitiator a(Skey(1), "", {}, kNow);
  MseResponder b(&table, {}, kNow);
  std::string step1, step2, step3;
  ASSERT_TRUE(a.Start(&step1).ok());
  ASSERT_TRUE(b.Receive(step1, &step2).ok());
  ASSERT_TRUE(a.Receive(step2, &step3).ok());
  ASSERT_GE(step3.size(), 40u + 16u);
  step3[40 + 3] ^= 0x01;
  std::string step4;
  absl::Status s = b.Receive(step3, &step4);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("VC"), std::string_view::npos) << s;
}

TEST(MseTest, TamperedSelectIsRejectedByTheInitiator) {
  SkeyTable table;
  table.Add(Skey(1));
  MseOptions forced;
  forced.policy = EncryptionPolicy::kForced;
  MseInitiator a(Skey(1), "", forced, kNow);
  MseResponder b(&table, {}, kNow);
  std::string step1, step2, step3, step4;
  ASSERT_TRUE(a.Start(&step1).ok());
  ASSERT_TRUE(b.Receive(step1, &step2).ok());
  ASSERT_TRUE(a.Receive(step2, &step3).ok());
  ASSERT_TRUE(b.Receive(step3, &step4).ok());
  ASSERT_EQ(step4.size(), 14u);
  step4[11] ^= 0x03;  // RC4 (2) becomes plaintext (1), which was not offered
  std::string out;
  absl::Status s = a.Receive(step4, &out);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("offered"), std::string_view::npos) << s;
}

TEST(MseTest, GarbageFailsWithinTheSyncWindow) {
  std::mt19937 rng(7);
  std::string garbage(2000, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  garbage[0] = 0x55;  // not a plain handshake
  SkeyTable table;
  table.Add(Skey(1));
  MseResponder b(&table, {}, kNow);
  std::string out;
  absl::Status s;
  size_t fed = 0;
  for (; fed < garbage.size() && s.ok(); ++fed) {
    s = b.Receive(garbage.substr(fed, 1), &out);
  }
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(fed, kMseKeySize + kMseMaxPad + 20);  // fails at the window's end
  EXPECT_EQ(out.size() >= kMseKeySize, true);     // it did answer with Yb

  MseInitiator a(Skey(1), "", {}, kNow);
  std::string step1;
  ASSERT_TRUE(a.Start(&step1).ok());
  s = a.Receive(garbage, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("VC not found"), std::string_view::npos) << s;
}

TEST(MseTest, OutOfRangePublicKeyRejected) {
  SkeyTable table;
  MseResponder b(&table, {}, kNow);
  std::string out;
  std::string zero_key(kMseKeySize, '\0');
  absl::Status s = b.Receive(zero_key, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("out of range"), std::string_view::npos);
  MseInitiator a(Skey(1), "", {}, kNow);
  ASSERT_TRUE(a.Start(&out).ok());
  EXPECT_FALSE(a.Receive(std::string(kMseKeySize, '\xFF'), &out).ok());
}

TEST(MseTest, InitialPayloadLimit) {
  SkeyTable table;
  table.Add(Skey(1));
  MseOptions small;
  small.max_initial_payload = 10;
  MseInitiator a(Skey(1), std::string(11, 'i'), {}, kNow);
  MseResponder b(&table, small, kNow);
  Outcome o = Exchange(a, b, 50);
  EXPECT_EQ(o.responder.code(), StatusCode::kResourceExhausted);
  MseInitiator huge(Skey(1), std::string(65536, 'i'), {}, kNow);
  std::string out;
  EXPECT_EQ(huge.Start(&out).code(), StatusCode::kFailedPrecondition);
}

// Every truncation of either side's stream leaves the peer waiting (no
// error, not done); the deadline then fails it.
TEST(MseTest, TruncatedStreamsWaitThenTimeOut) {
  SkeyTable table;
  table.Add(Skey(1));
  MseInitiator a(Skey(1), "hello", {}, kNow);
  MseResponder b(&table, {}, kNow);
  std::string step1, step2, step3, step4;
  ASSERT_TRUE(a.Start(&step1).ok());
  ASSERT_TRUE(b.Receive(step1, &step2).ok());
  ASSERT_TRUE(a.Receive(step2, &step3).ok());
  ASSERT_TRUE(b.Receive(step3, &step4).ok());
  ASSERT_TRUE(b.done());

  // The responder's view: step 3 truncated anywhere (step 1 was whole).
  for (size_t n = 0; n < step3.size(); ++n) {
    MseInitiator a2(Skey(1), "hello", {}, kNow);
    MseResponder b2(&table, {}, kNow);
    std::string s1, s2, s3, out;
    ASSERT_TRUE(a2.Start(&s1).ok());
    ASSERT_TRUE(b2.Receive(s1, &s2).ok());
    ASSERT_TRUE(a2.Receive(s2, &s3).ok());
    ASSERT_TRUE(b2.Receive(s3.substr(0, n), &out).ok()) << n;
    EXPECT_FALSE(b2.done()) << n;
    EXPECT_TRUE(b2.CheckDeadline(kNow + absl::Seconds(29)).ok());
    absl::Status s = b2.CheckDeadline(kNow + absl::Seconds(30));
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << n;
    EXPECT_EQ(b2.state(), State::kFailed);
  }
  // The initiator's view: step2 + step4, truncated anywhere.
  for (size_t n = 0; n < step4.size(); ++n) {
    MseInitiator a2(Skey(1), "hello", {}, kNow);
    MseResponder b2(&table, {}, kNow);
    std::string s1, s2, s3, s4;
    ASSERT_TRUE(a2.Start(&s1).ok());
    ASSERT_TRUE(b2.Receive(s1, &s2).ok());
    ASSERT_TRUE(a2.Receive(s2, &s3).ok());
    ASSERT_TRUE(b2.Receive(s3, &s4).ok());
    std::string out;
    ASSERT_TRUE(a2.Receive(s4.substr(0, n), &out).ok());
    EXPECT_FALSE(a2.done());
    EXPECT_EQ(a2.CheckDeadline(kNow + absl::Minutes(1)).code(),
              StatusCode::kUnavailable);
  }
  // Nothing at all from the peer.
  MseResponder idle(&table, {}, kNow);
  EXPECT_EQ(idle.state(), State::kAwaitingKey);
  EXPECT_EQ(idle.CheckDeadline(kNow + absl::Seconds(31)).code(),
            StatusCode::kUnavailable);
  EXPECT_NE(idle.status().message().find("awaiting the peer's key"),
            std::string_view::npos);
}

TEST(MseTest, DataRightAfterTheHandshakeIsKept) {
  SkeyTable table;
  table.Add(Skey(1));
  MseInitiator a(Skey(1), "IA", {}, kNow);
  MseResponder b(&table, {}, kNow);
  std::string step1, step2, step3, step4;
  ASSERT_TRUE(a.Start(&step1).ok());
  ASSERT_TRUE(b.Receive(step1, &step2).ok());
  ASSERT_TRUE(a.Receive(step2, &step3).ok());
  // The initiator cannot encrypt more before it is done, so send step 3
  // now and the responder's reply with a payload appended in one chunk.
  ASSERT_TRUE(b.Receive(step3, &step4).ok());
  std::string extra = "peer-wire bytes";
  b.Encrypt(&extra);
  std::string out;
  ASSERT_TRUE(a.Receive(step4 + extra, &out).ok());
  ASSERT_TRUE(a.done());
  EXPECT_EQ(a.TakeReceivedPayload(), "peer-wire bytes");
}

TEST(MseTest, PlainLookingButNotPlainIsMse) {
  // 0x13 'B' 'x': first byte matches a plain handshake, the rest does not;
  // it is treated as an MSE key (and fails the sync later).
  SkeyTable table;
  MseResponder b(&table, {}, kNow);
  std::string out;
  std::string key(kMseKeySize, '\x42');
  key[0] = 0x13;
  key[1] = 'B';
  ASSERT_TRUE(b.Receive(key, &out).ok());
  EXPECT_FALSE(b.plaintext_handshake());
  EXPECT_EQ(b.state(), State::kSyncing);
  EXPECT_GE(out.size(), kMseKeySize);
  EXPECT_LE(out.size(), kMseKeySize + kMseMaxPad);
}

// libtorrent up to 2.0.8 obfuscates the SKEY with HASH('req3', S) taken
// over S without its leading zero byte, followed by one uninitialised
// byte. This test plays such an initiator by hand (its own DH key) and
// retries until S starts with exactly one zero byte.
TEST(MseTest, ResponderAcceptsLibtorrentsUnpaddedReq3) {
  const char kPrime[] =
      "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA6"
      "3B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
      "E485B576625E7EC6F44C42E9A63A36210000000000090563";
  BIGNUM* p = nullptr;
  ASSERT_TRUE(BN_hex2bn(&p, kPrime));
  bssl::UniquePtr<BIGNUM> prime(p);
  bssl::UniquePtr<BN_CTX> ctx(BN_CTX_new());
  auto hash = [](std::string_view tag, std::string_view a,
                 std::string_view b = {}) {
    Sha1Hasher h;
    h.Update(AsBytes(tag));
    h.Update(AsBytes(a));
    h.Update(AsBytes(b));
    return h.Final().ToString();
  };
  SkeyTable table;
  table.Add(Skey(1));
  const std::string skey = Skey(1).ToString();
  for (int attempt = 0; attempt < 5000; ++attempt) {
    uint8_t x[20];
    RandomBytes(MutableByteSpan(x));
    bssl::UniquePtr<BIGNUM> xa(BN_bin2bn(x, sizeof x, nullptr));
    bssl::UniquePtr<BIGNUM> g(BN_new()), ya(BN_new()), s(BN_new());
    BN_set_word(g.get(), 2);
    ASSERT_TRUE(
        BN_mod_exp(ya.get(), g.get(), xa.get(), prime.get(), ctx.get()));
    std::string ya_bytes(kMseKeySize, '\0');
    BN_bn2bin_padded(reinterpret_cast<uint8_t*>(ya_bytes.data()), kMseKeySize,
                     ya.get());
    MseResponder b(&table, {}, kNow);
    std::string step2;
    ASSERT_TRUE(b.Receive(ya_bytes, &step2).ok());
    bssl::UniquePtr<BIGNUM> yb(BN_bin2bn(
        reinterpret_cast<const uint8_t*>(step2.data()), kMseKeySize, nullptr));
    ASSERT_TRUE(
        BN_mod_exp(s.get(), yb.get(), xa.get(), prime.get(), ctx.get()));
    std::string secret(kMseKeySize, '\0');
    BN_bn2bin_padded(reinterpret_cast<uint8_t*>(secret.data()), kMseKeySize,
                     s.get());
    if (secret[0] != 0 || secret[1] == 0) continue;

    std::string unpadded = secret.substr(1) + "\xA5";  // garbage last byte
    std::string req2 = hash("req2", skey);
    std::string mask = hash("req3", unpadded);
    std::string step3 = hash("req1", secret);
    for (int i = 0; i < 20; ++i) step3 += static_cast<char>(req2[i] ^ mask[i]);
    std::string plain("\0\0\0\0\0\0\0\0\0\0\0\x02\0\0\0\x02IA", 18);
    Rc4Stream key_a(Sha1Hash::FromBytes(AsBytes(hash("keyA", secret, skey))));
    key_a.Apply(MutableByteSpan(reinterpret_cast<uint8_t*>(plain.data()),
                                plain.size()));
    step3 += plain;
    std::string step4;
    absl::Status st = b.Receive(step3, &step4);
    ASSERT_TRUE(st.ok()) << st;
    ASSERT_TRUE(b.done());
    EXPECT_EQ(b.skey(), Skey(1));
    EXPECT_EQ(b.selected_method(), kCryptoRc4);
    EXPECT_EQ(b.TakeReceivedPayload(), "IA");
    return;
  }
  FAIL() << "no shared secret with one leading zero byte in 5000 tries";
}

TEST(MseTest, Rc4DiscardsTheFirst1024Bytes) {
  Sha1Hash key = Skey(9);
  Rc4Stream s(key);
  uint8_t got[16] = {};
  s.Apply(MutableByteSpan(got));
  RC4_KEY raw;
  RC4_set_key(&raw, 20, key.data());
  uint8_t zeros[1024 + 16] = {};
  RC4(&raw, sizeof zeros, zeros, zeros);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(got), 16),
            std::string(reinterpret_cast<char*>(zeros + 1024), 16));
}

}  // namespace
}  // namespace bt::protocol
