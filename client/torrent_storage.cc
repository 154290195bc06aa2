// Torrent: where its data lives — the storage and its disk queue (made,
// put to sleep while idle, woken), resume data, moving it to another
// directory while running, and deleting it when the torrent is removed.
#include <algorithm>
#include <thread>

#include "absl/strings/str_format.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "client/torrent.h"
#include "storage/file_priority.h"
#include "storage/resume_data.h"

namespace bt::client {
namespace {

// Largest resume file read.
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
  options.on_event =
      [this, token = liveness_.token(), relay = event_relay_,
       info_hash = info_hash_,
       thread = std::this_thread::get_id()](const storage::StorageEvent& s) {
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
  ASSIGN_OR_RETURN(
      std::unique_ptr<storage::PieceStorage> storage,
      storage::PieceStorage::Create(*info_, params_.save_path, &backend(),
                                    std::move(options)));
  if (!ctx_) {
    // Without a client only checks run (under Exclusive): no jobs.
    own_pool_ = std::make_unique<DiskPool>(DiskPool::Options{.threads = 0},
                                           [](DiskPool::Task t) { t(); });
  }
  disk_ =
      std::make_unique<TorrentDisk>(own_pool_ ? own_pool_.get() : &ctx_->disk(),
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

absl::Status Torrent::MoveStorage(const std::string& new_save_path) {
  absl::Status moved =
      new_save_path.empty()
          ? absl::InvalidArgumentError("move storage: empty destination")
          : absl::OkStatus();
  if (moved.ok() && has_metadata()) {
    // Exclusive waits for the torrent's running jobs; queued ones run
    // after the move, on the new paths.
    absl::StatusOr<TorrentDisk*> disk = Disk();
    moved = disk.ok() ? (*disk)->Exclusive([&](storage::PieceStorage& s) {
      return s.MoveStorage(new_save_path);
    })
                      : disk.status();
  }
  Event e;
  if (!moved.ok()) {
    e.type = EventType::kStorageMoveFailed;
    e.path = new_save_path;
    e.reason = std::string(moved.message());
    if (Wants(e.type)) Emit(e);
    return moved;
  }
  const std::string old_save_path = params_.save_path;
  params_.save_path = disk_ ? disk_->storage().save_path() : new_save_path;
  // Only now, with every file in place, may the resume data say so.
  absl::Status saved;
  if (has_metadata() && !params_.resume_path.empty()) saved = SaveResumeData();
  e.type = EventType::kStorageMoved;
  e.path = params_.save_path;
  e.reason = old_save_path;
  if (Wants(e.type)) Emit(e);
  if (!saved.ok()) {
    return absl::Status(
        saved.code(), absl::StrFormat("moved to %s, but saving resume data: %s",
                                      params_.save_path, saved.message()));
  }
  return absl::OkStatus();
}

storage::ResumeState Torrent::RestoreFollowingMove(std::string_view bytes) {
  auto restore = [&](storage::PieceStorage& s) {
    return storage::RestoreResumeData(*info_, s, bytes);
  };
  storage::ResumeState here = disk_->Exclusive(restore);
  const std::string given = disk_->storage().save_path();
  if (here.save_path.empty() || here.save_path == given) return here;
  storage::ResumeState there = disk_->Exclusive([&](storage::PieceStorage& s) {
    s.Relocate(here.save_path);
    return restore(s);
  });
  if (there.have.Count() > here.have.Count()) {
    params_.save_path = disk_->storage().save_path();
    return there;
  }
  disk_->Exclusive([&](storage::PieceStorage& s) {
    s.Relocate(given);
    return 0;
  });
  return here;
}

absl::Status Torrent::DeleteData() {
  if (state_ != TorrentState::kStopped) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "delete data of %s: the torrent is not stopped", name()));
  }
  absl::Status first;
  if (has_metadata()) {
    absl::StatusOr<TorrentDisk*> disk = Disk();
    first = disk.ok() ? (*disk)->Exclusive([](storage::PieceStorage& s) {
      return s.DeleteFiles();
    })
                      : disk.status();
  }
  if (!params_.resume_path.empty()) {
    absl::Status st = backend().Remove(params_.resume_path);
    if (first.ok()) first = st;
  }
  return first;
}

}  // namespace bt::client
