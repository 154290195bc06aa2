// SessionTorrent: the narrow view a peer session has of its torrent. The
// session asks it, synchronously, only what the wire protocol needs (the
// info-hash, the metadata once known, which pieces we have, whether
// requests are served now, whether we only upload or super-seed);
// everything the session wants to tell its torrent travels the other way,
// as events (session_events.h). A Torrent implements it; tests implement
// it with a few fields.
//
//   class FakeTorrent : public bt::client::SessionTorrent {
//     const Sha1Hash& info_hash() const override { return hash_; }
//     const metainfo::TorrentInfo* metainfo() const override { return &info_; }
//     ...
//   };
#ifndef CLIENT_SESSION_SESSION_TORRENT_H_
#define CLIENT_SESSION_SESSION_TORRENT_H_

#include "base/hash.h"
#include "metainfo/torrent_info.h"
#include "storage/bitfield.h"

namespace bt::client {

class SessionTorrent {
 public:
  virtual ~SessionTorrent() = default;

  // info_hash is the wire info-hash: handshakes and MSE use it.
  virtual const Sha1Hash& info_hash() const = 0;
  // metainfo is the torrent's metadata, or null while a magnet link's
  // metadata is still being fetched. Once set it never changes.
  virtual const metainfo::TorrentInfo* metainfo() const = 0;
  // have is the set of pieces we have (empty before the metadata).
  virtual const storage::Bitfield& have() const = 0;
  // serving: requests for pieces we have may be queued and served now
  // (downloading or seeding; not paused, stopped or in error).
  virtual bool serving() const = 0;
  // upload_only: we want nothing more (every wanted piece verified), so
  // the extension handshake says upload_only (BEP 21).
  virtual bool upload_only() const = 0;
  // super_seeding: a peer whose session starts now is told we have nothing
  // and shown pieces one by one (PeerSession::RevealPiece; BEP 16).
  virtual bool super_seeding() const { return false; }
};

}  // namespace bt::client

#endif  // CLIENT_SESSION_SESSION_TORRENT_H_
