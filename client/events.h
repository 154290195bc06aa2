// The client's events: every event of Net::BitTorrent with its fields, as
// one owned value type. Register handlers with Client::OnEvent (client-wide)
// or Torrent::OnEvent (one torrent); a handler's return value matters only
// for kIpFilter, where false refuses the peer before any handshake.
//
//   client->OnEvent(bt::client::EventType::kPieceHashPass,
//                   [](const bt::client::Event& e) {
//                     printf("pass: piece %u of %s\n", e.index,
//                            e.info_hash.ToHex().c_str());
//                     return true;
//                   });
//
// Field use per event (all others keep their defaults):
//   ip_filter                 address
//   peer_connect              peer
//   peer_disconnect           peer, reason
//   peer_read, peer_write     peer, length
//   packet_*_handshake        peer, reserved, handshake_info_hash,
//                             handshake_peer_id
//   packet_*_have             peer, index
//   packet_*_bitfield         peer, payload (the raw bitfield)
//   packet_*_request, _block, _cancel, _reject
//                             peer, index, offset, length
//   packet_*_allowed_fast, _suggest   peer, index
//   packet_*_extended         peer, extension_id, payload
//   packet_*_port             peer, port
//   other packet_* events     peer
//   file_open                 file_index, path, mode ('r' or 'w')
//   file_close                file_index, path
//   file_read, file_write     file_index, path, length (a block sent to a
//                             plaintext TCP peer straight from its file,
//                             with ClientOptions::send_from_file, is not a
//                             file_read)
//   file_error                file_index, path, reason
//   tracker_connect           tracker, announce_event
//   tracker_disconnect        tracker
//   tracker_success           tracker, announce_event, complete,
//                             incomplete, peers, min_interval, interval
//   tracker_failure           tracker, announce_event, reason
//   tracker_read, _write      tracker, length
//   piece_hash_pass, _fail    index
//   storage_moved             path (the new save path), reason (the old)
//   storage_move_failed       path (the destination), reason
// (storage_moved and storage_move_failed are btkit's, after libtorrent's
// storage_moved_alert: the seed has no event for a move.)
// Every event but ip_filter carries info_hash (the torrent's wire hash).
#ifndef CLIENT_EVENTS_H_
#define CLIENT_EVENTS_H_

#include <cstdint>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/endpoint.h"
#include "base/hash.h"
#include "tracker/tracker_events.h"

