// PeerSession as a stream machine: one scripted conversation gives the same
// events and output however its bytes are split, and the seed's packet_*
// events appear exactly for the types the owner wants.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/session/peer_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/message.h"
#include "protocol/ut_metadata.h"
#include "protocol/ut_pex.h"
#include "tests/client/session/session_harness.h"

namespace bt::client {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;
using namespace session_testing;  // NOLINT

// Everything observable about an event, data included.
std::string Describe(const SessionEvent& e) {
  std::string s = EventName(e);
  if (const auto* b = std::get_if<BlockArrived>(&e)) {
    absl::StrAppend(&s, " [", std::string(b->data.view()), "]");
  } else if (const auto* m = std::get_if<MetadataPieceArrived>(&e)) {
    absl::StrAppend(&s, " [", m->data, "]");
  } else if (const auto* p = std::get_if<PexPeersArrived>(&e)) {
    for (const Endpoint& a : p->added) absl::StrAppend(&s, " ", a.ToString());
  } else if (const auto* x = std::get_if<Event>(&e)) {
    absl::StrAppend(&s, " ", x->offset, " ", x->length, " ", x->port, " ",
                    x->extension_id, " [", x->payload, "]");
  }
  return s;
}

struct Transcript {
  std::vector<std::string> events;
  std::string output;
  bool closed = false;
  friend bool operator==(const Transcript&, const Transcript&) = default;
};

// The peer's side of the conversation, in two parts: before and after we
// send our requests.
struct Script {
  std::string first;
  std::string second;
};

Script MakeScript(const ScriptedPeer& peer, const metainfo::TorrentInfo& info) {
  using namespace protocol;  // NOLINT
  Script s;
  s.first = peer.HandshakeWire();
  std::string ext;
  ExtensionHandshake hs = ScriptedPeer::Extensions();
  hs.metadata_size = info.info_bytes().size();
  AppendExtensionHandshake(hs, &ext);
  std::string metadata_request, pex;
  AppendMetadataMessage({MetadataMessageType::kRequest, 0}, &metadata_request);
  PexMessage pm;
  pm.added = {Endpoint::V4({192, 0, 2, 1}, 6881)};
  AppendPexMessage(pm, &pex);
  HashRange range;
  range.pieces_root[3] = 7;
  range.length = 2;
  for (const Message& m : std::vector<Message>{
           Extended{0, ext}, Bitfield{"\xa0"}, Have{3}, Unchoke{},
           AllowedFast{1}, Interested{}, Port{6882}, Suggest{2}, KeepAlive{},
           Request{0, 0, 16384}, Extended{2, metadata_request},
           Extended{1, pex}, HashRequest{range}}) {
    AppendMessage(m, &s.first);
  }
  const std::string block = Content(32768, 16384);
  const std::string last = Content(3 * 32768, 5000);
  for (const Message& m : std::vector<Message>{
           Piece{1, 0, block}, Reject{1, 16384, 16384}, Piece{3, 0, last},
           Choke{}, Unchoke{}, NotInterested{}, HaveAll{},
           UnknownMessage{99, "?"}, Cancel{0, 0, 16384}, KeepAlive{}}) {
    AppendMessage(m, &s.second);
  }
  return s;
}

PeerSessionOptions WantingEverything() {
  PeerSessionOptions o = DefaultOptions();
  o.dht_port = 7000;
  o.wants_event = [](EventType) { return true; };
  return o;
}

// Plays the conversation; `deliver` hands one part of the script to the
// peer (which splits it as it likes).
const std::shared_ptr<const metainfo::TorrentInfo>& Info() {
  static const auto* info =
      new std::shared_ptr<const metainfo::TorrentInfo>(MakeInfo());
  return *info;
}

template <typename Deliver>
Transcript Play(Deliver deliver, PeerSessionOptions o = WantingEverything()) {
  Rig rig(Info(), o);
  rig.torrent->mutable_have().Set(0);
  rig.peer.reserved.Set(protocol::ReservedBit::kDht);
  Script script = MakeScript(rig.peer, *rig.torrent->metainfo());
  Transcript t;
  auto take = [&] {
    for (const SessionEvent& e : rig.Events()) t.events.push_back(Describe(e));
    t.output += rig.session->PendingOutput();
    rig.session->ConsumeOutput(rig.session->PendingOutput().size(), rig.now);
  };
  rig.Start();
  deliver(rig.peer, script.first);
  rig.session->SetInterested(true);
  rig.session->Request({{1, 0}, {1, 1}, {3, 0}}, rig.now);
  take();
  deliver(rig.peer, script.second);
  rig.Advance(absl::Seconds(1));
  take();
  t.closed = rig.session->closed();
  return t;
}

Transcript PlayWith(Split split, uint32_t seed = 1) {
  return Play([&](ScriptedPeer& peer, const std::string& bytes) {
    peer.set_split(split, seed);
    peer.SendBytes(bytes);
  });
}

TEST(StreamTest, TheConversationItself) {
  Transcript t = PlayWith(Split::kWhole);
  EXPECT_FALSE(t.closed);
  std::vector<std::string> names;
  for (const std::string& e : t.events) {
    if (e.rfind("packet_", 0) != 0) names.push_back(e);
  }
  EXPECT_THAT(
      names,
      ElementsAre("PeerHandshakeDone", "PeerExtensionsArrived",
                  testing::StartsWith("MetadataSizeOffered"),
                  "PeerHaveSetKnown", "PeerHaveArrived 3",
                  "PeerChokeChanged 0", "AllowedFastArrived 1",
                  "PeerInterestChanged 1", "DhtPortArrived 6882",
                  testing::StartsWith("PexPeersArrived 1 192.0.2.1:6881"),
                  "HashRequestArrived 0",
                  testing::StartsWith("BlockArrived 1:0 ["),
                  "RequestsReturned 1:1",
                  testing::StartsWith("BlockArrived 3:0 ["),
                  "PeerChokeChanged 1", "PeerChokeChanged 0",
                  "PeerInterestChanged 0", "PeerHaveArrived 1"));
}

TEST(StreamTest, ByteByByteGivesTheSameEventsAndOutput) {
  const Transcript whole = PlayWith(Split::kWhole);
  ASSERT_FALSE(whole.events.empty());
  EXPECT_EQ(PlayWith(Split::kBytes), whole);
}

TEST(StreamTest, RandomSplitsGiveTheSameEventsAndOutput) {
  const Transcript whole = PlayWith(Split::kWhole);
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    EXPECT_EQ(PlayWith(Split::kRandom, seed), whole) << "seed " << seed;
  }
}

