// PeerSession: our requests and what answers them (blocks, rejects, chokes,
// allowed-fast), unsolicited data, and the peer's choke and interest.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/session/peer_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/message.h"
#include "tests/client/session/session_harness.h"

namespace bt::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace session_testing;  // NOLINT

// A rig connected to a seed that unchoked us (or not), events drained.
struct Downloading : Rig {
  explicit Downloading(bool fast = true, bool unchoke = true)
      : Rig(MakeInfo()) {
    if (!fast) {
      peer.reserved =
          protocol::ReservedBits().Set(protocol::ReservedBit::kExtension);
    }
    Connect();
    peer.Send(fast ? protocol::Message(protocol::HaveAll{})
                   : protocol::Message(protocol::Bitfield{"\xf0"}));
    if (unchoke) peer.Send(protocol::Unchoke{});
    Events();
  }
  // Block sends the right data for `b` (length as the torrent says).
  void Block(BlockRef b, size_t length = kBlockSize) {
    const int64_t offset = int64_t{b.piece} * 32 * 1024 + b.begin();
    peer.Send(protocol::Piece{b.piece, b.begin(), Content(offset, length)});
  }
};

TEST(RequestsTest, RequestSendsBlocksWithTheirLengths) {
  Downloading rig;
  rig.peer.Read();
  rig.session->Request({{0, 0}, {0, 1}, {3, 0}}, rig.now);
  std::vector<SentMessage> sent = rig.peer.Read();
  EXPECT_THAT(Of<protocol::Request>(sent),
              ElementsAre(protocol::Request{0, 0, 16384},
                          protocol::Request{0, 16384, 16384},
                          protocol::Request{3, 0, 5000}));  // short last block
  EXPECT_EQ(sent.size(), 3u);
  EXPECT_EQ(rig.session->requests_in_flight(), 3u);
}

TEST(RequestsTest, RequestSkipsBlocksOutsideTheTorrent) {
  Downloading rig;
  rig.peer.Read();
  rig.session->Request({{3, 1}, {4, 0}, {0, 2}}, rig.now);
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  EXPECT_EQ(rig.session->requests_in_flight(), 0u);
}

TEST(RequestsTest, RequestBeforeTheMetadataDoesNothing) {
  Rig rig(FakeTorrent::Magnet(MakeInfo()));
  rig.Connect();
  rig.session->Request({{0, 0}}, rig.now);
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  EXPECT_EQ(rig.session->requests_in_flight(), 0u);
}

TEST(RequestsTest, RequestedBlockArrivesInFlightAndClearsSnubbed) {
  Downloading rig;
  rig.session->Request({{0, 0}}, rig.now);
  rig.Advance(absl::Seconds(31));
  ASSERT_TRUE(rig.session->snubbed());
  rig.Events();
  rig.session->Request({{0, 1}}, rig.now);
  rig.Block({0, 1});
  std::vector<SessionEvent> events = rig.Events();
  ASSERT_THAT(EventNames(events), ElementsAre("BlockArrived 0:1"));
  const BlockArrived b = EventsOf<BlockArrived>(events)[0];
  EXPECT_TRUE(b.in_flight);
  EXPECT_EQ(b.data, Content(16384, 16384));
  EXPECT_FALSE(rig.session->snubbed());
  EXPECT_EQ(rig.session->payload_down(), 16384);
  EXPECT_EQ(rig.session->requests_in_flight(), 0u);
}

TEST(RequestsTest, BlockInAKeptReceiveBufferArrivesAsAViewOfIt) {
  Downloading rig;
  rig.peer.set_keep_buffers(true);
  rig.session->Request({{0, 1}, {3, 0}}, rig.now);
  rig.Block({0, 1});
  rig.Block({3, 0}, 5000);
  const std::vector<BlockArrived> blocks = EventsOf<BlockArrived>(rig.Events());
  ASSERT_EQ(blocks.size(), 2u);
  // The buffers are gone but for the views: ASan checks they are alive.
  EXPECT_TRUE(blocks[0].data.is_view());
  EXPECT_EQ(blocks[0].data, Content(16384, 16384));
  EXPECT_TRUE(blocks[1].data.is_view());
  EXPECT_EQ(blocks[1].data, Content(3 * 32 * 1024, 5000));
}

