// Torrent: where its data lives as a whole — moving it to another
// directory while running, and deleting it when the torrent is removed.
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "client/torrent.h"

namespace bt::client {

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
