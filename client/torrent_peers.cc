// Torrent: its peer connections — what their sessions report, interest,
// requests, choking, connecting, peer exchange and bans.
#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "base/overloaded.h"
#include "client/net/dht_udp_node.h"
#include "client/peer_connection.h"
#include "client/torrent.h"
#include "metainfo/peer_id.h"
#include "protocol/ut_pex.h"

namespace bt::client {

PeerConnection* Torrent::Connection(uint64_t id) const {
  auto it = connections_.find(id);
  return it == connections_.end() || it->second->closed() ? nullptr
                                                          : it->second;
}

std::vector<PeerConnection*> Torrent::OpenConnections() const {
  std::vector<PeerConnection*> out;
  out.reserve(connections_.size());
  for (const auto& [id, c] : connections_) {
    if (!c->closed()) out.push_back(c);
  }
  return out;
}

std::vector<PeerInfo> Torrent::peers() const {
  std::vector<PeerInfo> out;
  for (PeerConnection* c : OpenConnections()) {
    if (!c->active()) continue;
    const PeerSession& s = c->session();
    PeerInfo p;
    p.connection = c->id();
    p.address = c->address();
    p.peer_id = s.peer_id();
    p.client = metainfo::DescribeClient(p.peer_id);
    p.incoming = c->incoming();
    p.encrypted = s.encrypted();
    p.utp = c->utp();
    p.am_choking = s.am_choking();
    p.am_interested = s.am_interested();
    p.peer_choking = s.peer_choking();
    p.peer_interested = s.peer_interested();
    p.download_rate = s.download_rate();
    p.upload_rate = s.upload_rate();
    p.pieces = s.peer_pieces();
    out.push_back(std::move(p));
  }
  return out;
}

// PexUtp reads what BEP 11 flags say of a peer's uTP: the sender reached
// it over uTP, or (flags without kPexUtp) over TCP.
PeerSet::Utp PexUtp(std::optional<uint8_t> flags) {
  if (!flags) return PeerSet::Utp::kUnknown;
  return (*flags & protocol::kPexUtp) ? PeerSet::Utp::kYes : PeerSet::Utp::kNo;
}

void Torrent::AddPeer(const Endpoint& peer, PeerSet::Source source,
                      PeerSet::Utp utp) {
  const bool hint =
      source == PeerSet::Source::kPex || source == PeerSet::Source::kLsd;
  if (hint && is_private()) return;
  // Our own listen address is not a peer.
  if (ctx_ && peer.port() == ctx_->port() &&
      (peer.IsLoopback() || peer.IsUnspecified())) {
    return;
  }
  const absl::Time now = ctx_ ? ctx_->Now() : absl::Now();
  if (!peers_.Add(peer, source, now, utp)) {
    return;
  }
  if (ctx_ && serving()) ConnectMore(now);
}

void Torrent::ConnectMore(absl::Time now) {
  if (!ctx_ || !serving()) return;
  const int per_torrent = ctx_->options().max_connections_per_torrent;
  while (static_cast<int>(connections_.size()) < per_torrent &&
         ctx_->CanConnect()) {
    std::optional<PeerSet::Dial> dial = peers_.NextToConnect(now);
    if (!dial) return;
    const bool encrypt =
        ctx_->options().encryption != protocol::EncryptionPolicy::kDisabled &&
        !dial->plain_only;
    if (!ctx_->Connect(*this, dial->address, encrypt, dial->utp_first)) {
      peers_.OnClosed(dial->address, /*was_active=*/false,
                      /*plain_retry=*/false, now);
    }
  }
}

void Torrent::OnConnectionOpened(PeerConnection& c) {
  if (!WakeForConnection(c)) return;
  connections_[c.id()] = &c;
  ctx_->TickSoon(*this);
}

bool Torrent::WakeForConnection(PeerConnection& c) {
  if (absl::Status s = Disk().status(); has_metadata() && !s.ok()) {
    EnterError(s);
    c.Close(s);
    return false;
  }
  return true;
}

void Torrent::OnConnectionClosed(PeerConnection& c) {
  if (connections_.erase(c.id()) == 0) return;
  const PeerSession& s = c.session();
  if (metadata_) metadata_->OnPeerGone(c.id());
  if (super_seeder_) super_seeder_->RemovePeer(c.id());
  if (picker_) {
    picker_->OnPeerGone(c.id());
    if (s.peer_have().size() == info_->num_pieces() && s.peer_pieces() > 0) {
      picker_->RemovePeerBitfield(s.peer_have());
    }
  }
  if (!s.am_choking()) RechokeSoon();
  if (!c.incoming()) {
    const bool plain_retry =
        c.mse_refused() &&
        ctx_->options().encryption == protocol::EncryptionPolicy::kEnabled;
    peers_.OnClosed(c.address(), s.active(), plain_retry, ctx_->Now());
  }
}

// --- session events ------------------------------------------------------------

void Torrent::OnSessionEvents(PeerConnection& c,
                              std::vector<SessionEvent> events) {
  bool fill = false;
  for (SessionEvent& event : events) {
    if (c.closed()) return;
    std::visit(
        Overloaded{
            [&](PeerHandshakeDone&) { OnHandshakeDone(c); },
            [&](PeerExtensionsArrived&) {
              if (std::optional<Endpoint> e = c.session().ListenAddress()) {
                peers_.MarkConnected(*e);
              }
              CloseIfNothingToTrade(c);
            },
            // (Fill too: a peer may have unchoked us before a magnet
            // link's metadata told what it has.)
            [&](PeerHaveSetKnown&) { OnHaveSet(c), fill = true; },
            [&](PeerHaveArrived& h) { OnPeerHave(c, h.piece), fill = true; },
            [&](PeerChokeChanged&) { fill = true; },
            [&](AllowedFastArrived&) { fill = true; },
            [&](PeerInterestChanged& i) { OnPeerInterest(c, i.interested); },
            [&](BlockArrived& b) { OnBlock(c, b), fill = true; },
            [&](RequestsReturned& r) {
              OnRequestsReturned(c, r.blocks), fill = true;
            },
            [&](MetadataSizeOffered& m) {
              if (metadata_) metadata_->OnSizeOffered(c.id(), m.size);
              fill = true;
            },
            [&](MetadataPieceArrived& m) {
              if (metadata_) OnExchangeResult(metadata_->OnPiece(c.id(), m));
              fill = true;
            },
            [&](MetadataPieceRejected& m) {
              if (metadata_) metadata_->OnPieceRejected(c.id(), m.piece);
              fill = true;
            },
            [&](HashRequestArrived& h) { OnHashRequest(c, h.range); },
            [&](HashesArrived& h) {
              if (metadata_) OnExchangeResult(metadata_->OnHashes(c.id(), h));
              fill = true;
            },
            [&](HashRequestRejected& h) {
              if (metadata_) metadata_->OnHashesRejected(c.id(), h.range);
              fill = true;
            },
            [&](PexPeersArrived& p) {
              for (size_t i = 0; i < p.added.size(); ++i) {
                AddPeer(p.added[i], PeerSet::Source::kPex, PexUtp(p.flags[i]));
              }
            },
            [&](DhtPortArrived& d) {
              Endpoint node = c.address();
              node.set_port(d.port);
              ctx_->AddDhtHint(node);
            },
            [&](Event& e) {
              if (Wants(e.type)) Emit(e);
            },
        },
        event);
  }
  if (fill && !c.closed()) FillRequests(c);
}

void Torrent::OnHandshakeDone(PeerConnection& c) {
  if (peers_.Banned(c.address())) {
    c.Close(absl::PermissionDeniedError(
        "banned for sending data that failed hash checks"));
    return;
  }
  if (c.incoming()) {
    if (static_cast<int>(connections_.size()) >=
        ctx_->options().max_connections_per_torrent) {
      c.Close(absl::ResourceExhaustedError("torrent has all the peers it takes"));
      return;
    }
    if (!WakeForConnection(c)) return;
    connections_[c.id()] = &c;
    ctx_->TickSoon(*this);
  } else {
    peers_.OnHandshake(c.address(), c.utp());
  }
  Event e;
  e.type = EventType::kPeerConnect;
  e.peer = c.ref();
  Emit(e);
  if (super_seeder_ && !c.closed()) {
    Reveal(c, super_seeder_->AddPeer(c.id(), c.session().super_seeding()));
    super_seeder_->SetChoked(c.id(), c.session().am_choking());
  }
}

void Torrent::OnHaveSet(PeerConnection& c) {
  if (!picker_) return;
  const PeerSession& s = c.session();
  picker_->AddPeerBitfield(s.peer_have());
  if (CloseIfNothingToTrade(c)) return;
  if (super_seeder_) Reveal(c, super_seeder_->OnHaveSet(c.id(), s.peer_have()));
  UpdateInterest(c);
}

void Torrent::OnPeerHave(PeerConnection& c, uint32_t piece) {
  if (!picker_) return;
  picker_->AddPeerHave(piece);
  if (!c.session().am_interested() && !have().Get(piece) &&
      picker_->PiecePriority(piece) > 0) {
    UpdateInterest(c);
  }
  if (CloseIfNothingToTrade(c) || !super_seeder_) return;
  Reveal(c, super_seeder_->OnHave(c.id(), piece));
}

bool Torrent::CloseIfNothingToTrade(PeerConnection& c) {
  const PeerSession& s = c.session();
  if (c.closed() || !complete()) return false;
  if (s.peer_is_seed()) {
    c.Close(absl::CancelledError("both sides are seeds"));
  } else if (s.peer_upload_only()) {
    c.Close(absl::CancelledError("both sides only upload"));
  } else {
    return false;
  }
  return true;
}

void Torrent::AnnounceUploadOnly() {
  for (PeerConnection* c : OpenConnections()) {
    c->session().UpdateUploadOnly();
    c->SchedulePump();
  }
}

void Torrent::OnPeerInterest(PeerConnection& c, bool interested) {
  PeerSession& s = c.session();
  if (!interested) {
    // Its slot goes to someone else.
    if (!s.am_choking()) RechokeSoon();
    return;
  }
  // A free upload slot is given at once; otherwise the next rechoke
  // decides (rechoking on every interest change costs too much).
  int unchoked = 0;
  for (PeerConnection* other : OpenConnections()) {
    unchoked += other->active() && !other->session().am_choking();
  }
  if (serving() && s.am_choking() &&
      unchoked < ctx_->options().upload_slots) {
    s.SetChoking(false);
    if (super_seeder_) super_seeder_->SetChoked(c.id(), false);
    if (state_ == TorrentState::kSeeding) {
      choker_.StartTurn(c.id(), s.payload_up());
    }
  }
}

void Torrent::OnRequestsReturned(PeerConnection& c,
                                 const std::vector<BlockRef>& blocks) {
  if (!picker_) return;
  for (const BlockRef& b : blocks) picker_->OnRequestDropped(b, c.id());
}

void Torrent::UpdateInterest(PeerConnection& c) {
  PeerSession& s = c.session();
  if (c.closed() || !s.active() || !picker_) return;
  const storage::Bitfield& theirs = s.peer_have();
  const bool want = state_ != TorrentState::kPaused &&
                    state_ != TorrentState::kError &&
                    theirs.size() == info_->num_pieces() &&
                    picker_->IsInteresting(theirs);
  s.SetInterested(want);
  c.SchedulePump();
}

void Torrent::FillRequests(PeerConnection& c) {
  PeerSession& s = c.session();
  if (metadata_) {
    metadata_->RequestFrom(s, c.id(), ctx_->Now());
    c.SchedulePump();
    return;
  }
  if (!picker_ || c.closed() || !s.active() || !s.am_interested() ||
      state_ != TorrentState::kDownloading ||
      s.peer_have().size() != info_->num_pieces()) {
    return;
  }
  const int room = s.RequestDepth() - static_cast<int>(s.requests_in_flight());
  if (room < 4 && s.requests_in_flight() > 0) return;  // batch requests
  std::vector<BlockRef> blocks;
  if (!s.peer_choking()) {
    picker_->Pick(s.peer_have(), room, c.id(), &blocks);
  } else {
    // Choked: only the peer's allowed-fast pieces (BEP 6).
    storage::Bitfield allowed = s.RequestableHaveSet();
    if (allowed.None()) return;
    picker_->Pick(allowed, room, c.id(), &blocks);
  }
  if (blocks.empty()) return;
  s.Request(blocks, ctx_->Now());
  c.SchedulePump();
}

void Torrent::OnHashRequest(PeerConnection& c, const protocol::HashRange& r) {
  const uint64_t id = c.id();
  auto reply = [this, id, r](absl::StatusOr<std::string> hashes) {
    PeerConnection* conn = Connection(id);
    if (!conn) return;
    if (hashes.ok()) {
      conn->session().SendHashes(r, *hashes);
    } else {
      conn->session().SendHashReject(r);
    }
    conn->SchedulePump();
  };
  absl::StatusOr<TorrentDisk*> disk = Disk();  // awake while peers are
  if (!hash_server_ || !disk.ok()) {
    return reply(absl::NotFoundError("no piece layers"));
  }
  hash_server_->Answer(r, have(), !c.session().am_choking(), **disk,
                       ctx_->Now(), std::move(reply));
}

void Torrent::OnExchangeResult(MetadataExchange::Result r) {
  for (uint64_t liar : r.liars) {
    if (PeerConnection* c = Connection(liar)) {
      Strike(c->address(), PeerSet::kBanWeight);
    }
  }
  if (!r.error.ok()) return EnterError(r.error);
  if (!r.info) return;
  if (absl::Status s = Adopt(*std::move(r.info)); !s.ok()) EnterError(s);
}

void Torrent::Strike(const Endpoint& peer, int weight) {
  if (!peers_.Strike(peer, weight)) return;
  Endpoint ip = peer;
  ip.set_port(0);
  for (PeerConnection* c : OpenConnections()) {
    Endpoint theirs = c->address();
    theirs.set_port(0);
    if (theirs == ip) {
      c->Close(absl::PermissionDeniedError(
          "banned for sending data that failed hash checks"));
    }
  }
}

void Torrent::ServeBlock(PeerConnection& c, const protocol::Request& r) {
  const uint64_t id = c.id();
  absl::StatusOr<TorrentDisk*> disk = Disk();  // awake while peers are
  if (!disk.ok()) {
    c.session().AbortServe(r);
    return EnterError(disk.status());
  }
  (*disk)->Read(r, c.CanSendFromFile(),
                [this, id,
                 r](const absl::StatusOr<TorrentDisk::BlockToSend>& block) {
                  PeerConnection* conn = Connection(id);
                  if (!block.ok()) {
                    if (conn) conn->session().AbortServe(r);
                    EnterError(block.status());
                  } else if (conn) {
                    if (block->in_file.file) {
                      conn->session().SendBlockFromFile(r, block->in_file.file,
                                                        block->in_file.offset);
                    } else {
                      conn->session().SendBlock(r, AsBytes(block->bytes));
                    }
                    uploaded_ += r.length;
                    if (state_ == TorrentState::kSeeding &&
                        choker_.TurnOver(id, conn->session().payload_up())) {
                      RechokeSoon();
                    }
                  }
                  if (conn) conn->SchedulePump();
                });
}

// --- periodic work ---------------------------------------------------------------

bool Torrent::WantsTick(absl::Time now) const {
  // Stopped, with no connection left and its rates shown as zero: nothing
  // to do until started again.
  if (state_ == TorrentState::kStopped && connections_.empty() &&
      download_rate_ == 0 && upload_rate_ == 0) {
    return false;
  }
  return busy() || now - last_tick_ >= kIdleTickInterval;
}

bool Torrent::busy() const {
  return !connections_.empty() || state_ == TorrentState::kDownloading ||
         state_ == TorrentState::kChecking || rechoke_soon_ ||
         pieces_since_save_ > 0;
}

void Torrent::Tick(absl::Time now) {
  const double seconds =
      last_tick_ == absl::InfinitePast()
          ? 1.0
          : std::max(absl::ToDoubleSeconds(now - last_tick_), 0.001);
  last_tick_ = now;
  download_rate_ = 0.8 * download_rate_ +
                   0.2 * double(downloaded_ - last_downloaded_) / seconds;
  upload_rate_ =
      0.8 * upload_rate_ + 0.2 * double(uploaded_ - last_uploaded_) / seconds;
  last_downloaded_ = downloaded_;
  last_uploaded_ = uploaded_;
  // Nothing flows without a connection (web seeds run only while
  // downloading): no rate to let fade out.
  if (connections_.empty() && state_ != TorrentState::kDownloading) {
    download_rate_ = upload_rate_ = 0;
  }

  for (PeerConnection* c : OpenConnections()) {
    c->Tick(now);
    if (!c->closed()) FillRequests(*c);
  }
  SyncSuperSeeding();
  if (choker_.Due(now) || rechoke_soon_) RunChoker(now);
  ConnectMore(now);
  PumpWebSeeds();
  if (now >= next_dht_announce_) AnnounceToDht(now);
  if (!is_private()) SendPex(now);
  // Resume data: every 30 s while pieces keep arriving, sooner after a
  // batch of them, so a crash loses little.
  if (!params_.resume_path.empty() && pieces_since_save_ > 0 &&
      (now - last_resume_save_ >= absl::Seconds(30) ||
       pieces_since_save_ >= 64)) {
    if (absl::Status s = SaveResumeData(); !s.ok()) EnterError(s);
  }
  if (disk_) disk_->Tick();
  MaybeSleepStorage();
}

void Torrent::SendPex(absl::Time now) {
  std::vector<std::pair<Endpoint, uint8_t>> current;
  const std::vector<PeerConnection*> open = OpenConnections();
  for (PeerConnection* c : open) {
    if (!c->active()) continue;
    if (std::optional<Endpoint> e = c->session().ListenAddress()) {
      uint8_t flags =
          (c->session().peer_is_seed() || c->session().peer_upload_only()
               ? protocol::kPexSeed
               : 0) |
          (c->session().encrypted() ? protocol::kPexPrefersEncryption : 0) |
          (c->utp() ? protocol::kPexUtp : 0);
      current.emplace_back(*e, flags);
    }
  }
  for (PeerConnection* c : open) {
    c->session().SendPex(current, now);
    c->SchedulePump();
  }
}

void Torrent::RechokeSoon() {
  if (rechoke_soon_ || !ctx_) return;
  rechoke_soon_ = true;
  // Once this turn of the loop is over, however many slots were freed in
  // it: a slot left idle until the next tick would cost a second of
  // upload each time a peer finishes.
  ctx_->Defer([this, token = liveness_.token()] {
    if (token.alive() && rechoke_soon_) RunChoker(ctx_->Now());
  });
}

void Torrent::RunChoker(absl::Time now) {
  rechoke_soon_ = false;
  std::vector<ChokerPeer> stats;
  const std::vector<PeerConnection*> open = OpenConnections();
  for (PeerConnection* c : open) {
    if (!c->active()) continue;
    const PeerSession& s = c->session();
    ChokerPeer p;
    p.id = c->id();
    p.interested = s.peer_interested();
    p.snubbed = s.snubbed();
    p.download_rate = s.download_rate();
    p.upload_rate = s.upload_rate();
    p.uploaded = s.payload_up();
    p.connected_at = s.connected_at();
    stats.push_back(p);
  }
  std::vector<uint64_t> unchoke =
      choker_.Rechoke(stats, state_ == TorrentState::kSeeding, now);
  absl::flat_hash_set<uint64_t> set(unchoke.begin(), unchoke.end());
  for (PeerConnection* c : open) {
    if (!c->active()) continue;
    const bool choke = !(serving() && set.contains(c->id()));
    if (super_seeder_) super_seeder_->SetChoked(c->id(), choke);
    if (choke == c->session().am_choking()) continue;
    c->session().SetChoking(choke);
    c->SchedulePump();
  }
}

}  // namespace bt::client