TEST(RequestsTest, BlockSplitOverReceivesOrNotKeptIsCopied) {
  for (const bool keep : {true, false}) {
    SCOPED_TRACE(keep ? "kept, split" : "not kept");
    Downloading rig;
    rig.peer.set_keep_buffers(keep);
    if (keep) rig.peer.set_split(Split::kRandom, 7);
    rig.session->Request({{0, 1}}, rig.now);
    rig.Block({0, 1});
    const std::vector<BlockArrived> blocks =
        EventsOf<BlockArrived>(rig.Events());
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_FALSE(blocks[0].data.is_view());
    EXPECT_EQ(blocks[0].data, Content(16384, 16384));
  }
}

TEST(RequestsTest, ShortLastBlockArrives) {
  Downloading rig;
  rig.session->Request({{3, 0}}, rig.now);
  rig.Block({3, 0}, 5000);
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("BlockArrived 3:0"));
  EXPECT_EQ(rig.session->payload_down(), 5000);
}

TEST(RequestsTest, BlockOfTheWrongLengthCloses) {
  Downloading rig;
  rig.session->Request({{3, 0}}, rig.now);
  rig.Block({3, 0}, 4999);
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
}

TEST(RequestsTest, BlockNeverRequestedClosesAFastPeer) {
  Downloading rig;
  rig.Block({1, 0});
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RequestsTest, UnsolicitedBlocksAreToleratedUpToTheLimitWithoutFast) {
  Downloading rig(/*fast=*/false);
  rig.session->Request({{0, 0}}, rig.now);
  rig.Advance(absl::Seconds(31));  // snubbed
  ASSERT_TRUE(rig.session->snubbed());
  rig.Events();
  for (int i = 0; i < rig.options.limits.max_unsolicited; ++i) {
    rig.Block({1, static_cast<uint32_t>(i % 2)});
  }
  EXPECT_TRUE(rig.session->active());
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  // Junk neither revives a snubbed peer nor counts as payload.
  EXPECT_TRUE(rig.session->snubbed());
  EXPECT_EQ(rig.session->payload_down(), 0);
  rig.Block({1, 0});
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RequestsTest, BlockAtAnOddOffsetIsUnsolicited) {
  Downloading rig;
  rig.session->Request({{0, 0}}, rig.now);
  rig.peer.Send(protocol::Piece{0, 100, Content(100, 1000)});
  EXPECT_TRUE(rig.session->closed());
}

TEST(RequestsTest, CancelledBlockArrivesLate) {
  Downloading rig;
  rig.session->Request({{0, 0}, {0, 1}}, rig.now);
  rig.peer.Read();
  rig.session->Cancel({0, 1});
  EXPECT_THAT(Of<protocol::Cancel>(rig.peer.Read()),
              ElementsAre(protocol::Cancel{0, 16384, 16384}));
  EXPECT_EQ(rig.session->requests_in_flight(), 1u);
  rig.Block({0, 1});
  std::vector<SessionEvent> events = rig.Events();
  ASSERT_THAT(EventNames(events), ElementsAre("BlockArrived 0:1 late"));
  EXPECT_FALSE(EventsOf<BlockArrived>(events)[0].in_flight);
  EXPECT_EQ(rig.session->payload_down(), 16384);
  // A second copy is unsolicited.
  rig.Block({0, 1});
  EXPECT_TRUE(rig.session->closed());
}

TEST(RequestsTest, CancelOfABlockNotInFlightSendsNothing) {
  Downloading rig;
  rig.peer.Read();
  rig.session->Cancel({0, 0});
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
}

TEST(RequestsTest, RejectAfterCancelIsTheExpectedAnswerNotAReturn) {
  Downloading rig;
  rig.session->Request({{0, 0}}, rig.now);
  rig.session->Cancel({0, 0});
  rig.Events();
  rig.peer.Send(protocol::Reject{0, 0, 16384});
  // We gave the block up already: it is not returned a second time.
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  EXPECT_TRUE(rig.session->active());
}

