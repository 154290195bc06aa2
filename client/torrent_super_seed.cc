// Torrent: super-seeding (BEP 16) — when it acts, and showing peers the
// pieces the SuperSeeder picks.
#include <vector>

#include "client/peer_connection.h"
#include "client/torrent.h"

namespace bt::client {

void Torrent::SetSuperSeeding(bool on) {
  params_.super_seeding = on;
  SyncSuperSeeding();
}

void Torrent::SyncSuperSeeding() {
  const bool act = params_.super_seeding && has_metadata() && have().All();
  if (act == super_seeding()) return;
  if (act) {
    super_seeder_ = std::make_unique<SuperSeeder>(info_->num_pieces());
    // Peers connected before saw our have-set: they only count.
    for (PeerConnection* c : OpenConnections()) {
      if (!c->active()) continue;
      super_seeder_->AddPeer(c->id(), /*reveal=*/false);
      super_seeder_->OnHaveSet(c->id(), c->session().peer_have());
    }
  } else {
    super_seeder_.reset();
    for (PeerConnection* c : OpenConnections()) {
      c->session().EndSuperSeeding();
      c->SchedulePump();
    }
  }
  AnnounceUploadOnly();
}

void Torrent::Reveal(PeerConnection& c, const std::vector<uint32_t>& pieces) {
  if (pieces.empty()) return;
  for (uint32_t piece : pieces) c.session().RevealPiece(piece);
  c.SchedulePump();
}

}  // namespace bt::client
