// PeerSession: what a hostile or stuck peer can make a session hold. Each
// test floods one kind of request at a peer that never reads (never calls
// ConsumeOutput) and checks the real numbers: the send buffer, the queues,
// and that the session ends with kResourceExhausted when it must.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/session/peer_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/allowed_fast.h"
#include "protocol/message.h"
#include "protocol/ut_metadata.h"
#include "tests/client/session/session_harness.h"

namespace bt::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace session_testing;  // NOLINT

// The largest ut_metadata data message: a 16 KiB piece, its dictionary and
// the extended message's header.
constexpr size_t kMetadataMessageMax = protocol::kMetadataPieceSize + 100;

std::string MetadataRequest(uint8_t id, uint32_t piece) {
  std::string payload;
  protocol::AppendMetadataMessage(
      {protocol::MetadataMessageType::kRequest, piece}, &payload);
  return ScriptedPeer::Wire(protocol::Extended{id, payload});
}

// 4096 pieces: an info dictionary of about 82 KB, 6 metadata pieces.
std::shared_ptr<const metainfo::TorrentInfo> BigInfo() {
  return MakeSyntheticInfo(4096);
}

TEST(BoundsTest, MetadataRequestsFromAPeerThatNeverReads) {
  Rig rig(BigInfo());
  rig.Connect();  // the last read: from now on the peer reads nothing
  const uint8_t id = rig.peer.SessionExtensionId("ut_metadata");
  const size_t limit = rig.options.limits.send_high_water + kMetadataMessageMax;
  size_t most = 0;
  int sent = 0;
  for (; sent < 5000 && !rig.session->closed(); ++sent) {
    rig.peer.SendBytes(MetadataRequest(id, sent % 6));
    most = std::max(most, rig.session->PendingOutput().size());
  }
  EXPECT_LE(most, limit);
  EXPECT_GE(most, rig.options.limits.send_high_water) << "it did fill up";
  // 512 KiB of answers (32 whole pieces) and a queue of 16, then the end.
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_LT(sent, 100);
}

// A peer that reads between bursts of 30 requests (420 KB of answers)
// gets every one.
TEST(BoundsTest, MetadataRequestsFromAPeerThatReadsAreAllAnswered) {
  auto info = BigInfo();
  Rig rig(info);
  rig.Connect();
  const uint8_t id = rig.peer.SessionExtensionId("ut_metadata");
  size_t answered = 0, most = 0;
  for (int i = 0; i < 3000; ++i) {
    rig.peer.SendBytes(MetadataRequest(id, i % 6));
    most = std::max(most, rig.session->PendingOutput().size());
    if (i % 30 == 29) answered += Of<protocol::Extended>(rig.peer.Read()).size();
  }
  answered += Of<protocol::Extended>(rig.peer.Read()).size();
  EXPECT_TRUE(rig.session->active()) << rig.session->close_reason();
  EXPECT_EQ(answered, 3000u);
  EXPECT_LE(most, rig.options.limits.send_high_water + kMetadataMessageMax);
}

TEST(BoundsTest, MetadataRequestsBeforeTheMetadataStayBoundedToo) {
  Rig rig(FakeTorrent::Magnet(BigInfo()));
  rig.Connect();
  const uint8_t id = rig.peer.SessionExtensionId("ut_metadata");
  size_t most = 0;
  for (int i = 0; i < 100000 && !rig.session->closed(); ++i) {
    rig.peer.SendBytes(MetadataRequest(id, i % 6));
    most = std::max(most, rig.session->PendingOutput().size());
  }
  // Rejects are small, but no more of them than the high-water mark.
  EXPECT_LE(most, rig.options.limits.send_high_water + 100);
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kResourceExhausted);
}

protocol::HashRange Range(uint32_t i) {
  protocol::HashRange r;
  r.pieces_root[0] = 0xab;
  r.base_layer = 0;
  r.length = 2;
  r.index = 2 * i;
  return r;
}

