// PeerSession: serving the peer's block requests (BEP 3, and BEP 6's reject
// and allowed-fast rules): queueing, the read pipeline, cancels, choking.
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/session/peer_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/allowed_fast.h"
#include "protocol/message.h"
#include "tests/client/session/session_harness.h"
#include "tests/testing/files.h"

namespace bt::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace session_testing;  // NOLINT

constexpr int64_t kPiece = 32 * 1024;
constexpr uint32_t kPieces = 40;
constexpr int64_t kLastPiece = 5000;

InfoSpec Forty() {
  InfoSpec spec;
  spec.piece_length = kPiece;
  spec.total_size = (kPieces - 1) * kPiece + kLastPiece;
  return spec;
}

ByteSpan Bytes(const std::string& s) { return AsBytes(s); }

// A seed of a 40-piece torrent, connected to an interested peer.
struct Seeding : Rig {
  explicit Seeding(bool fast = true, PeerSessionOptions o = DefaultOptions())
      : Rig(MakeInfo(Forty()), std::move(o)) {
    torrent->SetHaveAll();
    if (!fast) {
      peer.reserved =
          protocol::ReservedBits().Set(protocol::ReservedBit::kExtension);
    }
    Connect();
    peer.Send(protocol::Interested{});
    Events();
    const std::vector<uint32_t> set = protocol::AllowedFastSet(
        torrent->info_hash(), {10, 1, 2, 3}, kPieces, 10);
    allowed = set.front();
    for (uint32_t p = 0; p < kPieces; ++p) {
      if (std::find(set.begin(), set.end(), p) == set.end()) {
        not_allowed = p;
        break;
      }
    }
  }
  std::string Data(const protocol::Request& r) {
    return Content(int64_t{r.piece} * kPiece + r.begin, r.length);
  }
  uint32_t allowed = 0;      // in the peer's allowed-fast set
  uint32_t not_allowed = 0;  // not in it
};

protocol::Request Req(uint32_t piece, uint32_t block, uint32_t length = 16384) {
  return protocol::Request{piece, block * 16384, length};
}
protocol::Reject RejectOf(const protocol::Request& r) {
  return protocol::Reject{r.piece, r.begin, r.length};
}

TEST(ServingTest, RequestWhileChokingIsRejected) {
  Seeding rig;
  rig.peer.Send(Req(rig.not_allowed, 0));
  EXPECT_THAT(Of<protocol::Reject>(rig.peer.Read()),
              ElementsAre(RejectOf(Req(rig.not_allowed, 0))));
  EXPECT_EQ(rig.session->queued_requests(), 0u);
  EXPECT_EQ(rig.session->NextToServe(), std::nullopt);
}

TEST(ServingTest, RequestWhileChokingWithoutFastIsIgnored) {
  Seeding rig(/*fast=*/false);
  rig.peer.Send(Req(rig.not_allowed, 0));
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  EXPECT_EQ(rig.session->queued_requests(), 0u);
  EXPECT_TRUE(rig.session->active());
}

TEST(ServingTest, AllowedFastRequestIsServedWhileChoking) {
  Seeding rig;
  rig.peer.Send(Req(rig.allowed, 1));
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  EXPECT_EQ(rig.session->queued_requests(), 1u);
  EXPECT_EQ(rig.session->NextToServe(), Req(rig.allowed, 1));
}

TEST(ServingTest, AfterUnchokingRequestsQueueInOrder) {
  Seeding rig;
  rig.session->SetChoking(false);
  rig.session->SetChoking(false);
  EXPECT_THAT(Names(rig.peer.Read()), ElementsAre("unchoke"));
  EXPECT_FALSE(rig.session->am_choking());
  rig.peer.Send(Req(5, 1));
  rig.peer.Send(Req(5, 0));
  rig.peer.Send(Req(kPieces - 1, 0, kLastPiece));
  EXPECT_EQ(rig.session->queued_requests(), 3u);
  EXPECT_EQ(rig.session->NextToServe(), Req(5, 1));
  EXPECT_EQ(rig.session->NextToServe(), Req(5, 0));
  EXPECT_EQ(rig.session->NextToServe(), Req(kPieces - 1, 0, kLastPiece));
  EXPECT_EQ(rig.session->NextToServe(), std::nullopt);
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
}

