// Replies stay within the reply budget (BEP 32's 1024 bytes): FitReply on
// its own, then every reply type of a Node whose table, peer store and item
// store are as full as a hostile asker could wish.
#include "dht/reply_budget.h"

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "dht/item.h"
#include "dht/krpc.h"
#include "dht/node.h"
#include "gtest/gtest.h"
#include "tests/dht/node_harness.h"

namespace bt::dht::testing {
namespace {

const std::string kLongTid(kMaxTransactionIdSize, 't');

Endpoint V4(uint32_t i, uint16_t port = 6881) {
  return Endpoint::V4({static_cast<uint8_t>(20 + (i >> 16) % 200),
                       static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 1},
                      port);
}

NodeId RandomId(std::mt19937_64& rng) {
  NodeId id;
  for (size_t i = 0; i < NodeId::kSize; ++i) id[i] = static_cast<uint8_t>(rng());
  return id;
}

// Bencoded returns a bencoded string exactly `size` bytes long.
std::string Bencoded(size_t size) {
  for (size_t len = size - 2;; --len) {
    std::string s = std::to_string(len) + ":" + std::string(len, 'x');
    if (s.size() == size) return s;
  }
}

Message Parse(const std::string& bytes) {
  Message m;
  EXPECT_TRUE(ParseMessage(bytes, &m).ok());
  return m;
}

// IsPrefix: `part` is the start of `whole`.
template <typename T>
bool IsPrefix(const std::vector<T>& part, const std::vector<T>& whole) {
  return part.size() <= whole.size() &&
         std::equal(part.begin(), part.end(), whole.begin());
}

// Fitted runs FitReply and returns the parsed result, expecting it to fit.
Message Fitted(Message& m, size_t budget = 1024) {
  std::optional<std::string> bytes = FitReply(m, budget);
  EXPECT_TRUE(bytes.has_value());
  if (!bytes) return Message();
  EXPECT_LE(bytes->size(), budget);
  return Parse(*bytes);
}

Message BigReply(size_t nodes, size_t peers) {
  std::mt19937_64 rng(1);
  Message m = Message::MakeResponse(kLongTid, IdOf('r'));
  m.ip = V4(1);
  m.response.token = "12345678";
  m.response.nodes.emplace();
  for (size_t i = 0; i < nodes; ++i) {
    m.response.nodes->push_back(NodeInfo{RandomId(rng), V4(100 + i)});
  }
  if (peers > 0) {
    m.response.values.emplace();
    for (size_t i = 0; i < peers; ++i) m.response.values->push_back(V4(1000 + i));
  }
  return m;
}

TEST(FitReplyTest, AReplyThatFitsIsUnchanged) {
  Message m = BigReply(8, 10);
  const std::string whole = EncodeMessage(m);
  std::optional<std::string> fitted = FitReply(m, whole.size());
  ASSERT_TRUE(fitted.has_value());
  EXPECT_EQ(*fitted, whole);
}

TEST(FitReplyTest, PeersGoBeforeNodes) {
  Message m = BigReply(8, 200);
  const std::vector<NodeInfo> nodes = *m.response.nodes;
  const std::vector<Endpoint> peers = *m.response.values;
  Message r = Fitted(m);
  // No more than one peer too many was dropped, from the end.
  EXPECT_GT(EncodeMessage(m).size(), 1024u - 8);
  EXPECT_EQ(*r.response.nodes, nodes);
  ASSERT_TRUE(r.response.values.has_value());
  EXPECT_GT(r.response.values->size(), 80u);
  EXPECT_TRUE(IsPrefix(*r.response.values, peers));
}

TEST(FitReplyTest, SamplesGoBeforeNodes) {
  Message m = BigReply(8, 0);
  m.response.samples.emplace(200);
  Message r = Fitted(m);
  EXPECT_EQ(r.response.nodes->size(), 8u);
  EXPECT_GT(r.response.samples->size(), 30u);
}

TEST(FitReplyTest, FarthestNodesGoFirst) {
  Message m = BigReply(100, 0);
  const std::vector<NodeInfo> nodes = *m.response.nodes;
  Message r = Fitted(m);
  EXPECT_GT(r.response.nodes->size(), 30u);
  EXPECT_TRUE(IsPrefix(*r.response.nodes, nodes));
}

TEST(FitReplyTest, AnItemGoesLastAndKeepsItsSeq) {
  Message m = BigReply(8, 0);
  m.response.value = Bencoded(1000);
  m.response.key = std::string(32, 'k');
  m.response.signature = std::string(64, 's');
  m.response.seq = 7;
  Message r = Fitted(m);
  EXPECT_FALSE(r.response.nodes.has_value());
  EXPECT_FALSE(r.response.value.has_value());
  EXPECT_TRUE(r.response.key.empty());
  EXPECT_EQ(r.response.seq, 7);

  // A smaller item stays; the nodes make room for it.
  m = BigReply(8, 0);
  m.response.value = Bencoded(800);
  r = Fitted(m);
  EXPECT_EQ(r.response.value, Bencoded(800));
  EXPECT_LT(r.response.nodes.value_or(std::vector<NodeInfo>{}).size(), 8u);
}

TEST(FitReplyTest, EveryBudgetIsRespectedOrRefused) {
  for (size_t budget = 0; budget <= 2000; budget += 7) {
    Message m = BigReply(20, 50);
    m.response.samples.emplace(10);
    if (std::optional<std::string> fitted = FitReply(m, budget)) {
      EXPECT_LE(fitted->size(), budget);
      Parse(*fitted);
    } else {
      EXPECT_LT(budget, 120u);  // only a budget below the bare reply fails
    }
  }
  Message error = Message::MakeError(kLongTid, kErrorProtocol, "malformed query");
  EXPECT_TRUE(FitReply(error, 1024).has_value());
  EXPECT_FALSE(FitReply(error, 20).has_value());
}

// A Node with a full table, peer store and item store, asked everything
// with the longest transaction id. Parameters: bucket size, reply budget.
class NodeReplyBudgetTest
    : public ::testing::TestWithParam<std::tuple<size_t, size_t>>,
      public NodeHarness {
 protected:
  NodeReplyBudgetTest() : NodeHarness(Options()) {}

  static NodeOptions Options() {
    NodeOptions o = DefaultOptions();
    o.table.bucket_size = std::get<0>(GetParam());
    o.max_response_size = std::get<1>(GetParam());
    return o;
  }

  void SetUp() override {
    // Confirmed contacts: each queries us, we ping it, it answers.
    std::mt19937_64 rng(7);
    for (uint32_t i = 0; i < 400; ++i) {
      Endpoint from = V4(i);
      NodeId id = RandomId(rng);
      node_.HandlePacket(MakeQ(Method::kPing, id, "c"), from, kT0);
      for (OutgoingPacket& p : node_.TakeOutgoing()) {
        Message q = Parse(p.bytes);
        if (p.to != from || q.kind != MessageKind::kQuery) continue;
        node_.HandlePacket(
            EncodeMessage(Message::MakeResponse(q.transaction_id, id)), from, kT0);
      }
    }
    ASSERT_GE(node_.table().Closest(IdOf('z'), 100).size(),
              std::min<size_t>(100, node_.table().size()));
    // 150 peers for `hash_`, and 150 other hashes to sample.
    for (uint32_t i = 0; i < 150; ++i) {
      Endpoint from = V4(50'000 + i);
      Sha1Hash other;
      other[0] = static_cast<uint8_t>(i);
      other[1] = 1;
      for (const Sha1Hash& ih : {hash_, other}) {
        Message gp = One(MakeQ(Method::kGetPeers, IdOf('p'), "g",
                               [&](Query& q) { q.info_hash = ih; }),
                         from);
        Message ok = One(MakeQ(Method::kAnnouncePeer, IdOf('p'), "a", [&](Query& q) {
                           q.info_hash = ih;
                           q.port = 1;
                           q.token = gp.response.token.value_or("");
                         }),
                         from);
        ASSERT_EQ(ok.kind, MessageKind::kResponse);
      }
    }
    token_ = *One(MakeQ(Method::kGet, IdOf('a'), "g",
                        [&](Query& q) { q.target = IdOf('x'); }))
                  .response.token;
  }

  Message Ask(Method method, std::function<void(Query&)> fill = nullptr) {
    return One(MakeQ(method, IdOf('a'), kLongTid, fill));
  }

  Message Put(const DhtItem& item) {
    return Ask(Method::kPut, [&](Query& q) {
      q.token = token_;
      FillPut(item, q);
    });
  }

  Message Get(const NodeId& target) {
    return Ask(Method::kGet, [&](Query& q) { q.target = target; });
  }

  // LargestStored returns the largest size of `make(size)` the node stores
  // (found by bisection); the next size and the BEP 44 maximum must be
  // refused with 205. The last item put is one of that largest size.
  template <typename Make>
  size_t LargestStored(Make make) {
    auto stored = [&](size_t size) {
      Message r = Put(make(size));
      if (r.kind == MessageKind::kResponse) return true;
      EXPECT_EQ(r.error.code, kErrorValueTooBig) << size;
      return false;
    };
    size_t lo = 10, hi = kMaxItemValueSize + 1;  // stored / refused
    EXPECT_TRUE(stored(lo));
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      (stored(mid) ? lo : hi) = mid;
    }
    EXPECT_FALSE(stored(kMaxItemValueSize));
    EXPECT_FALSE(stored(lo + 1));
    EXPECT_TRUE(stored(lo));
    return lo;
  }

  const Sha1Hash hash_ = Sha1Hash::FromBytes(AsBytes("hhhhhhhhhhhhhhhhhhhh"));
  std::string token_;
};

TEST_P(NodeReplyBudgetTest, QueriesAboutNodesPeersAndSamples) {
  EXPECT_EQ(Ask(Method::kPing).kind, MessageKind::kResponse);
  Message r = Ask(Method::kFindNode, [](Query& q) { q.target = IdOf('z'); });
  ASSERT_TRUE(r.response.nodes.has_value());
  EXPECT_EQ(r.response.nodes->size(), 8u);  // K, whatever the bucket size
  r = Ask(Method::kGetPeers, [&](Query& q) { q.info_hash = hash_; });
  ASSERT_TRUE(r.response.values.has_value());
  EXPECT_GE(r.response.values->size(), 10u);
  EXPECT_TRUE(r.response.token.has_value());
  r = Ask(Method::kSampleInfohashes, [](Query& q) { q.target = IdOf('z'); });
  ASSERT_TRUE(r.response.samples.has_value());
  EXPECT_GE(r.response.samples->size(), 5u);
  EXPECT_EQ(r.response.num, 151);
  r = Ask(Method::kAnnouncePeer, [&](Query& q) {
    q.info_hash = hash_;
    q.port = 9;
    q.token = "forged!!";
  });
  EXPECT_EQ(r.error.code, kErrorProtocol);
  r = One("d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q7:vote_me1:t16:" + kLongTid +
          "1:y1:qe");
  EXPECT_EQ(r.error.code, kErrorMethodUnknown);
  // Send() checked every reply against the budget.
}

TEST_P(NodeReplyBudgetTest, LargestImmutableItemIsServedWithinTheBudget) {
  size_t largest = LargestStored(
      [](size_t size) { return MakeImmutableItem(Bencoded(size)); });
  if (std::get<1>(GetParam()) == 1024) EXPECT_GT(largest, 850u);
  Message r = Get(ImmutableTarget(Bencoded(largest)));
  EXPECT_EQ(r.response.value, Bencoded(largest));
  EXPECT_TRUE(r.response.token.has_value());
}

TEST_P(NodeReplyBudgetTest, LargestMutableItemIsServedWithinTheBudget) {
  std::array<uint8_t, 32> seed{};
  seed[0] = 9;
  Ed25519KeyPair keys = Ed25519KeyPairFromSeed(seed);
  int64_t seq = 100;  // the same number of digits throughout: "seq" counts
  size_t largest = LargestStored([&](size_t size) {
    return SignMutableItem(keys, "", ++seq, Bencoded(size));
  });
  if (std::get<1>(GetParam()) == 1024) EXPECT_GT(largest, 750u);
  Message r = Get(MutableTarget(keys.public_key, ""));
  EXPECT_EQ(r.response.value, Bencoded(largest));
  EXPECT_EQ(r.response.seq, seq);
  EXPECT_EQ(r.response.signature.size(), 64u);
}

INSTANTIATE_TEST_SUITE_P(
    BucketSizesAndBudgets, NodeReplyBudgetTest,
    ::testing::Values(std::make_tuple(size_t{8}, size_t{1024}),
                      std::make_tuple(size_t{64}, size_t{1024}),
                      std::make_tuple(size_t{64}, size_t{600})));

}  // namespace
}  // namespace bt::dht::testing