TEST(BoundsTest, HashRequestsAreBoundedOutstandingAndQueued) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.Events();
  const auto& limits = rig.options.limits;
  std::string flood;
  for (uint32_t i = 0; i < 5000; ++i) {
    flood += ScriptedPeer::Wire(protocol::HashRequest{Range(i)});
  }
  rig.peer.SendBytes(flood);
  std::vector<HashRequestArrived> arrived =
      EventsOf<HashRequestArrived>(rig.Events());
  ASSERT_EQ(arrived.size(), limits.max_outstanding_hash_requests);
  EXPECT_EQ(arrived[0].range, Range(0));
  EXPECT_EQ(arrived[7].range, Range(7));
  // Beyond 256 in all, rejected straight away (53 bytes each).
  const size_t rejected = 5000 - limits.max_queued_hash_requests;
  EXPECT_EQ(rig.session->PendingOutput().size(), rejected * 53);
  std::vector<protocol::HashReject> rejects =
      Of<protocol::HashReject>(rig.peer.Read());
  ASSERT_EQ(rejects.size(), rejected);
  EXPECT_EQ(rejects[0].range, Range(256));
  // Each answer releases the next queued request, one for one.
  rig.session->SendHashes(arrived[0].range, std::string(64, 'h'));
  rig.session->SendHashReject(arrived[1].range);
  arrived = EventsOf<HashRequestArrived>(rig.Events());
  ASSERT_EQ(arrived.size(), 2u);
  EXPECT_EQ(arrived[0].range, Range(8));
  EXPECT_EQ(arrived[1].range, Range(9));
  std::vector<SentMessage> sent = rig.peer.Read();
  EXPECT_THAT(Names(sent), ElementsAre("hashes", "hash reject"));
}

TEST(BoundsTest, HashRequestsWaitForRoomInTheSendBuffer) {
  PeerSessionOptions o = DefaultOptions();
  o.limits.send_high_water = 1000;
  Rig rig(MakeInfo(), o);
  rig.Connect();
  rig.Events();
  // Fill the buffer past the mark with our own requests.
  std::vector<BlockRef> blocks;
  for (uint32_t p = 0; p < 4; ++p) blocks.push_back({p, 0});
  rig.peer.Send(protocol::HaveAll{});
  for (int i = 0; i < 20; ++i) rig.session->Request(blocks, rig.now);
  ASSERT_GE(rig.session->PendingOutput().size(), 1000u);
  rig.peer.Send(protocol::HashRequest{Range(0)});
  EXPECT_THAT(EventsOf<HashRequestArrived>(rig.Events()), IsEmpty());
  rig.peer.Read();
  EXPECT_EQ(EventsOf<HashRequestArrived>(rig.Events()).size(), 1u);
}

TEST(BoundsTest, HashRequestFloodAtAPeerThatNeverReadsEnds) {
  Rig rig(MakeInfo());
  rig.Connect();
  const size_t max = rig.options.limits.send_buffer_max;
  std::string chunk;
  for (uint32_t i = 0; i < 1000; ++i) {
    chunk += ScriptedPeer::Wire(protocol::HashRequest{Range(i)});
  }
  size_t most = 0;
  int chunks = 0;
  for (; chunks < 100 && !rig.session->closed(); ++chunks) {
    rig.peer.SendBytes(chunk);
    most = std::max(most, rig.session->PendingOutput().size());
  }
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_LE(most, max);
  // 256 requests queued, then 1 MiB / 53 bytes of rejects: the end.
  const size_t requests_to_close =
      rig.options.limits.max_queued_hash_requests + max / 53 + 1;
  EXPECT_EQ(chunks, static_cast<int>((requests_to_close + 999) / 1000));
  EXPECT_EQ(rig.session->PendingOutput().size(), 0u);
}