TEST(ServingTest, NextToServeStopsAtTheHighWaterMarkCountingReads) {
  PeerSessionOptions o = DefaultOptions();
  o.limits.send_high_water = 40000;
  Seeding rig(true, o);
  rig.session->SetChoking(false);
  rig.peer.Read();
  for (uint32_t p = 0; p < 6; ++p) rig.peer.Send(Req(p, 0));
  std::vector<protocol::Request> reading;
  while (auto r = rig.session->NextToServe()) reading.push_back(*r);
  // 0, 16384 and 32768 bytes in progress are below 40000; 49152 is not.
  ASSERT_EQ(reading.size(), 3u);
  rig.session->SendBlock(reading[0], Bytes(rig.Data(reading[0])));
  EXPECT_EQ(rig.session->NextToServe(), std::nullopt)
      << "16397 unsent + 32768 being read";
  rig.peer.Read();
  // Below the mark now, but a burst is still being read: the next one
  // waits for it.
  EXPECT_EQ(rig.session->NextToServe(), std::nullopt);
  rig.session->SendBlock(reading[1], Bytes(rig.Data(reading[1])));
  rig.session->SendBlock(reading[2], Bytes(rig.Data(reading[2])));
  rig.peer.Read();
  EXPECT_EQ(rig.session->NextToServe(), Req(3, 0));
  EXPECT_EQ(rig.session->NextToServe(), Req(4, 0));
  EXPECT_EQ(rig.session->NextToServe(), Req(5, 0));
  EXPECT_EQ(rig.session->NextToServe(), std::nullopt);
  EXPECT_EQ(rig.session->queued_requests(), 0u);
}

// Requests that arrive while a burst is being read leave together once it
// is done, in one burst (one disk job), not one read per request.
TEST(ServingTest, RequestsArrivingDuringAReadWaitAndLeaveTogether) {
  Seeding rig;
  rig.session->SetChoking(false);
  rig.peer.Read();
  rig.peer.Send(Req(0, 0));
  std::optional<protocol::Request> first = rig.session->NextToServe();
  ASSERT_EQ(first, Req(0, 0));
  EXPECT_EQ(rig.session->NextToServe(), std::nullopt);
  for (uint32_t p = 1; p < 4; ++p) {
    rig.peer.Send(Req(p, 0));
    EXPECT_EQ(rig.session->NextToServe(), std::nullopt) << p;
  }
  rig.session->SendBlock(*first, Bytes(rig.Data(*first)));
  std::vector<protocol::Request> burst;
  while (auto r = rig.session->NextToServe()) burst.push_back(*r);
  EXPECT_EQ(burst, (std::vector<protocol::Request>{Req(1, 0), Req(2, 0),
                                                   Req(3, 0)}));
}

TEST(ServingTest, SendBlockSendsAPieceMessage) {
  Seeding rig;
  rig.session->SetChoking(false);
  rig.peer.Read();
  rig.peer.Send(Req(kPieces - 1, 0, kLastPiece));
  std::optional<protocol::Request> r = rig.session->NextToServe();
  ASSERT_TRUE(r.has_value());
  const std::string data = rig.Data(*r);
  rig.session->SendBlock(*r, Bytes(data));
  std::vector<SentMessage> sent = rig.peer.Read();
  ASSERT_THAT(Names(sent), ElementsAre("piece"));
  EXPECT_EQ(*sent[0].As<protocol::Piece>(),
            (protocol::Piece{kPieces - 1, 0, data}));
  EXPECT_EQ(rig.session->payload_up(), kLastPiece);
  // Sent once: a second SendBlock for it does nothing.
  rig.session->SendBlock(*r, Bytes(data));
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
}

// A file holding the torrent's content, opened for sending from.
std::shared_ptr<const storage::SendableFile> ContentFile() {
  return std::make_shared<const storage::SendableFile>(
      testing::UnlinkedFileOrDie(Content(0, (kPieces - 1) * kPiece + kLastPiece)),
      "content");
}

