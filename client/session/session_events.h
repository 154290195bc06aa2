// What a peer session reports to its owner. A PeerSession never calls out:
// it queues these values while it handles input (bytes, time, commands),
// and the owner takes them with PeerSession::TakeEvents() afterwards and
// acts on them (the picker, the verifier, metadata exchange). Each is an
// owned value; data is copied out of the receive buffer once, into the
// event that carries it.
//
//   for (bt::client::SessionEvent& e : session.TakeEvents()) {
//     if (auto* b = std::get_if<bt::client::BlockArrived>(&e)) {
//       WriteToDisk(b->block, std::move(b->data));
//     }
//   }
//
// A session reports only changes: a second "have all", a have for a piece
// the peer already has, or an unsolicited answer produce no event.
#ifndef CLIENT_SESSION_SESSION_EVENTS_H_
#define CLIENT_SESSION_SESSION_EVENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/endpoint.h"
#include "client/events.h"
#include "client/session/block_bytes.h"
#include "client/session/block_ref.h"
#include "protocol/message.h"

namespace bt::client {

// PeerHandshakeDone: the peer's handshake was accepted and ours sent; the
// session is active (peer id, reserved bits and torrent are known).
struct PeerHandshakeDone {};
// PeerExtensionsArrived: the peer's extension handshake arrived
// (PeerSession::their_extensions()); metadata_size, if any, follows as
// MetadataSizeOffered.
struct PeerExtensionsArrived {};
// PeerHaveSetKnown: the peer's first have-set (bitfield, have all or have
// none) is known and sized to the torrent: PeerSession::peer_have(). Later
// additions come as PeerHaveArrived, one per new piece.
struct PeerHaveSetKnown {};
struct PeerHaveArrived {
  uint32_t piece = 0;
};
// PeerChokeChanged: the peer choked (true) or unchoked (false) us.
struct PeerChokeChanged {
  bool choked = true;
};
// AllowedFastArrived: the peer lets us fetch `piece` while it chokes us
// (BEP 6); it is now in PeerSession::RequestableHaveSet().
struct AllowedFastArrived {
  uint32_t piece = 0;
};
// PeerInterestChanged: the peer became interested or not interested.
struct PeerInterestChanged {
  bool interested = false;
};
// BlockArrived: a block we asked for, of exactly the requested length.
// `in_flight` is false for the late answer to a request we had already
// given up on (snubbed, cancelled, choked without the Fast extension): the
// data is good but someone else may have been asked for it meanwhile.
struct BlockArrived {
  BlockRef block;
  BlockBytes data;
  bool in_flight = true;
};
// RequestsReturned: requests of ours that will not be answered (rejected,
// voided by a choke without the Fast extension, or given up on because the
// peer is snubbed); the blocks go back to the pool.
struct RequestsReturned {
  std::vector<BlockRef> blocks;
};
// MetadataSizeOffered: the peer offers the metadata (BEP 9) and says it is
// `size` bytes.
struct MetadataSizeOffered {
  uint64_t size = 0;
};
// MetadataPieceArrived: a ut_metadata piece we asked this peer for.
struct MetadataPieceArrived {
  uint32_t piece = 0;
  uint64_t total_size = 0;
  std::string data;
};
// MetadataPieceRejected: the peer will not send a metadata piece we asked
// for.
struct MetadataPieceRejected {
  uint32_t piece = 0;
};
// HashRequestArrived: the peer asks for BEP 52 hashes; answer with
// PeerSession::SendHashes or SendHashReject. The session bounds how many
// are outstanding and releases more as answers are sent.
struct HashRequestArrived {
  protocol::HashRange range;
};
// HashesArrived / HashRequestRejected: the answer to a hash request of
// ours.
struct HashesArrived {
  protocol::HashRange range;
  std::string hashes;
};
struct HashRequestRejected {
  protocol::HashRange range;
};
// PexPeersArrived: peers from a BEP 11 message (rate-limited by the
// session; none for private torrents).
struct PexPeersArrived {
  std::vector<Endpoint> added;
  // One per `added`: its BEP 11 flags (protocol::kPexUtp, ...), when the
  // sender gave them.
  std::vector<std::optional<uint8_t>> flags;
};
// DhtPortArrived: the peer's DHT node listens on `port` (BEP 5).
struct DhtPortArrived {
  uint16_t port = 0;
};

// SessionEvent is one of the above, or a user-visible Event (the seed's
// packet_* events, produced only for types the session was told are
// wanted).
using SessionEvent =
    std::variant<PeerHandshakeDone, PeerExtensionsArrived, PeerHaveSetKnown,
                 PeerHaveArrived, PeerChokeChanged, AllowedFastArrived,
                 PeerInterestChanged,
                 BlockArrived, RequestsReturned, MetadataSizeOffered,
                 MetadataPieceArrived, MetadataPieceRejected,
                 HashRequestArrived, HashesArrived, HashRequestRejected,
                 PexPeersArrived, DhtPortArrived, Event>;

}  // namespace bt::client

#endif  // CLIENT_SESSION_SESSION_EVENTS_H_
