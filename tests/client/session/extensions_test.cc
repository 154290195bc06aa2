// PeerSession: the extension protocol (BEP 10), metadata exchange (BEP 9),
// peer exchange (BEP 11) and the BEP 52 hash messages.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/session/peer_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/extension_handshake.h"
#include "protocol/message.h"
#include "protocol/ut_metadata.h"
#include "protocol/ut_pex.h"
#include "tests/client/session/session_harness.h"

namespace bt::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using namespace session_testing;  // NOLINT
using protocol::MetadataMessage;
using protocol::MetadataMessageType;

// --- extension handshake --------------------------------------------------------

TEST(ExtensionsTest, MetadataSizeIsOfferedOnlyWithUtMetadata) {
  {
    Rig rig(FakeTorrent::Magnet(MakeInfo()));
    rig.Connect(false);
    rig.Events();
    protocol::ExtensionHandshake hs = ScriptedPeer::Extensions();
    hs.metadata_size = 12345;
    rig.peer.SendExtensionHandshake(hs);
    EXPECT_THAT(EventNames(rig.Events()),
                ElementsAre("PeerExtensionsArrived",
                            "MetadataSizeOffered 12345"));
    EXPECT_TRUE(rig.session->offers_metadata());
    EXPECT_EQ(rig.session->their_extensions().reqq, 250u);
  }
  {
    Rig rig(FakeTorrent::Magnet(MakeInfo()));
    rig.Connect(false);
    rig.Events();
    protocol::ExtensionHandshake hs;
    hs.m["ut_pex"] = 4;
    hs.metadata_size = 12345;
    rig.peer.SendExtensionHandshake(hs);
    EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PeerExtensionsArrived"));
    EXPECT_FALSE(rig.session->offers_metadata());
  }
}

TEST(ExtensionsTest, BadExtensionHandshakesClose) {
  {
    Rig rig(MakeInfo());
    rig.Connect(false);
    rig.peer.Send(protocol::Extended{0, "not bencode"});
    EXPECT_TRUE(rig.session->closed());
    EXPECT_EQ(rig.session->close_reason().code(),
              absl::StatusCode::kInvalidArgument);
  }
  {
    Rig rig(MakeInfo());
    rig.Connect(false);
    protocol::ExtensionHandshake hs = ScriptedPeer::Extensions();
    hs.metadata_size = rig.options.limits.max_metadata_size + 1;
    rig.peer.SendExtensionHandshake(hs);
    EXPECT_TRUE(rig.session->closed());
    EXPECT_EQ(rig.session->close_reason().code(),
              absl::StatusCode::kResourceExhausted);
  }
}

TEST(ExtensionsTest, ListenAddressOfAnIncomingPeerUsesItsPort) {
  PeerSessionOptions o = DefaultOptions();
  o.incoming = true;
  Rig rig(MakeInfo(), o);
  rig.Connect(false);
  EXPECT_EQ(rig.session->ListenAddress(), std::nullopt);
  protocol::ExtensionHandshake hs = ScriptedPeer::Extensions();
  hs.p = 7000;
  rig.peer.SendExtensionHandshake(hs);
  Endpoint expected = PeerAddress();
  expected.set_port(7000);
  EXPECT_EQ(rig.session->ListenAddress(), expected);

  Rig out(MakeInfo());
  EXPECT_EQ(out.session->ListenAddress(), PeerAddress());
}

// --- upload_only (BEP 21)
// ------------------------------------------------------

TEST(UploadOnlyTest, OurHandshakeSaysSoOnlyWhenTheTorrentOnlyUploads) {
  Rig downloading(MakeInfo());
  downloading.Connect();
  downloading.peer.Read();
  ASSERT_TRUE(downloading.peer.session_extensions().has_value());
  EXPECT_EQ(downloading.peer.session_extensions()->upload_only, std::nullopt);

  Rig seeding(MakeInfo());
  seeding.torrent->SetHaveAll();
  seeding.torrent->set_upload_only(true);
  seeding.Connect();
  seeding.peer.Read();
  ASSERT_TRUE(seeding.peer.session_extensions().has_value());
  EXPECT_EQ(seeding.peer.session_extensions()->upload_only, true);
}

