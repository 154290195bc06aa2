// Torrent: opening, state, the public API, checking and resume data. Peers
// are handled in torrent_peers.cc, pieces in torrent_pieces.cc.
#include "client/torrent.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "absl/strings/str_format.h"
#include "base/file_util.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "client/peer_connection.h"
#include "client/tracker_announcer.h"
#include "metainfo/magnet.h"
#include "storage/file_priority.h"
#include "storage/hash_checker.h"
#include "storage/posix_file_backend.h"
#include "storage/resume_data.h"

namespace bt::client {
namespace {

// Largest .torrent and resume file read.
constexpr size_t kMaxTorrentFile = 64 << 20;
constexpr size_t kMaxResumeFile = 64 << 20;
// Peers kept in resume data.
constexpr size_t kResumePeers = 200;

// ResumeDigest identifies what a resume file says, but for when it was
// written.
Sha1Hash ResumeDigest(storage::ResumeData rd) {
  rd.timestamp = 0;
  return Sha1(AsBytes(storage::EncodeResumeData(rd)));
}

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

absl::Status Torrent::InitStorage() {
  ASSIGN_OR_RETURN(std::vector<int> priorities, InitialFilePriorities());
  RETURN_IF_ERROR(MakeDisk(std::move(priorities)));
  picker_ =
      std::make_unique<PiecePicker>(info_->piece_length(), info_->total_size(),
                                    storage::Bitfield(info_->num_pieces()));
  picker_->SetSequential(params_.sequential);
  SyncPiecePriorities();
  if (info_->has_v2() && info_->has_piece_layers()) {
    hash_server_ = std::make_unique<HashServer>(info_);
  }
  return absl::OkStatus();
}

absl::Status Torrent::MakeDisk(std::vector<int> file_priorities) {
  storage::StorageOptions options;
  // Storage reports from whichever thread touches a file (disk workers
  // too); handlers run on the torrent's thread only.
  // The relay, not the torrent, is what a worker may touch: the torrent
  // can be gone while its last job closes the files.
  options.on_event = [this, token = liveness_.token(), relay = event_relay_,
                      info_hash = info_hash_,
                      thread = std::this_thread::get_id()](
                         const storage::StorageEvent& s) {
    const bool own_thread = std::this_thread::get_id() == thread;
    // A worker reports only what a handler waits for: posting every block
    // read and write to the loop cost a seeder a fifth of its CPU.
    if (!own_thread && !(relay->wanted.load(std::memory_order_relaxed) &
                         StorageEventBit(s.type))) {
      return;
    }
    Event e;
    e.type = kStorageEventTypes[static_cast<int>(s.type)];
    e.info_hash = info_hash;
    e.file_index = s.file_index;
    e.path = s.path;
    e.mode = s.mode == storage::OpenMode::kRead ? 'r' : 'w';
    e.length = s.length;
    e.reason = s.message;
    if (own_thread) {
      if (token.alive() && Wants(e.type)) Emit(e);
      return;
    }
    // The pool, not the client: a worker reports from inside the pool,
    // which outlives its workers even while the client tears it down.
    DiskPool* pool = relay->pool.load();
    if (!pool) return;
    pool->PostToOwner([this, token, e]() mutable {
      if (token.alive() && Wants(e.type)) Emit(e);
    });
  };
  options.file_priorities = std::move(file_priorities);
  ASSIGN_OR_RETURN(std::unique_ptr<storage::PieceStorage> storage,
                   storage::PieceStorage::Create(*info_, params_.save_path,
                                                 &backend(), std::move(options)));
  if (!ctx_) {
    // Without a client only checks run (under Exclusive): no jobs.
    own_pool_ = std::make_unique<DiskPool>(
        DiskPool::Options{.threads = 0}, [](DiskPool::Task t) { t(); });
  }
  disk_ = std::make_unique<TorrentDisk>(own_pool_ ? own_pool_.get() : &ctx_->disk(),
                                        info_, std::move(storage), own_backend_);
  if (ctx_) AttachDisk();
  return absl::OkStatus();
}

absl::StatusOr<TorrentDisk*> Torrent::Disk() {
  if (!disk_ && storage_asleep_) {
    if (sleeping_priorities_.empty()) {
      sleeping_priorities_.assign(info_->files().size(),
                                  storage::kFilePriorityNormal);
    }
    RETURN_IF_ERROR(MakeDisk(std::move(sleeping_priorities_)));
    storage_asleep_ = false;
  }
  if (!disk_) return absl::FailedPreconditionError("metadata not known yet");
  return disk_.get();
}

void Torrent::MaybeSleepStorage() {
  const bool idle_state = state_ == TorrentState::kSeeding ||
                          state_ == TorrentState::kPaused ||
                          state_ == TorrentState::kStopped;
  if (!disk_ || !ctx_ || !idle_state || busy() || disk_->jobs_in_flight() > 0 ||
      !web_seeds_.empty()) {
    return;
  }
  sleeping_priorities_ = disk_->storage().file_priorities();
  if (std::all_of(sleeping_priorities_.begin(), sleeping_priorities_.end(),
                  [](int p) { return p == storage::kFilePriorityNormal; })) {
    sleeping_priorities_ = {};  // the usual case: kept as none
  }
  disk_.reset();  // closes its files
  own_backend_.reset();
  storage_asleep_ = true;
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

absl::Status Torrent::LoadState() {
  if (!has_metadata()) return absl::OkStatus();
  RETURN_IF_ERROR(Disk().status());
  std::string bytes;
  if (!params_.resume_path.empty()) {
    absl::StatusOr<std::string> read =
        backend().ReadWholeFile(params_.resume_path, kMaxResumeFile);
    if (read.ok()) bytes = *std::move(read);
  }
  if (bytes.empty()) return HashCheck();
  if (absl::StatusOr<storage::ResumeData> saved =
          storage::DecodeResumeData(bytes);
      saved.ok()) {
    saved_resume_digest_ = ResumeDigest(*saved);
  }
  storage::ResumeState st = RestoreFollowingMove(bytes);
  uploaded_before_ = st.total_uploaded;
  downloaded_before_ = st.total_downloaded;
  for (size_t f = 0; f < st.file_priorities.size(); ++f) {
    RETURN_IF_ERROR(SetFilePriority(f, st.file_priorities[f]));
  }
  // What the caller asked for wins over what was saved.
  for (const auto& [file, priority] : params_.file_priorities) {
    RETURN_IF_ERROR(SetFilePriority(file, priority));
  }
  const TorrentState before = state_;
  SetState(TorrentState::kChecking);
  // A partial piece with every block on disk was saved while its hash
  // check was pending: check it now, or nothing would ever fetch or
  // verify it again.
  auto all_blocks = [&](const storage::PartialPiece& p) {
    if (p.index >= info_->num_pieces() || p.block_size != kBlockSize) {
      return false;
    }
    const uint32_t blocks = picker_->BlocksInPiece(p.index);
    for (uint32_t b = 0; b < blocks; ++b) {
      if (b >= p.blocks.size() || !p.blocks.Get(b)) return false;
    }
    return true;
  };
  for (const storage::PartialPiece& p : st.partial) {
    if (all_blocks(p) && !st.have.Get(p.index)) st.recheck.Set(p.index);
  }
  storage::Bitfield have = st.have;
  if (st.recheck.Count() > 0) {
    absl::StatusOr<storage::Bitfield> passed = CheckAndEmit(&st.recheck);
    if (!passed.ok()) {
      SetState(before);
      return passed.status();
    }
    have.Or(*passed);
  }
  AdoptHaveSet(have);
  // Blocks of unfinished pieces that were on disk at the save.
  for (const storage::PartialPiece& p : st.partial) {
    if (p.index >= info_->num_pieces() || have.Get(p.index) ||
        p.block_size != kBlockSize || all_blocks(p)) {
      continue;
    }
    for (size_t b = 0; b < p.blocks.size(); ++b) {
      if (p.blocks.Get(b)) picker_->MarkBlockReceived({p.index, uint32_t(b)});
    }
  }
  const absl::Time now = ctx_ ? ctx_->Now() : absl::Now();
  for (const Endpoint& peer : st.peers) {
    peers_.Add(peer, PeerSet::Source::kResume, now);
  }
  SetState(before == TorrentState::kChecking ? TorrentState::kStopped : before);
  // Loaded, a client restoring thousands lets each storage go at once: the
  // next torrent's load reuses its memory.
  MaybeSleepStorage();
  return absl::OkStatus();
}

absl::Status Torrent::SaveResumeData(const std::string& path) {
  if (!has_metadata()) return absl::OkStatus();
  const std::string& to = path.empty() ? params_.resume_path : path;
  if (to.empty()) return absl::FailedPreconditionError("no resume path");
  const absl::Time now = ctx_ ? ctx_->Now() : absl::Now();
  ASSIGN_OR_RETURN(TorrentDisk * disk, Disk());
  ASSIGN_OR_RETURN(storage::ResumeData rd,
                   disk->Exclusive([&](storage::PieceStorage& s) {
                     return storage::CaptureResumeData(
                         *info_, s, have(), absl::ToUnixSeconds(now));
                   }));
  rd.peers = peers_.ForResume(kResumePeers);
  rd.total_uploaded = total_uploaded();
  rd.total_downloaded = total_downloaded();
  for (uint32_t piece : picker_->PartialPieces()) {
    std::vector<bool> received = picker_->ReceivedBlocks(piece);
    storage::PartialPiece p;
    p.index = piece;
    p.piece_size = picker_->PieceSize(piece);
    p.blocks = storage::Bitfield(received.size());
    bool any = false;
    for (size_t b = 0; b < received.size(); ++b) {
      if (received[b]) p.blocks.Set(b), any = true;
    }
    if (any) rd.partial.push_back(std::move(p));
  }
  // Unchanged since this file was last saved or loaded: a daemon stopping
  // 10,000 idle torrents would otherwise rewrite and sync every one.
  const bool own_file = to == params_.resume_path;
  const Sha1Hash digest = ResumeDigest(rd);
  if (!own_file || digest != saved_resume_digest_ || !backend().Stat(to).ok()) {
    RETURN_IF_ERROR(storage::SaveResumeData(backend(), to, rd));
    if (own_file) saved_resume_digest_ = digest;
  }
  last_resume_save_ = now;
  pieces_since_save_ = 0;
  return absl::OkStatus();
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
