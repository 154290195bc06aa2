// Test harness for client/session: a FakeTorrent behind the SessionTorrent
// interface, a ScriptedPeer that speaks raw peer-wire bytes to a
// PeerSession in any fragmentation and parses what the session sends back,
// and a Rig that ties one of each to a clock the test advances by hand.
// Nothing here sleeps or reads a clock.
//
//   bt::client::session_testing::Rig rig(MakeInfo());
//   rig.Connect();                          // both handshakes, opening msgs
//   rig.peer.Send(bt::protocol::HaveAll{});
//   auto events = rig.session->TakeEvents();
//   EXPECT_EQ(EventsOf<PeerHaveSetKnown>(events).size(), 1);
//   rig.Advance(absl::Seconds(91));          // Tick at now + 91 s
//   EXPECT_THAT(Names(rig.peer.Read()), ElementsAre("keep-alive"));
#ifndef TESTS_CLIENT_SESSION_SESSION_HARNESS_H_
#define TESTS_CLIENT_SESSION_SESSION_HARNESS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "client/session/peer_session.h"
#include "client/session/session_events.h"
#include "client/session/session_torrent.h"
#include "metainfo/torrent_info.h"
#include "protocol/extension_handshake.h"
#include "protocol/handshake.h"
#include "protocol/message.h"
#include "protocol/message_parser.h"
#include "protocol/ut_metadata.h"
#include "storage/bitfield.h"