TEST(UploadOnlyTest, AChangeIsSentOnceAsANewHandshake) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.peer.Read();
  rig.session->UpdateUploadOnly();  // no change: nothing
  EXPECT_THAT(rig.peer.Read(), IsEmpty());

  rig.torrent->set_upload_only(true);
  rig.session->UpdateUploadOnly();
  std::vector<SentMessage> sent = rig.peer.Read();
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_NE(sent[0].As<protocol::Extended>(), nullptr);
  EXPECT_EQ(sent[0].As<protocol::Extended>()->id, 0);
  EXPECT_EQ(rig.peer.session_extensions()->upload_only, true);
  rig.session->UpdateUploadOnly();
  EXPECT_THAT(rig.peer.Read(), IsEmpty());

  // Downloading again (a skipped file became wanted): told 0 explicitly.
  rig.torrent->set_upload_only(false);
  rig.session->UpdateUploadOnly();
  EXPECT_EQ(rig.peer.Read().size(), 1u);
  EXPECT_EQ(rig.peer.session_extensions()->upload_only, false);
}

TEST(UploadOnlyTest, NothingToAPeerWithoutTheExtensionProtocol) {
  Rig rig(MakeInfo());
  rig.peer.reserved = protocol::ReservedBits();
  rig.Connect(/*extensions=*/false);
  rig.peer.Read();
  rig.torrent->set_upload_only(true);
  rig.session->UpdateUploadOnly();
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  EXPECT_FALSE(rig.peer.session_extensions().has_value());
}

TEST(UploadOnlyTest, ThePeersFlagFollowsItsLastHandshake) {
  Rig rig(MakeInfo());
  rig.Connect(false);
  EXPECT_FALSE(rig.session->peer_upload_only());
  protocol::ExtensionHandshake hs = ScriptedPeer::Extensions();
  hs.upload_only = true;
  rig.peer.SendExtensionHandshake(hs);
  EXPECT_TRUE(rig.session->peer_upload_only());
  hs.upload_only = false;
  rig.peer.SendExtensionHandshake(hs);
  EXPECT_FALSE(rig.session->peer_upload_only());
}

// --- ut_metadata ------------------------------------------------------------------

TEST(MetadataTest, AskedPieceArrives) {
  auto info = MakeInfo();
  Rig rig(FakeTorrent::Magnet(info));
  rig.Connect();
  rig.Events();
  rig.session->RequestMetadataPiece(0, rig.now);
  std::vector<SentMessage> sent = rig.peer.Read();
  ASSERT_THAT(Names(sent), ElementsAre("extended"));
  const protocol::Extended x = *sent[0].As<protocol::Extended>();
  EXPECT_EQ(x.id, 3) << "the id the peer asked for";
  absl::StatusOr<MetadataMessage> m = protocol::ParseMetadataMessage(x.payload);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->type, MetadataMessageType::kRequest);
  EXPECT_EQ(m->piece, 0u);
  EXPECT_EQ(rig.session->metadata_requests(), 1);

  const std::string& bytes = info->info_bytes();
  rig.peer.SendMetadataMessage(
      {MetadataMessageType::kData, 0, bytes.size(), bytes});
  std::vector<SessionEvent> events = rig.Events();
  ASSERT_THAT(EventNames(events), ElementsAre("MetadataPieceArrived 0"));
  const MetadataPieceArrived piece = EventsOf<MetadataPieceArrived>(events)[0];
  EXPECT_EQ(piece.total_size, bytes.size());
  EXPECT_EQ(piece.data, bytes);
  EXPECT_EQ(rig.session->metadata_requests(), 0);
  // A second copy was not asked for.
  rig.peer.SendMetadataMessage(
      {MetadataMessageType::kData, 0, bytes.size(), bytes});
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
}

TEST(MetadataTest, DataNeverAskedForIsIgnored) {
  auto info = MakeInfo();
  Rig rig(FakeTorrent::Magnet(info));
  rig.Connect();
  rig.Events();
  const std::string& bytes = info->info_bytes();
  rig.peer.SendMetadataMessage(
      {MetadataMessageType::kData, 0, bytes.size(), bytes});
  rig.peer.SendMetadataMessage({MetadataMessageType::kReject, 0});
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  EXPECT_TRUE(rig.session->active());
}