TEST(ServingTest, BlocksFromAFileGoOutInOrderAmongTheOtherMessages) {
  Seeding rig;
  ASSERT_TRUE(rig.session->CanSendFromFile());  // no encryption here
  rig.session->SetChoking(false);
  rig.peer.Read();
  for (const protocol::Request& r : {Req(4, 0), Req(4, 1), Req(5, 0)}) {
    rig.peer.Send(r);
  }
  std::vector<protocol::Request> reading;
  while (std::optional<protocol::Request> r = rig.session->NextToServe()) {
    reading.push_back(*r);
  }
  ASSERT_EQ(reading.size(), 3u);
  const std::shared_ptr<const storage::SendableFile> file = ContentFile();
  auto offset = [](const protocol::Request& r) {
    return int64_t{r.piece} * kPiece + r.begin;
  };
  rig.session->SendBlockFromFile(reading[0], file, offset(reading[0]));
  rig.session->SendHave(7);
  rig.session->SendBlock(reading[1], Bytes(rig.Data(reading[1])));
  rig.session->SendBlockFromFile(reading[2], file, offset(reading[2]));
  EXPECT_TRUE(rig.session->has_output());

  const std::vector<SentMessage> sent = rig.peer.Read();
  ASSERT_THAT(Names(sent), ElementsAre("piece", "have", "piece", "piece"));
  const std::vector<protocol::Piece> pieces = Of<protocol::Piece>(sent);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(pieces[i], (protocol::Piece{reading[i].piece, reading[i].begin,
                                          rig.Data(reading[i])}));
  }
  EXPECT_FALSE(rig.session->has_output());
  EXPECT_EQ(rig.session->payload_up(), 3 * 16384);
}

TEST(ServingTest, AFileChunkSentInPartsResumesWhereItStopped) {
  Seeding rig;
  rig.session->SetChoking(false);
  rig.peer.Read();
  rig.peer.Send(Req(2, 1));
  std::optional<protocol::Request> r = rig.session->NextToServe();
  ASSERT_TRUE(r.has_value());
  rig.session->SendBlockFromFile(*r, ContentFile(),
                                 int64_t{r->piece} * kPiece + r->begin);
  // The header first, then the file's bytes, a thousand at a time.
  EXPECT_EQ(rig.session->PendingOutput().size(), protocol::kPieceHeaderSize);
  EXPECT_EQ(rig.session->PendingFile(), nullptr);
  std::string wire(rig.session->PendingOutput());
  rig.session->ConsumeOutput(wire.size(), rig.now);
  while (const PeerSession::FileChunk* f = rig.session->PendingFile()) {
    std::string part(std::min<int64_t>(1000, f->length), '\0');
    ASSERT_EQ(pread(f->file->fd(), part.data(), part.size(), f->offset),
              static_cast<ssize_t>(part.size()));
    wire += part;
    rig.session->ConsumeFile(part.size(), rig.now);
  }
  EXPECT_FALSE(rig.session->has_output());
  std::string expected;
  protocol::AppendPieceHeader(r->piece, r->begin, r->length, &expected);
  expected += rig.Data(*r);
  EXPECT_EQ(wire, expected);
}

TEST(ServingTest, SendBlockOfTheWrongSizeRejectsInstead) {
  Seeding rig;
  rig.session->SetChoking(false);
  rig.peer.Read();
  rig.peer.Send(Req(2, 0));
  std::optional<protocol::Request> r = rig.session->NextToServe();
  ASSERT_TRUE(r.has_value());
  rig.session->SendBlock(*r, Bytes(std::string(100, 'x')));
  EXPECT_THAT(Of<protocol::Reject>(rig.peer.Read()),
              ElementsAre(RejectOf(Req(2, 0))));
  EXPECT_EQ(rig.session->payload_up(), 0);
}

TEST(ServingTest, SendBlockOfSomethingNotBeingReadSendsNothing) {
  Seeding rig;
  rig.session->SetChoking(false);
  rig.peer.Read();
  const std::string data = rig.Data(Req(1, 0));
  rig.session->SendBlock(Req(1, 0), Bytes(data));
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
}

