#include "dht/item.h"

#include "dht/item_store.h"
#include "gtest/gtest.h"

namespace bt::dht {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

template <size_t N>
std::array<uint8_t, N> FromHex(std::string_view hex) {
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) {
    out[i] = static_cast<uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  }
  return out;
}

const Ed25519PublicKey kBepKey =
    FromHex<32>("77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548");

// The test vectors of BEP 44.
TEST(ItemTest, Bep44Vectors) {
  EXPECT_EQ(SignatureBuffer("", 1, "12:Hello World!"),
            "3:seqi1e1:v12:Hello World!");
  EXPECT_EQ(SignatureBuffer("foobar", 1, "12:Hello World!"),
            "4:salt6:foobar3:seqi1e1:v12:Hello World!");

  DhtItem m1;
  m1.is_mutable = true;
  m1.value = "12:Hello World!";
  m1.key = kBepKey;
  m1.seq = 1;
  m1.signature = FromHex<64>(
      "305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff"
      "1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01");
  EXPECT_EQ(ItemTarget(m1).ToHex(), "4a533d47ec9c7d95b1ad75f576cffc641853b750");
  EXPECT_TRUE(VerifyItem(m1, ItemTarget(m1)));

  DhtItem m2 = m1;
  m2.salt = "foobar";
  m2.signature = FromHex<64>(
      "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d"
      "df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08");
  EXPECT_EQ(ItemTarget(m2).ToHex(), "411eba73b6f087ca51a3795d9c8c938d365e32c1");
  EXPECT_TRUE(VerifyItem(m2, ItemTarget(m2)));

  EXPECT_EQ(ImmutableTarget("12:Hello World!").ToHex(),
            "e5f96f6f38320f0f33959cb4d3d656452117aadb");

  // Tampering breaks verification.
  DhtItem bad = m1;
  bad.seq = 2;
  EXPECT_FALSE(VerifyItem(bad, ItemTarget(bad)));
  bad = m1;
  bad.value = "12:Hello World?";
  EXPECT_FALSE(VerifyItem(bad, ItemTarget(bad)));
  EXPECT_FALSE(VerifyItem(m1, ItemTarget(m2)));  // wrong target
}

TEST(ItemTest, SignAndVerifyRoundTrip) {
  std::array<uint8_t, 32> seed{};
  seed[0] = 7;
  Ed25519KeyPair keys = Ed25519KeyPairFromSeed(seed);
  DhtItem item = SignMutableItem(keys, "s", 5, "i42e");
  EXPECT_TRUE(VerifyItem(item, MutableTarget(keys.public_key, "s")));
  DhtItem imm = MakeImmutableItem("4:spam");
  EXPECT_TRUE(VerifyItem(imm, ImmutableTarget("4:spam")));
}

TEST(ItemStoreTest, MutableRules) {
  std::array<uint8_t, 32> seed{};
  seed[0] = 9;
  Ed25519KeyPair keys = Ed25519KeyPairFromSeed(seed);
  ItemStore store;
  DhtItem v1 = SignMutableItem(keys, "", 1, "1:a");
  DhtItem v2 = SignMutableItem(keys, "", 2, "1:b");
  DhtItem v2other = SignMutableItem(keys, "", 2, "1:c");
  NodeId target = ItemTarget(v1);
  EXPECT_EQ(store.Put(v1, std::nullopt, kT0), 0);
  EXPECT_EQ(store.Put(v2, int64_t{0}, kT0), kErrorCasMismatch);
  EXPECT_EQ(store.Put(v2, int64_t{1}, kT0), 0);
  EXPECT_EQ(store.Get(target, kT0)->value, "1:b");
  EXPECT_EQ(store.Put(v1, std::nullopt, kT0), kErrorSequenceTooLow);
  EXPECT_EQ(store.Put(v2other, std::nullopt, kT0), kErrorSequenceTooLow);
  EXPECT_EQ(store.Put(v2, std::nullopt, kT0), 0);  // same: refresh
  DhtItem forged = v2;
  forged.seq = 3;
  EXPECT_EQ(store.Put(forged, std::nullopt, kT0), kErrorInvalidSignature);
  DhtItem big = SignMutableItem(keys, "", 4, std::string("1001:") + std::string(1001, 'x'));
  EXPECT_EQ(store.Put(big, std::nullopt, kT0), kErrorValueTooBig);
  DhtItem salty = SignMutableItem(keys, std::string(65, 's'), 4, "1:x");
  EXPECT_EQ(store.Put(salty, std::nullopt, kT0), kErrorSaltTooBig);
  // Expiry after two hours.
  EXPECT_EQ(store.Get(target, kT0 + absl::Hours(3)), nullptr);
}

TEST(ItemStoreTest, BoundedCount) {
  ItemStoreOptions o;
  o.max_items = 10;
  ItemStore store(o);
  for (int i = 0; i < 100; ++i) {
    std::string v = "i" + std::to_string(i) + "e";
    EXPECT_EQ(store.Put(MakeImmutableItem(v), std::nullopt,
                        kT0 + absl::Seconds(i)),
              0);
  }
  EXPECT_EQ(store.size(), 10u);
  EXPECT_NE(store.Get(ImmutableTarget("i99e"), kT0 + absl::Seconds(100)), nullptr);
  EXPECT_EQ(store.Get(ImmutableTarget("i0e"), kT0 + absl::Seconds(100)), nullptr);
}

}  // namespace
}  // namespace bt::dht