// Every split point of the first part (handshake and control messages);
// of the second (mostly two blocks) every point in its first and last 300
// bytes and every 61st between.
TEST(StreamTest, EverySplitPointGivesTheSameEventsAndOutput) {
  const Transcript whole = PlayWith(Split::kWhole);
  Rig probe(Info());
  const Script script = MakeScript(probe.peer, *probe.torrent->metainfo());
  for (int part = 0; part < 2; ++part) {
    const size_t size = (part == 0 ? script.first : script.second).size();
    for (size_t at = 1; at < size;
         at += (part == 0 || at < 300 || at + 300 > size) ? 1 : 61) {
      int call = 0;
      Transcript t = Play([&](ScriptedPeer& peer, const std::string& bytes) {
        if (call++ != part) return peer.SendBytes(bytes);
        peer.SendBytes(std::string_view(bytes).substr(0, at));
        peer.SendBytes(std::string_view(bytes).substr(at));
      });
      ASSERT_EQ(t, whole) << "part " << part << " split at " << at;
    }
  }
}

// --- packet events ------------------------------------------------------------

TEST(PacketEventsTest, NoneWithoutWantsEvent) {
  PeerSessionOptions o = WantingEverything();
  o.wants_event = nullptr;
  Transcript t = Play(
      [](ScriptedPeer& peer, const std::string& bytes) { peer.SendBytes(bytes); },
      o);
  EXPECT_THAT(t.events, Not(Contains(testing::StartsWith("packet_"))));
  EXPECT_THAT(t.events, Contains("PeerHandshakeDone"));
}