TEST(ServingTest, AbortServeRejects) {
  Seeding rig;
  rig.session->SetChoking(false);
  rig.peer.Read();
  rig.peer.Send(Req(2, 1));
  std::optional<protocol::Request> r = rig.session->NextToServe();
  ASSERT_TRUE(r.has_value());
  rig.session->AbortServe(*r);
  EXPECT_THAT(Of<protocol::Reject>(rig.peer.Read()),
              ElementsAre(RejectOf(Req(2, 1))));
  rig.session->AbortServe(*r);  // only once
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
}

TEST(ServingTest, CancelOfAQueuedRequestRejectsIt) {
  Seeding rig;
  rig.session->SetChoking(false);
  rig.peer.Read();
  rig.peer.Send(Req(2, 0));
  rig.peer.Send(Req(2, 1));
  rig.peer.Send(protocol::Cancel{2, 16384, 16384});
  EXPECT_THAT(Of<protocol::Reject>(rig.peer.Read()),
              ElementsAre(RejectOf(Req(2, 1))));
  EXPECT_EQ(rig.session->queued_requests(), 1u);
  EXPECT_EQ(rig.session->NextToServe(), Req(2, 0));
  EXPECT_EQ(rig.session->NextToServe(), std::nullopt);
}

TEST(ServingTest, CancelOfARequestBeingReadStillSendsTheBlock) {
  Seeding rig;
  rig.session->SetChoking(false);
  rig.peer.Read();
  rig.peer.Send(Req(2, 0));
  std::optional<protocol::Request> r = rig.session->NextToServe();
  ASSERT_TRUE(r.has_value());
  rig.peer.Send(protocol::Cancel{2, 0, 16384});
  EXPECT_THAT(rig.peer.Read(), IsEmpty()) << "no reject: the read completes";
  const std::string data = rig.Data(*r);
  rig.session->SendBlock(*r, Bytes(data));
  EXPECT_THAT(Names(rig.peer.Read()), ElementsAre("piece"));
}

TEST(ServingTest, CancelOfSomethingUnknownIsIgnored) {
  Seeding rig;
  rig.peer.Send(protocol::Cancel{2, 0, 16384});
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  EXPECT_TRUE(rig.session->active());
}

TEST(ServingTest, ChokingRejectsQueuedRequestsAfterTheChokeButKeepsAllowedFast) {
  Seeding rig;
  rig.session->SetChoking(false);
  rig.peer.Read();
  rig.peer.Send(Req(rig.not_allowed, 0));
  rig.peer.Send(Req(rig.allowed, 0));
  rig.peer.Send(Req(rig.not_allowed, 1));
  rig.session->SetChoking(true);
  std::vector<SentMessage> sent = rig.peer.Read();
  EXPECT_THAT(Names(sent), ElementsAre("choke", "reject", "reject"));
  EXPECT_THAT(Of<protocol::Reject>(sent),
              ElementsAre(RejectOf(Req(rig.not_allowed, 0)),
                          RejectOf(Req(rig.not_allowed, 1))));
  EXPECT_EQ(rig.session->queued_requests(), 1u);
  EXPECT_EQ(rig.session->NextToServe(), Req(rig.allowed, 0));
}

// Blocks served from memory grow the send buffer; it is kept while the peer
// is unchoked (more blocks follow) and freed once a choked peer has been
// sent everything, so peers taking turns do not each hold one.
TEST(ServingTest, AChokedPeersSendBufferIsFreedOnceSent) {
  Seeding rig;
  rig.session->SetChoking(false);
  rig.peer.Read();
  // Six blocks, 96 KiB: more than a buffer that is kept anyway.
  auto serve = [&](uint32_t first_piece) {
    for (uint32_t p = first_piece; p < first_piece + 3; ++p) {
      for (uint32_t b = 0; b < 2; ++b) rig.peer.Send(Req(p, b));
    }
    while (auto r = rig.session->NextToServe()) {
      rig.session->SendBlock(*r, Bytes(rig.Data(*r)));
    }
  };
  serve(1);
  EXPECT_GE(rig.session->send_buffer_bytes(), 6 * 16384u);
  EXPECT_EQ(Of<protocol::Piece>(rig.peer.Read()).size(), 6u);
  EXPECT_GE(rig.session->send_buffer_bytes(), 6 * 16384u) << "unchoked";
  serve(4);
  rig.session->SetChoking(true);
  EXPECT_GE(rig.session->send_buffer_bytes(), 6 * 16384u) << "not sent yet";
  EXPECT_EQ(Of<protocol::Piece>(rig.peer.Read()).size(), 6u);
  EXPECT_LT(rig.session->send_buffer_bytes(), 16384u);
}