TEST(MetadataTest, RejectOfAnAskedPiece) {
  Rig rig(FakeTorrent::Magnet(MakeInfo()));
  rig.Connect();
  rig.Events();
  rig.session->RequestMetadataPiece(0, rig.now);
  rig.peer.SendMetadataMessage({MetadataMessageType::kReject, 0});
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("MetadataPieceRejected 0"));
  EXPECT_EQ(rig.session->metadata_requests(), 0);
}

TEST(MetadataTest, NoRequestToAPeerWithoutUtMetadata) {
  Rig rig(FakeTorrent::Magnet(MakeInfo()));
  rig.Connect(false);
  rig.session->RequestMetadataPiece(0, rig.now);
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  EXPECT_EQ(rig.session->metadata_requests(), 0);
}

TEST(MetadataTest, RequestsAreServedFromTheInfoBytes) {
  auto info = MakeSyntheticInfo(1000);  // 20 KB of piece hashes: 2 pieces
  const std::string& bytes = info->info_bytes();
  ASSERT_EQ(protocol::MetadataPieceCount(bytes.size()), 2u);
  Rig rig(info);
  rig.Connect();
  rig.peer.SendMetadataMessage({MetadataMessageType::kRequest, 1});
  rig.peer.SendMetadataMessage({MetadataMessageType::kRequest, 0});
  rig.peer.SendMetadataMessage({MetadataMessageType::kRequest, 2});
  std::vector<MetadataMessage> answers;
  std::vector<SentMessage> sent = rig.peer.Read();
  for (const protocol::Extended& x : Of<protocol::Extended>(sent)) {
    EXPECT_EQ(x.id, 3);
    absl::StatusOr<MetadataMessage> m = protocol::ParseMetadataMessage(x.payload);
    ASSERT_TRUE(m.ok()) << m.status();
    answers.push_back(*m);
  }
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0].type, MetadataMessageType::kData);
  EXPECT_EQ(answers[0].piece, 1u);
  EXPECT_EQ(answers[0].total_size, bytes.size());
  EXPECT_EQ(answers[0].data, bytes.substr(protocol::kMetadataPieceSize));
  EXPECT_EQ(answers[1].data, bytes.substr(0, protocol::kMetadataPieceSize));
  EXPECT_EQ(answers[2].type, MetadataMessageType::kReject);
  EXPECT_EQ(answers[2].piece, 2u);
}

TEST(MetadataTest, RequestsAreRejectedWhileTheMetadataIsUnknown) {
  Rig rig(FakeTorrent::Magnet(MakeInfo()));
  rig.Connect();
  rig.peer.SendMetadataMessage({MetadataMessageType::kRequest, 0});
  const std::vector<SentMessage> messages = rig.peer.Read();
  std::vector<protocol::Extended> sent = Of<protocol::Extended>(messages);
  ASSERT_EQ(sent.size(), 1u);
  absl::StatusOr<MetadataMessage> m = protocol::ParseMetadataMessage(sent[0].payload);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->type, MetadataMessageType::kReject);
}

TEST(MetadataTest, UnknownMessageTypeIsIgnoredAndGarbageCloses) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.Events();
  const uint8_t id = rig.peer.SessionExtensionId("ut_metadata");
  rig.peer.Send(protocol::Extended{id, "d8:msg_typei7e5:piecei0ee"});
  EXPECT_TRUE(rig.session->active());
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  rig.peer.Send(protocol::Extended{id, "garbage"});
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MetadataTest, RequestsOfAPeerWithoutUtMetadataGetNoAnswer) {
  Rig rig(MakeInfo());
  rig.Connect(false);
  std::string payload;
  protocol::AppendMetadataMessage({MetadataMessageType::kRequest, 0}, &payload);
  rig.peer.Send(protocol::Extended{2, payload});
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  EXPECT_TRUE(rig.session->active());
}

// --- ut_pex ---------------------------------------------------------------------

