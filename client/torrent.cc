// Torrent: opening, state, the public API and checking. Storage and resume
// data are in torrent_storage.cc, peers in torrent_peers.cc, pieces in
// torrent_pieces.cc.
#include "client/torrent.h"

#include <algorithm>
#include <mutex>

#include "absl/strings/str_format.h"
#include "base/file_util.h"
#include "base/status_macros.h"
#include "client/peer_connection.h"
#include "client/tracker_announcer.h"
#include "metainfo/magnet.h"
#include "storage/hash_checker.h"
#include "storage/posix_file_backend.h"

namespace bt::client {
namespace {

// Largest .torrent file read.
constexpr size_t kMaxTorrentFile = 64 << 20;

}  // namespace

const char* TorrentStateName(TorrentState s) {
  switch (s) {
    case TorrentState::kStopped:
      return "stopped";
    case TorrentState::kChecking:
      return "checking";
    case TorrentState::kDownloading:
      return "downloading";
    case TorrentState::kSeeding:
      return "seeding";
    case TorrentState::kPaused:
      return "paused";
    case TorrentState::kError:
      return "error";
  }
  return "?";
}

Torrent::Torrent(TorrentParams params,
                 std::shared_ptr<const metainfo::TorrentInfo> info)
    : params_(std::move(params)),
      info_(std::move(info)),
      info_hash_(info_->WireInfoHash()),
      peers_([] {
        PeerSet::Options o;
        o.max_candidates = kMaxCandidates;
        return o;
      }()),
      tiers_(info_->trackers()) {}

Torrent::~Torrent() {
  // Storage reports each file it closes as it is destroyed; close them
  // while the handlers that hear file_close still exist.
  announcer_.reset();
  disk_.reset();
}

absl::StatusOr<std::unique_ptr<Torrent>> Torrent::Open(TorrentParams params) {
  if (params.torrent_path.empty() && !params.magnet.empty()) {
    ASSIGN_OR_RETURN(metainfo::MagnetLink link,
                     metainfo::ParseMagnet(params.magnet));
    for (const std::string& pe : link.peers) {
      absl::StatusOr<Endpoint> e = Endpoint::Parse(pe);
      if (e.ok()) params.peers.push_back(*e);  // host names are skipped
    }
    std::unique_ptr<Torrent> t(new Torrent(
        std::move(params), std::make_shared<metainfo::TorrentInfo>()));
    t->info_hash_ = link.info_hash_v1 ? *link.info_hash_v1
                                      : Sha1Hash::FromBytes(
                                            link.info_hash_v2->span());
    t->display_name_ = link.display_name.empty() ? t->info_hash_.ToHex()
                                                 : link.display_name;
    for (const std::string& tr : link.trackers) t->tiers_.push_back({tr});
    t->metadata_ = std::make_unique<MetadataExchange>(link.info_hash_v1,
                                                      link.info_hash_v2);
    return t;
  }
  std::shared_ptr<const metainfo::TorrentInfo> info;
  if (!params.torrent_path.empty()) {
    ASSIGN_OR_RETURN(std::string bytes,
                     ReadFileToString(params.torrent_path, kMaxTorrentFile));
    absl::StatusOr<metainfo::TorrentInfo> parsed =
        metainfo::TorrentInfo::Parse(bytes);
    if (!parsed.ok()) {
      return absl::Status(parsed.status().code(),
                          absl::StrFormat("%s: %s", params.torrent_path,
                                          parsed.status().message()));
    }
    info = std::make_shared<const metainfo::TorrentInfo>(*std::move(parsed));
  } else {
    info = std::move(params.info);
  }
  if (!info || (info->num_pieces() == 0 && info->total_size() == 0 &&
                info->files().empty())) {
    return absl::InvalidArgumentError("no torrent given");
  }
  if (info->has_v2() && !info->has_v1() && !info->has_piece_layers()) {
    // A v2-only .torrent without (some of) its piece layers cannot check
    // pieces yet: it fetches the missing layers from peers first, as a v2
    // magnet link does once its metadata arrived. (A hybrid torrent's v1
    // hashes check its pieces: it needs no layers.)
    std::unique_ptr<MetadataExchange> exchange =
        MetadataExchange::ForPieceLayers(*info);
    std::unique_ptr<Torrent> t(new Torrent(std::move(params), std::move(info)));
    t->display_name_ = t->info_->name();
    t->metadata_ = std::move(exchange);
    return t;
  }
  std::unique_ptr<Torrent> t(new Torrent(std::move(params), std::move(info)));
  RETURN_IF_ERROR(t->InitStorage());
  return t;
}

storage::FileBackend& Torrent::backend() {
  if (params_.backend) return *params_.backend;
  if (ctx_ && ctx_->options().file_backend) return *ctx_->options().file_backend;
  if (!own_backend_) own_backend_ = std::make_shared<storage::PosixFileBackend>();
  return *own_backend_;
}

void Torrent::Attach(ClientContext* ctx) {
  ctx_ = ctx;
  event_relay_->pool = &ctx->disk();
  RefreshWantedStorageEvents();
  Choker::Options options;
  options.upload_slots = ctx->options().upload_slots;
  options.seed_turn_bytes = ctx->options().seed_turn_bytes;
  choker_ = Choker(options);
  if (disk_) AttachDisk();
  // Limits set before joining count from now on.
  if (upload_limit_.limited() || download_limit_.limited()) {
    ctx->RateLimitsChanged(*this);
  }
}

void Torrent::AttachDisk() {
  disk_->MoveTo(&ctx_->disk(), [ctx = ctx_](std::function<void()> task) {
    ctx->Defer(std::move(task));
  });
  // The check-only pool ran its jobs inline: none is left in it.
  own_pool_.reset();
}

void Torrent::SetRateLimits(int64_t upload, int64_t download) {
  // A change refills the limited torrents' quotas (Client::RefillQuotas):
  // setting what is already set, as a daemon restoring thousands does,
  // costs none.
  if (upload == upload_limit_.rate() && download == download_limit_.rate()) {
    return;
  }
  upload_limit_.set_rate(upload);
  download_limit_.set_rate(download);
  if (ctx_) ctx_->RateLimitsChanged(*this);
}

// --- events ---------------------------------------------------------------

void Torrent::OnEvent(EventType type, Handler handler) {
  // Sized at the first handler: most torrents of a big client have none.
  if (handlers_.empty()) handlers_.resize(kEventTypeCount);
  handlers_[static_cast<size_t>(type)].push_back(std::move(handler));
  RefreshWantedStorageEvents();
}

void Torrent::ClearHandlers() {
  handlers_.clear();
  RefreshWantedStorageEvents();
}

void Torrent::RefreshWantedStorageEvents() {
  uint32_t wanted = 0;
  for (int i = 0; i < std::size(kStorageEventTypes); ++i) {
    if (Wants(kStorageEventTypes[i])) {
      wanted |= StorageEventBit(static_cast<storage::StorageEventType>(i));
    }
  }
  event_relay_->wanted.store(wanted, std::memory_order_relaxed);
}

bool Torrent::Wants(EventType type) const {
  return (!handlers_.empty() && !handlers_[static_cast<size_t>(type)].empty()) ||
         (ctx_ && ctx_->Wants(type));
}

bool Torrent::Emit(Event& e) {
  e.info_hash = info_hash_;
  bool allow = true;
  if (!handlers_.empty()) {
    for (const Handler& h : handlers_[static_cast<size_t>(e.type)]) {
      allow = h(e) && allow;
    }
  }
  if (ctx_) allow = ctx_->Emit(e) && allow;
  return allow;
}

// --- state ----------------------------------------------------------------

const storage::Bitfield& Torrent::have() const {
  static const storage::Bitfield* const kNothing = new storage::Bitfield();
  return picker_ ? picker_->have() : *kNothing;
}

uint32_t Torrent::pieces_have() const {
  return static_cast<uint32_t>(have().Count());
}

bool Torrent::complete() const { return picker_ && picker_->Wanted() == 0; }

bool Torrent::serving() const {
  return state_ == TorrentState::kDownloading ||
         state_ == TorrentState::kSeeding;
}

const std::string& Torrent::name() const {
  return has_metadata() ? info_->name() : display_name_;
}

std::pair<uint32_t, uint32_t> Torrent::metadata_progress() const {
  return metadata_ ? metadata_->metadata_progress()
                   : std::pair<uint32_t, uint32_t>{0, 0};
}

std::pair<uint32_t, uint32_t> Torrent::piece_layer_progress() const {
  return metadata_ ? metadata_->piece_layer_progress()
                   : std::pair<uint32_t, uint32_t>{0, 0};
}

int64_t Torrent::bytes_wanted() const {
  if (!picker_) return 0;
  int64_t n = 0;
  for (uint32_t i = 0; i < info_->num_pieces(); ++i) {
    if (picker_->PiecePriority(i) > 0) n += picker_->PieceSize(i);
  }
  return n;
}

int64_t Torrent::bytes_done() const {
  if (!picker_) return 0;
  int64_t n = 0;
  for (uint32_t i = 0; i < info_->num_pieces(); ++i) {
    if (picker_->have().Get(i) && picker_->PiecePriority(i) > 0) {
      n += picker_->PieceSize(i);
    }
  }
  return n;
}

void Torrent::SetState(TorrentState s) {
  state_ = s;
  // Downloading and checking use the disk: a sleeping storage wakes (see
  // storage_asleep).
  if (storage_asleep_ &&
      (s == TorrentState::kDownloading || s == TorrentState::kChecking)) {
    if (absl::Status st = Disk().status(); !st.ok()) return EnterError(st);
  }
  // Once at least, for the rates to follow the change.
  if (ctx_) ctx_->TickSoon(*this);
}

void Torrent::EnterError(absl::Status status) {
  if (state_ == TorrentState::kError) return;
  error_ = std::move(status);
  SetState(TorrentState::kError);
  for (PeerConnection* c : OpenConnections()) {
    OnRequestsReturned(*c, c->session().InFlight());
    c->session().SetInterested(false);
    c->SchedulePump();
  }
}

void Torrent::EnterSeeding() {
  SetState(TorrentState::kSeeding);
  AnnounceUploadOnly();
  SyncSuperSeeding();
  // Empty files hold no piece, so no write creates them.
  const bool has_empty_file = std::any_of(
      info_->files().begin(), info_->files().end(),
      [](const metainfo::FileEntry& f) { return f.size == 0 && !f.pad(); });
  if (!has_empty_file) return;
  absl::StatusOr<TorrentDisk*> disk = Disk();
  absl::Status s = disk.status();
  if (s.ok()) {
    s = (*disk)->Exclusive(
        [](storage::PieceStorage& st) { return st.CreateEmptyFiles(); });
  }
  if (!s.ok()) EnterError(s);
}

absl::StatusOr<storage::Bitfield> Torrent::CheckAndEmit(
    const storage::Bitfield* pieces) {
  std::mutex mu;
  std::vector<std::pair<uint32_t, bool>> results;
  storage::CheckOptions options;
  options.pieces = pieces;
  options.on_piece = [&](uint32_t piece, bool ok) {
    std::lock_guard<std::mutex> lock(mu);
    results.emplace_back(piece, ok);
  };
  ASSIGN_OR_RETURN(TorrentDisk * disk, Disk());
  ASSIGN_OR_RETURN(storage::CheckResult r,
                   disk->Exclusive([&](storage::PieceStorage& s) {
                     return storage::CheckPieces(*info_, s, options);
                   }));
  // Events run on this thread, after the checking threads are done.
  for (const auto& [piece, ok] : results) {
    Event e;
    e.type = ok ? EventType::kPieceHashPass : EventType::kPieceHashFail;
    e.index = piece;
    if (Wants(e.type)) Emit(e);
  }
  return r.have;
}

void Torrent::AdoptHaveSet(const storage::Bitfield& have) {
  std::vector<int> priorities(info_->num_pieces());
  // A piece with a block still on its way to disk may pass a check now and
  // be overwritten by that block afterwards: it is not trusted (the write
  // then completes into a piece nobody awaits, and it is fetched again).
  storage::Bitfield trusted = have;
  for (uint32_t i = 0; i < info_->num_pieces(); ++i) {
    priorities[i] = picker_->PiecePriority(i);
    if (trusted.Get(i) && picker_->WritePending(i)) trusted.Clear(i);
  }
  picker_ = std::make_unique<PiecePicker>(info_->piece_length(),
                                          info_->total_size(), trusted);
  for (uint32_t i = 0; i < info_->num_pieces(); ++i) {
    picker_->SetPiecePriority(i, priorities[i]);
  }
  picker_->SetSequential(params_.sequential);
  // What connected peers have still counts; their requests do not.
  for (PeerConnection* c : OpenConnections()) {
    const storage::Bitfield& theirs = c->session().peer_have();
    if (theirs.size() == info_->num_pieces()) picker_->AddPeerBitfield(theirs);
  }
}

absl::Status Torrent::HashCheck() {
  if (!has_metadata()) return absl::OkStatus();  // nothing on disk to check
  const TorrentState before = state_;
  SetState(TorrentState::kChecking);
  absl::StatusOr<storage::Bitfield> have = CheckAndEmit(nullptr);
  if (have.ok()) AdoptHaveSet(*have);
  if (before == TorrentState::kStopped || before == TorrentState::kChecking) {
    SetState(TorrentState::kStopped);
  } else if (before == TorrentState::kPaused ||
             before == TorrentState::kError) {
    SetState(before);  // a check neither resumes nor clears an error
  } else if (complete()) {
    EnterSeeding();
  } else {
    SetState(TorrentState::kDownloading);
  }
  return have.status();
}

absl::Status Torrent::Start() {
  if (!ctx_) {
    return absl::FailedPreconditionError(
        "a torrent without a client can only check data");
  }
  if (state_ == TorrentState::kError && disk_) {
    disk_->Exclusive([](storage::PieceStorage& s) {
      s.ClearError();
      return 0;
    });
  }
  error_ = absl::OkStatus();
  const bool was_stopped = state_ == TorrentState::kStopped;
  if (complete()) {
    EnterSeeding();
  } else {
    SetState(TorrentState::kDownloading);
  }
  if (was_stopped) {
    peers_.RetryNow();
    StartTrackers();
    last_tick_ = absl::InfinitePast();  // tick (DHT announce) at once
  }
  for (PeerConnection* c : OpenConnections()) {
    UpdateInterest(*c);
    FillRequests(*c);
    c->SchedulePump();
  }
  ConnectMore(ctx_->Now());
  PumpWebSeeds();
  return absl::OkStatus();
}

void Torrent::Reannounce() {
  if (state_ == TorrentState::kStopped) return;
  if (announcer_) announcer_->Reannounce();
  next_dht_announce_ = absl::InfinitePast();
  last_tick_ = absl::InfinitePast();
  ctx_->TickSoon(*this);
  peers_.RetryNow();
  ConnectMore(ctx_->Now());
}

absl::Status Torrent::Pause() {
  if (state_ == TorrentState::kStopped) {
    return absl::FailedPreconditionError("torrent is stopped");
  }
  SetState(TorrentState::kPaused);
  for (PeerConnection* c : OpenConnections()) {
    OnRequestsReturned(*c, c->session().InFlight());
    c->session().SetInterested(false);
    c->session().SetChoking(true);
    c->SchedulePump();
  }
  PumpWebSeeds();  // stops them
  return absl::OkStatus();
}

absl::Status Torrent::Stop() {
  if (state_ == TorrentState::kStopped) return absl::OkStatus();
  if (!params_.resume_path.empty() && state_ != TorrentState::kChecking) {
    // Best effort: a failure to save must not keep the torrent running.
    if (absl::Status s = SaveResumeData(); !s.ok()) EnterError(s);
  }
  SetState(TorrentState::kStopped);
  for (PeerConnection* c : OpenConnections()) {
    c->Close(absl::CancelledError("torrent stopped"));
  }
  if (announcer_) announcer_->Stop();
  PumpWebSeeds();  // stops them
  MaybeSleepStorage();
  return absl::OkStatus();
}

bool Torrent::announcing_stop() const {
  return state_ == TorrentState::kStopped && announcer_ &&
         !announcer_->stopped();
}

void Torrent::StartTrackers() {
  if (!ctx_ || tiers_.empty() || !ctx_->trackers() || !ctx_->loop()) return;
  TrackerAnnouncer::Options options;
  options.peer_id = ctx_->peer_id();
  options.port = ctx_->port();
  announcer_ = std::make_unique<TrackerAnnouncer>(
      ctx_->loop(), ctx_->trackers(), info_hash_, tiers_, is_private(),
      options,
      [this] {
        // Before the metadata, "left" is unknown but not zero (not a seed).
        int64_t left = has_metadata() ? bytes_wanted() - bytes_done() : 1;
        return TrackerAnnouncer::TransferStats{uploaded_, downloaded_, left};
      },
      [this](const tracker::TrackerEvent& te) {
        Event e = EventFromTracker(te);
        for (const Endpoint& p : e.peers) AddPeer(p);
        if (Wants(e.type)) Emit(e);
      });
  announcer_->Start();
  if (complete()) announcer_->SetCompleted();
}

void Torrent::AnnounceToDht(absl::Time now) {
  if (!ctx_ || !ctx_->has_dht() || is_private() || !serving()) return;
  // Often while peers are scarce, else every 15 minutes (BEP 5's pace).
  next_dht_announce_ =
      now + (connections_.size() < 5 ? absl::Seconds(20) : absl::Minutes(15));
  ctx_->QueueDhtAnnounce(info_hash_);
}

absl::Status Torrent::Adopt(metainfo::TorrentInfo info) {
  info_ = std::make_shared<metainfo::TorrentInfo>(std::move(info));
  metadata_.reset();
  RETURN_IF_ERROR(InitStorage());
  const TorrentState running = state_;
  RETURN_IF_ERROR(LoadState());
  if (running == TorrentState::kPaused) {
    SetState(running);
  } else if (complete()) {
    EnterSeeding();
  } else {
    SetState(TorrentState::kDownloading);
  }
  if (announcer_ && complete()) announcer_->SetCompleted();
  // Sessions learn the piece count and report what their peers have.
  for (PeerConnection* c : OpenConnections()) {
    c->session().OnMetadata();
    c->SchedulePump();
  }
  return absl::OkStatus();
}

}  // namespace bt::client
