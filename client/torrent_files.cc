// Torrent: file priorities, BEP 53 file selection and sequential download,
// which all decide what the picker fetches first (or not at all).
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "client/peer_connection.h"
#include "client/torrent.h"
#include "metainfo/magnet.h"
#include "storage/file_priority.h"

namespace bt::client {

absl::StatusOr<std::vector<int>> Torrent::InitialFilePriorities() const {
  const size_t files = info_->files().size();
  std::vector<int> priorities(files, storage::kFilePriorityNormal);
  if (!params_.magnet.empty() && params_.torrent_path.empty()) {
    // Open parsed it already: it parses again.
    absl::StatusOr<metainfo::MagnetLink> link =
        metainfo::ParseMagnet(params_.magnet);
    for (size_t f = 0; link.ok() && f < files; ++f) {
      if (!link->SelectsFile(static_cast<uint32_t>(f))) {
        priorities[f] = storage::kFilePrioritySkip;
      }
    }
  }
  for (const auto& [file, priority] : params_.file_priorities) {
    if (file >= files) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "priority for file %d, but the torrent has %d files", file, files));
    }
    priorities[file] = priority;
  }
  return priorities;
}

void Torrent::SyncPiecePriorities() {
  for (uint32_t i = 0; i < info_->num_pieces(); ++i) {
    picker_->SetPiecePriority(i, disk_->storage().PiecePriority(i));
  }
}

int Torrent::file_priority(size_t file) const {
  if (disk_) return disk_->storage().file_priority(file);
  if (storage_asleep_ && file < sleeping_priorities_.size()) {
    return sleeping_priorities_[file];
  }
  return storage::kFilePriorityNormal;
}

absl::Status Torrent::SetFilePriority(size_t file, int priority) {
  ASSIGN_OR_RETURN(TorrentDisk * disk, Disk());
  RETURN_IF_ERROR(disk->Exclusive([&](storage::PieceStorage& s) {
    return s.SetFilePriority(file, priority);
  }));
  SyncPiecePriorities();
  if (complete()) {
    if (state_ == TorrentState::kDownloading) EnterSeeding();
  } else if (state_ == TorrentState::kSeeding) {
    SetState(TorrentState::kDownloading);
  }
  AnnounceUploadOnly();
  for (PeerConnection* c : OpenConnections()) {
    if (!CloseIfNothingToTrade(*c)) UpdateInterest(*c);
  }
  return absl::OkStatus();
}

void Torrent::SetSequential(bool on) {
  params_.sequential = on;
  if (picker_) picker_->SetSequential(on);
}

}  // namespace bt::client