std::string PexPayload(std::vector<Endpoint> v4, std::vector<Endpoint> v6 = {}) {
  protocol::PexMessage m;
  m.added = std::move(v4);
  m.added6 = std::move(v6);
  std::string payload;
  protocol::AppendPexMessage(m, &payload);
  return payload;
}

Endpoint V4(uint8_t last, uint16_t port = 6881) {
  return Endpoint::V4({192, 0, 2, last}, port);
}

TEST(PexTest, ReceivedPeersArrive) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.Events();
  std::array<uint8_t, 16> a6{};
  a6[0] = 0x20;
  a6[15] = 9;
  rig.peer.SendPex(PexPayload({V4(1), V4(2)}, {Endpoint::V6(a6, 7)}));
  std::vector<PexPeersArrived> got = EventsOf<PexPeersArrived>(rig.Events());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].added,
              UnorderedElementsAre(V4(1), V4(2), Endpoint::V6(a6, 7)));
}

// BEP 11 flags come with each peer, when the sender gave them.
TEST(PexTest, FlagsArriveWithTheirPeers) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.Events();
  protocol::PexMessage m;
  m.added = {V4(1), V4(2)};
  m.added_flags = {protocol::kPexUtp, protocol::kPexSeed};
  std::array<uint8_t, 16> a6{};
  a6[0] = 0x20;
  m.added6 = {Endpoint::V6(a6, 7)};  // no added6.f
  std::string payload;
  protocol::AppendPexMessage(m, &payload);
  rig.peer.SendPex(payload);
  std::vector<PexPeersArrived> got = EventsOf<PexPeersArrived>(rig.Events());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].added, ElementsAre(V4(1), V4(2), Endpoint::V6(a6, 7)));
  EXPECT_THAT(got[0].flags,
              ElementsAre(std::optional<uint8_t>(protocol::kPexUtp),
                          std::optional<uint8_t>(protocol::kPexSeed),
                          std::nullopt));
}

TEST(PexTest, ASecondMessageWithinThirtySecondsIsIgnored) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.Events();
  rig.peer.SendPex(PexPayload({V4(1)}));
  rig.now += absl::Seconds(29);
  rig.peer.SendPex(PexPayload({V4(2)}));
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PexPeersArrived 1"));
  rig.now += absl::Seconds(2);
  rig.peer.SendPex(PexPayload({V4(3)}));
  std::vector<PexPeersArrived> got = EventsOf<PexPeersArrived>(rig.Events());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].added, ElementsAre(V4(3)));
}

TEST(PexTest, PrivateTorrentIgnoresPex) {
  InfoSpec spec;
  spec.is_private = true;
  Rig rig(MakeInfo(spec));
  rig.Connect();
  rig.Events();
  rig.peer.Send(protocol::Extended{1, PexPayload({V4(1)})});
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  EXPECT_TRUE(rig.session->active());
}

TEST(PexTest, MalformedPexIsDroppedNotFatal) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.Events();
  rig.peer.SendPex("d5:added3:abce");
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  EXPECT_TRUE(rig.session->active());
}

protocol::PexMessage ReadPex(Rig& rig) {
  const std::vector<SentMessage> messages = rig.peer.Read();
  std::vector<protocol::Extended> sent = Of<protocol::Extended>(messages);
  EXPECT_EQ(sent.size(), 1u);
  if (sent.size() != 1) return {};
  EXPECT_EQ(sent[0].id, 4) << "the peer's ut_pex id";
  absl::StatusOr<protocol::PexMessage> m =
      protocol::ParsePexMessage(sent[0].payload);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : protocol::PexMessage{};
}