namespace bt::client::session_testing {

// kT0 is the time every rig starts at.
inline const absl::Time kT0 = absl::FromUnixSeconds(1'600'000'000);

// --- torrents -------------------------------------------------------------

using TorrentInfo = metainfo::TorrentInfo;

struct InfoSpec {
  // The default: 4 pieces of two blocks, the last one 5000 bytes (one short
  // block).
  int64_t piece_length = 32 * 1024;
  int64_t total_size = 3 * 32 * 1024 + 5000;
  bool is_private = false;
};

// MakeInfo builds a real single-file v1 torrent (content Pattern(size, 7),
// see ContentOf) and parses it.
std::shared_ptr<const metainfo::TorrentInfo> MakeInfo(const InfoSpec& spec = {});
// MakeSyntheticInfo builds a single-file v1 torrent of `num_pieces` pieces
// of `piece_length` bytes whose piece hashes are not real (for tests of
// bookkeeping at scale: a million pieces parse in a blink).
std::shared_ptr<const metainfo::TorrentInfo> MakeSyntheticInfo(
    uint32_t num_pieces, int64_t piece_length = 16 * 1024);
// Content returns `length` bytes of MakeInfo's content at `offset` of the
// piece space.
std::string Content(int64_t offset, size_t length);

// FakeTorrent implements SessionTorrent with plain fields. A magnet
// torrent starts with metainfo() null and learns it with LearnMetadata().
class FakeTorrent : public SessionTorrent {
 public:
  // A torrent whose metadata is known; we have nothing.
  explicit FakeTorrent(std::shared_ptr<const TorrentInfo> info);
  // Magnet makes a torrent named by `eventual`'s info-hash whose
  // metainfo() stays null until LearnMetadata().
  static std::unique_ptr<FakeTorrent> Magnet(
      std::shared_ptr<const TorrentInfo> eventual);

  // LearnMetadata sets metainfo() (and sizes have()), as a finished metadata
  // fetch does.
  void LearnMetadata();

  const Sha1Hash& info_hash() const override { return info_hash_; }
  const TorrentInfo* metainfo() const override {
    return known_ ? info_.get() : nullptr;
  }
  const storage::Bitfield& have() const override { return have_; }
  bool serving() const override { return serving_; }
  bool upload_only() const override { return upload_only_; }

  storage::Bitfield& mutable_have() { return have_; }
  void SetHaveAll() { have_.SetAll(); }
  void set_serving(bool on) { serving_ = on; }
  void set_upload_only(bool on) { upload_only_ = on; }
  const TorrentInfo& eventual_info() const { return *info_; }

 private:
  FakeTorrent() = default;
  std::shared_ptr<const TorrentInfo> info_;
  Sha1Hash info_hash_;
  bool known_ = false;
  storage::Bitfield have_;
  bool serving_ = true;
  bool upload_only_ = false;
};

// --- what the session sent ------------------------------------------------

// SentMessage is one message the session sent, owned: `message`'s views
// point into `wire`, which lives as long as any copy.
struct SentMessage {
  std::shared_ptr<const std::string> wire;
  protocol::Message message;

  std::string_view name() const { return protocol::MessageName(message); }
  template <typename T>
  const T* As() const {
    return std::get_if<T>(&message);
  }
};

// ReadSent parses every whole message `parser` holds into owned copies and
// keeps the last extension handshake among them in `*extensions`. A
// malformed stream fails the test; `sender` names who sent it.
std::vector<SentMessage> ReadSent(
    protocol::MessageParser& parser, std::string_view sender,
    std::optional<protocol::ExtensionHandshake>* extensions);

// Names lists the messages' names ("handshake", "extended", "have all").
std::vector<std::string> Names(const std::vector<SentMessage>& messages);

// Of returns copies of the messages of type T. Their views (payloads,
// bits, data) point into `messages`: keep it alive while they are used.
template <typename T>
std::vector<T> Of(const std::vector<SentMessage>& messages) {
  std::vector<T> out;
  for (const SentMessage& m : messages) {
    if (const T* t = m.As<T>()) out.push_back(*t);
  }
  return out;
}

// --- events ---------------------------------------------------------------

template <typename T>
std::vector<T> EventsOf(const std::vector<SessionEvent>& events) {
  std::vector<T> out;
  for (const SessionEvent& e : events) {
    if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
  }
  return out;
}
// EventNames names each event ("PeerHaveSetKnown", "PeerHaveArrived 3",
// "packet_incoming_have 3"), for readable comparisons.
std::vector<std::string> EventNames(const std::vector<SessionEvent>& events);
std::string EventName(const SessionEvent& event);

// --- the scripted peer ----------------------------------------------------

// How the scripted peer fragments what it sends.
enum class Split {
  kWhole,   // each Send* call is one Receive
  kBytes,   // one byte per Receive
  kRandom,  // random sizes 1..64, from the seed given to set_split
};

class ScriptedPeer {
 public:
  // `session` and `now` must outlive the peer; `now` is read at each call.
  ScriptedPeer(PeerSession* session, const absl::Time* now);

  // Who the peer says it is.
  PeerId id;
  protocol::ReservedBits reserved;  // default: extension + fast
  Sha1Hash info_hash;

  void set_split(Split split, uint32_t seed = 1) {
    split_ = split;
    rng_.seed(seed);
  }
  void set_session(PeerSession* session) { session_ = session; }
  // With keep_buffers, each Receive's buffer is handed over as its keeper
  // (as a connection's large reads are), so blocks in it arrive as views.
  void set_keep_buffers(bool keep) { keep_buffers_ = keep; }

  // Sending (each call hands the bytes to the session, copied into a fresh
  // heap buffer per Receive so ASan sees any view kept past the call).
  void SendBytes(std::string_view bytes);
  void SendHandshake();
  void Send(const protocol::Message& m);
  // SendExtensionHandshake sends extended message 0; Extensions() is the
  // usual one (ut_metadata 3, ut_pex 4, reqq 250).
  void SendExtensionHandshake(const protocol::ExtensionHandshake& hs);
  static protocol::ExtensionHandshake Extensions();
  // SendMetadataMessage sends a ut_metadata message with the id the
  // session announced (Read() must have seen its extension handshake).
  void SendMetadataMessage(const protocol::MetadataMessage& m);
  void SendPex(std::string_view payload);
  // Bytes of a message, for scripts that concatenate.
  static std::string Wire(const protocol::Message& m);
  std::string HandshakeWire() const;

  // Read parses everything the session has to send and consumes it (as a
  // peer that reads its socket). Fails the test on a malformed stream.
  std::vector<SentMessage> Read();
  // session_extensions is the session's extension handshake, once Read.
  const std::optional<protocol::ExtensionHandshake>& session_extensions()
      const {
    return session_extensions_;
  }
  uint8_t SessionExtensionId(std::string_view name) const;

 private:
  PeerSession* session_;
  const absl::Time* now_;
  Split split_ = Split::kWhole;
  bool keep_buffers_ = false;
  std::mt19937 rng_{1};
  protocol::MessageParser parser_;
  std::optional<protocol::ExtensionHandshake> session_extensions_;
};

// --- a rig: torrent, session, peer and clock ------------------------------

// Identities used by every rig.
PeerId OurId();
PeerId TheirId();
Endpoint PeerAddress();  // 10.1.2.3:51413

// DefaultOptions: an outgoing plaintext session to PeerAddress() as
// OurId(), no DHT port.
PeerSessionOptions DefaultOptions();

class Rig {
 public:
  // An outgoing session (incoming when options.incoming: the rig's
  // find_torrent then finds its torrent by info-hash).
  explicit Rig(std::shared_ptr<const metainfo::TorrentInfo> info,
               PeerSessionOptions options = DefaultOptions());
  // A rig around a given torrent (e.g. FakeTorrent::Magnet).
  Rig(std::unique_ptr<FakeTorrent> torrent,
      PeerSessionOptions options = DefaultOptions());

  absl::Time now = kT0;
  std::unique_ptr<FakeTorrent> torrent;
  PeerSessionOptions options;
  std::unique_ptr<PeerSession> session;
  ScriptedPeer peer;

  // Start calls session->Start(now).
  void Start();
  // Connect: Start, the peer's handshake and (if `extensions`) its
  // extension handshake; returns what the session sent (our handshake
  // included) and leaves the events in the session.
  std::vector<SentMessage> Connect(bool extensions = true);
  // Advance moves the clock and ticks the session.
  void Advance(absl::Duration d);
  std::vector<SessionEvent> Events() { return session->TakeEvents(); }
};

// Pump moves bytes between two sessions (each one's output is the other's
// input) until neither has anything to send, or one closes; at most
// `rounds` exchanges. Each delivery is split into pieces of `chunk` bytes.
void Pump(PeerSession& a, PeerSession& b, absl::Time now, size_t chunk = 1 << 20,
          int rounds = 20);

}  // namespace bt::client::session_testing

#endif  // TESTS_CLIENT_SESSION_SESSION_HARNESS_H_