TEST(RequestsTest, RejectAfterASnubIsNotASecondReturn) {
  Downloading rig;
  rig.session->Request({{0, 0}, {0, 1}}, rig.now);
  rig.Advance(absl::Seconds(31));
  EXPECT_THAT(EventNames(rig.Events()),
              ElementsAre("RequestsReturned 0:0 0:1"));
  rig.peer.Send(protocol::Reject{0, 0, 16384});
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  EXPECT_TRUE(rig.session->active());
}

TEST(RequestsTest, LateBlockFromASnubbedPeerClearsSnubbed) {
  Downloading rig;
  rig.session->Request({{0, 0}, {0, 1}}, rig.now);
  rig.Advance(absl::Seconds(31));
  ASSERT_TRUE(rig.session->snubbed());
  rig.Events();
  rig.Block({0, 1});
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("BlockArrived 0:1 late"));
  EXPECT_FALSE(rig.session->snubbed());
  EXPECT_EQ(rig.session->payload_down(), 16384);
}

TEST(RequestsTest, RejectOfARequestInFlightReturnsIt) {
  Downloading rig;
  rig.session->Request({{0, 0}, {0, 1}}, rig.now);
  rig.peer.Send(protocol::Reject{0, 16384, 16384});
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("RequestsReturned 0:1"));
  EXPECT_EQ(rig.session->requests_in_flight(), 1u);
  EXPECT_TRUE(rig.session->active());
}

TEST(RequestsTest, RejectOfSomethingNeverRequestedCloses) {
  for (const protocol::Reject& r :
       {protocol::Reject{1, 0, 16384}, protocol::Reject{0, 0, 1000},
        protocol::Reject{0, 7, 16384}}) {
    Downloading rig;
    rig.session->Request({{0, 0}}, rig.now);
    rig.peer.Send(r);
    EXPECT_TRUE(rig.session->closed());
    EXPECT_EQ(rig.session->close_reason().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(RequestsTest, ChokeWithoutFastReturnsEverythingInFlight) {
  Downloading rig(/*fast=*/false);
  rig.session->Request({{0, 0}, {1, 1}}, rig.now);
  rig.peer.Send(protocol::Choke{});
  EXPECT_THAT(EventNames(rig.Events()),
              ElementsAre("PeerChokeChanged 1", "RequestsReturned 0:0 1:1"));
  EXPECT_EQ(rig.session->requests_in_flight(), 0u);
  EXPECT_TRUE(rig.session->peer_choking());
  // The data may still come: good, but late.
  rig.Block({1, 1});
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("BlockArrived 1:1 late"));
}

TEST(RequestsTest, ChokeWithFastKeepsRequestsInFlight) {
  Downloading rig;
  rig.session->Request({{0, 0}, {1, 1}}, rig.now);
  rig.peer.Send(protocol::Choke{});
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PeerChokeChanged 1"));
  EXPECT_EQ(rig.session->requests_in_flight(), 2u);
}

TEST(RequestsTest, ChokeAndUnchokeReportOnlyChanges) {
  Downloading rig(/*fast=*/true, /*unchoke=*/false);
  rig.peer.Send(protocol::Choke{});
  rig.peer.Send(protocol::Unchoke{});
  rig.peer.Send(protocol::Unchoke{});
  rig.peer.Send(protocol::Choke{});
  EXPECT_THAT(EventNames(rig.Events()),
              ElementsAre("PeerChokeChanged 0", "PeerChokeChanged 1"));
}

TEST(RequestsTest, AllowedFastMakesPiecesRequestableWhileChoked) {
  Downloading rig(/*fast=*/true, /*unchoke=*/false);
  EXPECT_TRUE(rig.session->RequestableHaveSet().None());
  rig.peer.Send(protocol::AllowedFast{2});
  rig.peer.Send(protocol::AllowedFast{2});
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("AllowedFastArrived 2"));
  storage::Bitfield requestable = rig.session->RequestableHaveSet();
  EXPECT_EQ(requestable.Count(), 1u);
  EXPECT_TRUE(requestable.Get(2));
  rig.peer.Send(protocol::Unchoke{});
  EXPECT_TRUE(rig.session->RequestableHaveSet().All());
}

TEST(RequestsTest, AllowedFastOfAPieceThePeerLacksIsNotRequestable) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.peer.Send(protocol::Bitfield{"\x80"});
  rig.peer.Send(protocol::AllowedFast{1});
  EXPECT_TRUE(rig.session->RequestableHaveSet().None());
  rig.peer.Send(protocol::Have{1});
  EXPECT_TRUE(rig.session->RequestableHaveSet().Get(1));
  EXPECT_FALSE(rig.session->RequestableHaveSet().Get(0));
}