TEST(PacketEventsTest, OnlyTheWantedTypesAppear) {
  const std::set<EventType> wanted = {EventType::kPacketIncomingHave,
                                      EventType::kPacketOutgoingRequest,
                                      EventType::kPacketIncomingHandshake,
                                      EventType::kPacketOutgoingExtended};
  PeerSessionOptions o = WantingEverything();
  o.wants_event = [&](EventType type) { return wanted.count(type) > 0; };
  Rig rig(MakeInfo(), o);
  rig.Connect();
  rig.peer.Send(protocol::Have{2});
  rig.peer.Send(protocol::Unchoke{});
  rig.session->Request({{2, 0}}, rig.now);
  std::vector<Event> packets = EventsOf<Event>(rig.Events());
  std::set<EventType> seen;
  for (const Event& e : packets) {
    EXPECT_TRUE(wanted.count(e.type)) << EventName(e.type);
    seen.insert(e.type);
    EXPECT_EQ(e.peer.address, PeerAddress());
    EXPECT_EQ(e.info_hash, rig.torrent->info_hash());
  }
  EXPECT_EQ(seen, wanted);
}

TEST(PacketEventsTest, EachPacketEventCarriesItsMessage) {
  Rig rig(MakeInfo(), WantingEverything());
  rig.Connect();
  rig.Events();
  rig.peer.Send(protocol::Have{2});
  rig.peer.Send(protocol::Port{6882});
  rig.peer.Send(protocol::Bitfield{"\x10"});
  rig.session->Request({{2, 1}}, rig.now);
  std::vector<Event> packets = EventsOf<Event>(rig.Events());
  ASSERT_EQ(packets.size(), 4u);
  EXPECT_EQ(packets[0].type, EventType::kPacketIncomingHave);
  EXPECT_EQ(packets[0].index, 2u);
  EXPECT_EQ(packets[1].type, EventType::kPacketIncomingPort);
  EXPECT_EQ(packets[1].port, 6882);
  EXPECT_EQ(packets[2].type, EventType::kPacketIncomingBitfield);
  EXPECT_EQ(packets[2].payload, "\x10");
  EXPECT_EQ(packets[3].type, EventType::kPacketOutgoingRequest);
  EXPECT_EQ(packets[3].index, 2u);
  EXPECT_EQ(packets[3].offset, 16384u);
  EXPECT_EQ(packets[3].length, 16384);
  for (const Event& e : packets) EXPECT_EQ(e.peer.peer_id, TheirId());
}

TEST(PacketEventsTest, EveryMessageTypeOfTheConversationIsReported) {
  Transcript t = PlayWith(Split::kWhole);
  std::set<std::string> kinds;
  for (const std::string& e : t.events) {
    if (e.rfind("packet_", 0) == 0) kinds.insert(e.substr(0, e.find(' ')));
  }
  EXPECT_THAT(
      kinds,
      testing::IsSupersetOf(
          {"packet_outgoing_handshake", "packet_incoming_handshake",
           "packet_outgoing_extended", "packet_incoming_extended",
           "packet_outgoing_port", "packet_outgoing_bitfield",
           "packet_outgoing_allowed_fast", "packet_incoming_bitfield",
           "packet_incoming_have", "packet_incoming_unchoke",
           "packet_incoming_allowed_fast", "packet_incoming_interested",
           "packet_incoming_port", "packet_incoming_suggest",
           "packet_incoming_keepalive", "packet_incoming_request",
           "packet_outgoing_interested", "packet_outgoing_request",
           "packet_incoming_block", "packet_incoming_reject",
           "packet_incoming_choke", "packet_incoming_not_interested",
           "packet_incoming_have_all", "packet_incoming_cancel",
           "packet_outgoing_reject"}));
}

}  // namespace
}  // namespace bt::client