TEST(BoundsTest, RejectedBlockRequestsFromAPeerThatNeverReadsEnd) {
  InfoSpec forty;
  forty.total_size = 40 * forty.piece_length;
  Rig rig(MakeInfo(forty));
  rig.torrent->SetHaveAll();
  rig.Connect();
  const size_t max = rig.options.limits.send_buffer_max;
  // A piece outside the peer's allowed-fast set.
  const std::vector<uint32_t> fast = protocol::AllowedFastSet(
      rig.torrent->info_hash(), {10, 1, 2, 3}, 40, 10);
  uint32_t piece = 0;
  while (std::find(fast.begin(), fast.end(), piece) != fast.end()) ++piece;
  // We choke it: each request is answered with a 17-byte reject.
  std::string chunk;
  for (int i = 0; i < 1000; ++i) {
    chunk += ScriptedPeer::Wire(protocol::Request{piece, 0, 16384});
  }
  size_t most = 0;
  int chunks = 0;
  for (; chunks < 200 && !rig.session->closed(); ++chunks) {
    rig.peer.SendBytes(chunk);
    most = std::max(most, rig.session->PendingOutput().size());
  }
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_LE(most, max);
  EXPECT_EQ(chunks, static_cast<int>(max / 17 / 1000) + 1);
}

TEST(BoundsTest, QueuedBlockRequestsOfAPeerThatNeverReadsStayBounded) {
  Rig rig(MakeInfo());
  rig.torrent->SetHaveAll();
  rig.Connect();
  rig.session->SetChoking(false);
  const auto& limits = rig.options.limits;
  size_t served = 0, most = 0;
  for (int i = 0; i < 2000 && !rig.session->closed(); ++i) {
    rig.peer.Send(protocol::Request{static_cast<uint32_t>(i % 3), 0, 16384});
    while (auto r = rig.session->NextToServe()) {
      const std::string data = Content(int64_t{r->piece} * 32768, 16384);
      rig.session->SendBlock(*r, AsBytes(data));
      ++served;
    }
    most = std::max(most, rig.session->PendingOutput().size());
    EXPECT_LE(rig.session->queued_requests(), limits.max_queued_requests);
  }
  // Blocks stop at the high-water mark (32 of them), the queue at 500,
  // rejects after that; nothing grows past the send buffer's bound.
  EXPECT_EQ(served, limits.send_high_water / 16384);
  EXPECT_LE(most, limits.send_buffer_max);
  EXPECT_EQ(rig.session->queued_requests(), limits.max_queued_requests);
}

TEST(BoundsTest, ParserRefusesAnOversizedMessageAfterTheMetadata) {
  Rig rig(MakeInfo());
  rig.Connect();
  // 128 KiB is the floor for a small torrent's messages.
  std::string huge = ScriptedPeer::Wire(
      protocol::Extended{3, std::string(128 * 1024, 'x')});
  rig.peer.SendBytes(huge.substr(0, 10));
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(BoundsTest, MessageFloodThrottlesInputUntilTheBudgetRefills) {
  PeerSessionOptions options = DefaultOptions();
  options.limits.max_messages_per_second = 1000;
  Rig rig(MakeInfo(), options);
  rig.Connect();
  EXPECT_FALSE(rig.session->InputThrottled(rig.now));
  std::string flood;
  for (int i = 0; i < 3000; ++i) flood += ScriptedPeer::Wire(protocol::KeepAlive{});
  rig.peer.SendBytes(flood);  // three seconds' worth at once
  EXPECT_FALSE(rig.session->closed());
  EXPECT_TRUE(rig.session->InputThrottled(rig.now));
  rig.Advance(absl::Seconds(1));
  EXPECT_TRUE(rig.session->InputThrottled(rig.now)) << "still in debt";
  rig.Advance(absl::Milliseconds(1100));
  EXPECT_FALSE(rig.session->InputThrottled(rig.now));
}

}  // namespace
}  // namespace bt::client