TEST(RequestsTest, InterestIsReportedOnlyWhenItChanges) {
  Downloading rig;
  rig.peer.Send(protocol::Interested{});
  rig.peer.Send(protocol::Interested{});
  rig.peer.Send(protocol::NotInterested{});
  EXPECT_THAT(EventNames(rig.Events()),
              ElementsAre("PeerInterestChanged 1", "PeerInterestChanged 0"));
  EXPECT_FALSE(rig.session->peer_interested());
}

TEST(RequestsTest, SetInterestedSendsOnlyChanges) {
  Downloading rig;
  rig.peer.Read();
  rig.session->SetInterested(true);
  rig.session->SetInterested(true);
  rig.session->SetInterested(false);
  EXPECT_THAT(Names(rig.peer.Read()),
              ElementsAre("interested", "not interested"));
  EXPECT_FALSE(rig.session->am_interested());
}

TEST(RequestsTest, PortFromThePeerIsItsDhtPort) {
  Downloading rig;
  rig.peer.Send(protocol::Port{6882});
  rig.peer.Send(protocol::Port{0});
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("DhtPortArrived 6882"));
}

TEST(RequestsTest, SuggestAndUnknownMessagesAreIgnored) {
  Downloading rig;
  rig.peer.Send(protocol::Suggest{1});
  rig.peer.Send(protocol::UnknownMessage{99, "whatever"});
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  EXPECT_TRUE(rig.session->active());
}

TEST(RequestsTest, RatesFollowThePayload) {
  Downloading rig;
  std::vector<BlockRef> blocks;
  for (uint32_t p = 0; p < 3; ++p) blocks.push_back({p, 0});
  rig.session->Request(blocks, rig.now);
  for (const BlockRef& b : blocks) rig.Block(b);
  rig.Advance(absl::Seconds(1));
  // A fifth of 48 KiB/s after one second of a five-second average.
  EXPECT_NEAR(rig.session->download_rate(), 0.2 * 3 * 16384, 1.0);
  EXPECT_EQ(rig.session->upload_rate(), 0.0);
}

// The default torrent's blocks: 4 pieces of two, the last piece one short.
std::vector<BlockRef> AllBlocks() {
  return {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 0}, {2, 1}, {3, 0}};
}

TEST(RequestsTest, SlowStartAddsARequestPerBlock) {
  Downloading rig;
  EXPECT_EQ(rig.session->RequestDepth(), 16);
  rig.session->Request(AllBlocks(), rig.now);
  for (const BlockRef& b : AllBlocks())
    rig.Block(b, b.piece == 3 ? 5000 : kBlockSize);
  EXPECT_EQ(rig.session->RequestDepth(), 16 + 7);
}

TEST(RequestsTest, SlowStartEndsWhenTheRateStopsGrowing) {
  Downloading rig;
  const std::vector<BlockRef> four = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  auto half_second_of_four_blocks = [&] {
    rig.session->Request(four, rig.now);
    for (const BlockRef& b : four) rig.Block(b);
    rig.Advance(absl::Milliseconds(500));
  };
  half_second_of_four_blocks();
  EXPECT_EQ(rig.session->RequestDepth(), 16 + 4);
  half_second_of_four_blocks();  // no faster than the last half second
  // Two seconds at 128 KiB/s is 16 blocks, and blocks no longer add.
  EXPECT_NEAR(rig.session->download_rate(), 4 * 16384 / 0.5, 1.0);
  EXPECT_EQ(rig.session->RequestDepth(), 16);
  half_second_of_four_blocks();
  EXPECT_EQ(rig.session->RequestDepth(), 16);
}

TEST(RequestsTest, DepthNeverExceedsThePeersQueue) {
  Downloading rig;
  protocol::ExtensionHandshake hs = ScriptedPeer::Extensions();
  hs.reqq = 4;
  rig.peer.SendExtensionHandshake(hs);
  EXPECT_EQ(rig.session->RequestDepth(), 4);
}

}  // namespace
}  // namespace bt::client