TEST(PexTest, SendPexOnceAMinuteWithOnlyTheChanges) {
  Rig rig(MakeInfo());
  rig.Connect();
  std::vector<std::pair<Endpoint, uint8_t>> current = {
      {V4(1), 0}, {V4(2), protocol::kPexSeed}, {PeerAddress(), 0}};
  rig.session->SendPex(current, rig.now);
  protocol::PexMessage first = ReadPex(rig);
  EXPECT_THAT(first.added, ElementsAre(V4(1), V4(2)))
      << "never the peer's own address";
  EXPECT_THAT(first.added_flags, ElementsAre(0, protocol::kPexSeed));
  EXPECT_THAT(first.dropped, IsEmpty());

  current = {{V4(2), 0}, {V4(3), 0}};
  rig.now += absl::Seconds(59);
  rig.session->SendPex(current, rig.now);
  EXPECT_THAT(rig.peer.Read(), IsEmpty()) << "too soon";
  rig.now += absl::Seconds(2);
  rig.session->SendPex(current, rig.now);
  protocol::PexMessage second = ReadPex(rig);
  EXPECT_THAT(second.added, ElementsAre(V4(3)));
  EXPECT_THAT(second.dropped, ElementsAre(V4(1)));

  rig.now += absl::Seconds(61);
  rig.session->SendPex(current, rig.now);
  EXPECT_THAT(rig.peer.Read(), IsEmpty()) << "nothing changed";
}

TEST(PexTest, NoPexToAPeerWithoutUtPexNorForAPrivateTorrent) {
  {
    Rig rig(MakeInfo());
    rig.Connect(false);
    rig.session->SendPex({{V4(1), 0}}, rig.now);
    EXPECT_THAT(rig.peer.Read(), IsEmpty());
  }
  {
    InfoSpec spec;
    spec.is_private = true;
    Rig rig(MakeInfo(spec));
    rig.Connect();
    rig.session->SendPex({{V4(1), 0}}, rig.now);
    EXPECT_THAT(rig.peer.Read(), IsEmpty());
  }
}

// --- BEP 52 hashes ----------------------------------------------------------------

protocol::HashRange Range(uint32_t index) {
  protocol::HashRange r;
  r.pieces_root[0] = 0xcd;
  r.length = 4;
  r.index = index;
  r.proof_layers = 1;
  return r;
}

TEST(HashesTest, AnswersOnlyForRangesWeAsked) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.Events();
  rig.session->RequestHashes(Range(0), rig.now);
  rig.session->RequestHashes(Range(4), rig.now);
  std::vector<protocol::HashRequest> asked =
      Of<protocol::HashRequest>(rig.peer.Read());
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].range, Range(0));
  EXPECT_EQ(rig.session->hash_requests(), 2);

  const std::string hashes(5 * 32, 'h');  // 4 base hashes and one uncle
  rig.peer.Send(protocol::Hashes{Range(8), hashes});      // not asked
  rig.peer.Send(protocol::HashReject{Range(12)});         // not asked
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  rig.peer.Send(protocol::Hashes{Range(0), hashes});
  rig.peer.Send(protocol::HashReject{Range(4)});
  std::vector<SessionEvent> events = rig.Events();
  EXPECT_THAT(EventNames(events),
              ElementsAre("HashesArrived 0", "HashRequestRejected 4"));
  EXPECT_EQ(EventsOf<HashesArrived>(events)[0].hashes, hashes);
  EXPECT_EQ(rig.session->hash_requests(), 0);
  rig.peer.Send(protocol::Hashes{Range(0), hashes});  // answered already
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  EXPECT_TRUE(rig.session->active());
}

TEST(HashesTest, SendHashesAndSendHashRejectAnswerTheRequest) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.Events();
  rig.peer.Send(protocol::HashRequest{Range(0)});
  rig.peer.Send(protocol::HashRequest{Range(4)});
  EXPECT_THAT(EventNames(rig.Events()),
              ElementsAre("HashRequestArrived 0", "HashRequestArrived 4"));
  const std::string hashes(5 * 32, 'k');
  rig.session->SendHashes(Range(0), hashes);
  rig.session->SendHashReject(Range(4));
  std::vector<SentMessage> sent = rig.peer.Read();
  ASSERT_THAT(Names(sent), ElementsAre("hashes", "hash reject"));
  EXPECT_EQ(*sent[0].As<protocol::Hashes>(),
            (protocol::Hashes{Range(0), hashes}));
  EXPECT_EQ(sent[1].As<protocol::HashReject>()->range, Range(4));
}

}  // namespace
}  // namespace bt::client