TEST(ServingTest, ChokingWithoutFastDropsQueuedRequestsSilently) {
  Seeding rig(/*fast=*/false);
  rig.session->SetChoking(false);
  rig.peer.Read();
  rig.peer.Send(Req(1, 0));
  rig.peer.Send(Req(2, 0));
  rig.session->SetChoking(true);
  EXPECT_THAT(Names(rig.peer.Read()), ElementsAre("choke"));
  EXPECT_EQ(rig.session->queued_requests(), 0u);
}

TEST(ServingTest, FullQueueRejects) {
  PeerSessionOptions o = DefaultOptions();
  o.limits.max_queued_requests = 3;
  Seeding rig(true, o);
  rig.session->SetChoking(false);
  rig.peer.Read();
  for (uint32_t p = 0; p < 5; ++p) rig.peer.Send(Req(p, 0));
  EXPECT_THAT(Of<protocol::Reject>(rig.peer.Read()),
              ElementsAre(RejectOf(Req(3, 0)), RejectOf(Req(4, 0))));
  EXPECT_EQ(rig.session->queued_requests(), 3u);
  // Room again once one is taken out to be read.
  ASSERT_TRUE(rig.session->NextToServe().has_value());
  rig.peer.Send(Req(5, 0));
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  EXPECT_EQ(rig.session->queued_requests(), 3u);
}

TEST(ServingTest, RequestOutsideThePieceCloses) {
  for (const protocol::Request& r :
       {Req(kPieces - 1, 0, kLastPiece + 1), Req(0, 1, 16385 - 1 + 2),
        protocol::Request{0, kPiece - 100, 16384}, Req(3, 0, 0)}) {
    Seeding rig;
    rig.session->SetChoking(false);
    rig.peer.Send(r);
    EXPECT_TRUE(rig.session->closed()) << r.piece << " " << r.begin;
    EXPECT_EQ(rig.session->close_reason().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(ServingTest, NotServingRejectsAndServesNothing) {
  Seeding rig;
  rig.session->SetChoking(false);
  rig.peer.Read();
  rig.peer.Send(Req(1, 0));
  rig.torrent->set_serving(false);
  EXPECT_EQ(rig.session->NextToServe(), std::nullopt);
  rig.peer.Send(Req(2, 0));
  EXPECT_THAT(Of<protocol::Reject>(rig.peer.Read()),
              ElementsAre(RejectOf(Req(2, 0))));
  rig.torrent->set_serving(true);
  EXPECT_EQ(rig.session->NextToServe(), Req(1, 0));
}

TEST(ServingTest, RequestForAPieceWeLackIsRejected) {
  Rig rig(MakeInfo(Forty()));
  rig.torrent->mutable_have().Set(1);
  rig.Connect();
  rig.session->SetChoking(false);
  rig.peer.Read();
  rig.peer.Send(Req(2, 0));
  rig.peer.Send(Req(1, 0));
  EXPECT_THAT(Of<protocol::Reject>(rig.peer.Read()),
              ElementsAre(RejectOf(Req(2, 0))));
  EXPECT_EQ(rig.session->queued_requests(), 1u);
}

TEST(ServingTest, SendHaveAnnouncesNewPieces) {
  Rig rig(MakeInfo(Forty()));
  rig.Connect();
  rig.session->SendHave(7);
  rig.session->SendHave(kPieces);  // past the end: ignored
  EXPECT_THAT(Of<protocol::Have>(rig.peer.Read()),
              ElementsAre(protocol::Have{7}));
}

}  // namespace
}  // namespace bt::client