namespace bt::client {

#define BT_CLIENT_EVENTS(X)                                            \
  X(IpFilter, "ip_filter")                                             \
  X(PeerConnect, "peer_connect")                                       \
  X(PeerDisconnect, "peer_disconnect")                                 \
  X(PeerRead, "peer_read")                                             \
  X(PeerWrite, "peer_write")                                           \
  X(PacketIncomingHandshake, "packet_incoming_handshake")              \
  X(PacketOutgoingHandshake, "packet_outgoing_handshake")              \
  X(PacketIncomingKeepalive, "packet_incoming_keepalive")              \
  X(PacketOutgoingKeepalive, "packet_outgoing_keepalive")              \
  X(PacketIncomingChoke, "packet_incoming_choke")                      \
  X(PacketOutgoingChoke, "packet_outgoing_choke")                      \
  X(PacketIncomingUnchoke, "packet_incoming_unchoke")                  \
  X(PacketOutgoingUnchoke, "packet_outgoing_unchoke")                  \
  X(PacketIncomingInterested, "packet_incoming_interested")            \
  X(PacketOutgoingInterested, "packet_outgoing_interested")            \
  X(PacketIncomingNotInterested, "packet_incoming_not_interested")     \
  X(PacketOutgoingNotInterested, "packet_outgoing_not_interested")     \
  X(PacketIncomingHave, "packet_incoming_have")                        \
  X(PacketOutgoingHave, "packet_outgoing_have")                        \
  X(PacketIncomingBitfield, "packet_incoming_bitfield")                \
  X(PacketOutgoingBitfield, "packet_outgoing_bitfield")                \
  X(PacketIncomingRequest, "packet_incoming_request")                  \
  X(PacketOutgoingRequest, "packet_outgoing_request")                  \
  X(PacketIncomingBlock, "packet_incoming_block")                      \
  X(PacketOutgoingBlock, "packet_outgoing_block")                      \
  X(PacketIncomingCancel, "packet_incoming_cancel")                    \
  X(PacketOutgoingCancel, "packet_outgoing_cancel")                    \
  X(PacketIncomingExtended, "packet_incoming_extended")                \
  X(PacketOutgoingExtended, "packet_outgoing_extended")                \
  X(PacketIncomingPort, "packet_incoming_port")                        \
  X(PacketOutgoingPort, "packet_outgoing_port")                        \
  X(PacketIncomingHaveAll, "packet_incoming_have_all")                 \
  X(PacketOutgoingHaveAll, "packet_outgoing_have_all")                 \
  X(PacketIncomingHaveNone, "packet_incoming_have_none")               \
  X(PacketOutgoingHaveNone, "packet_outgoing_have_none")               \
  X(PacketIncomingSuggest, "packet_incoming_suggest")                  \
  X(PacketOutgoingSuggest, "packet_outgoing_suggest")                  \
  X(PacketIncomingReject, "packet_incoming_reject")                    \
  X(PacketOutgoingReject, "packet_outgoing_reject")                    \
  X(PacketIncomingAllowedFast, "packet_incoming_allowed_fast")         \
  X(PacketOutgoingAllowedFast, "packet_outgoing_allowed_fast")         \
  X(FileOpen, "file_open")                                             \
  X(FileClose, "file_close")                                           \
  X(FileRead, "file_read")                                             \
  X(FileWrite, "file_write")                                           \
  X(FileError, "file_error")                                           \
  X(TrackerConnect, "tracker_connect")                                 \
  X(TrackerDisconnect, "tracker_disconnect")                           \
  X(TrackerSuccess, "tracker_success")                                 \
  X(TrackerFailure, "tracker_failure")                                 \
  X(TrackerRead, "tracker_read")                                       \
  X(TrackerWrite, "tracker_write")                                     \
  X(PieceHashPass, "piece_hash_pass")                                  \
  X(PieceHashFail, "piece_hash_fail")                                  \
  X(StorageMoved, "storage_moved")                                     \
  X(StorageMoveFailed, "storage_move_failed")

enum class EventType : uint8_t {
#define BT_EVENT_ENUM(name, text) k##name,
  BT_CLIENT_EVENTS(BT_EVENT_ENUM)
#undef BT_EVENT_ENUM
};

inline constexpr int kEventTypeCount = 0
#define BT_EVENT_COUNT(name, text) +1
    BT_CLIENT_EVENTS(BT_EVENT_COUNT)
#undef BT_EVENT_COUNT
    ;

// EventName returns the seed's name of `type` ("piece_hash_pass", ...).
std::string_view EventName(EventType type);
// EventTypeFromName is the inverse of EventName; nullopt for unknown names.
std::optional<EventType> EventTypeFromName(std::string_view name);

// PeerRef identifies the remote peer of a connection.
struct PeerRef {
  uint64_t connection = 0;  // unique per connection within a client
  Endpoint address;
  PeerId peer_id;  // zero until the handshake arrived
  bool incoming = false;
};

// Event is an owned value: it holds copies, never pointers into the
// client, so it may be kept after the handler returns.
struct Event {
  EventType type = EventType::kIpFilter;
  Sha1Hash info_hash;
  PeerRef peer;
  Endpoint address;  // ip_filter
  std::string reason;
  int64_t length = 0;
  uint32_t index = 0;
  uint32_t offset = 0;
  // Handshakes.
  std::array<uint8_t, 8> reserved{};
  Sha1Hash handshake_info_hash;
  PeerId handshake_peer_id;
  // Extended messages and bitfields.
  uint8_t extension_id = 0;
  std::string payload;
  uint16_t port = 0;
  // Files.
  size_t file_index = 0;
  std::string path;
  char mode = 'r';
  // Trackers.
  std::string tracker;
  std::string announce_event;  // "", "started", "completed" or "stopped"
  std::optional<int64_t> complete;
  std::optional<int64_t> incomplete;
  std::optional<int64_t> interval;
  std::optional<int64_t> min_interval;
  std::vector<Endpoint> peers;
};

// EventFromTracker turns a tracker's report (tracker/tracker_events.h)
// into the seed's tracker_* event (info_hash left unset).
Event EventFromTracker(const tracker::TrackerEvent& te);

}  // namespace bt::client

#endif  // CLIENT_EVENTS_H_
