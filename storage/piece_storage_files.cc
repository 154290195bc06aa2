// PieceStorage: where the torrent's files live as a whole — their paths,
// moving them to another directory, deleting them. Block I/O is in
// piece_storage.cc.
#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "storage/piece_storage.h"

namespace bt::storage {
namespace {

constexpr size_t kCompareChunk = size_t{1} << 20;

std::string Prefix(const std::string& dir) {
  return dir.empty() ? "" : dir + "/";
}

// SameContents is true if files `a` and `b` hold the same bytes.
absl::StatusOr<bool> SameContents(FileBackend& backend, const std::string& a,
                                  const std::string& b) {
  ASSIGN_OR_RETURN(FileStat sa, backend.Stat(a));
  ASSIGN_OR_RETURN(FileStat sb, backend.Stat(b));
  if (sa.size != sb.size) return false;
  std::vector<uint8_t> ba(kCompareChunk), bb(kCompareChunk);
  for (int64_t at = 0; at < sa.size;) {
    ASSIGN_OR_RETURN(size_t na, backend.Read(a, at, absl::MakeSpan(ba)));
    ASSIGN_OR_RETURN(size_t nb, backend.Read(b, at, absl::MakeSpan(bb)));
    if (na != nb || na == 0) return na == nb && at == sa.size;
    if (!std::equal(ba.begin(), ba.begin() + na, bb.begin())) return false;
    at += static_cast<int64_t>(na);
  }
  return true;
}

// Move is one file to move: from, to, whether `to` already holds its
// content, and whether `to` is `from` itself (another name of the place).
struct Move {
  std::string from, to;
  bool already_there = false;
  bool same_file = false;
};

}  // namespace

void PieceStorage::SetPaths(std::string save_path,
                            const std::string& part_name) {
  while (save_path.size() > 1 && save_path.back() == '/') save_path.pop_back();
  save_path_ = std::move(save_path);
  const std::string prefix = Prefix(save_path_);
  paths_.clear();
  files_by_path_.clear();
  for (size_t i = 0; i < layout_.num_files(); ++i) {
    paths_.push_back(prefix + layout_.file(i).PathString());
    if (!layout_.file(i).pad()) files_by_path_.push_back(i);
  }
  std::stable_sort(
      files_by_path_.begin(), files_by_path_.end(),
      [this](uint32_t a, uint32_t b) { return paths_[a] < paths_[b]; });
  part_name_ = part_name;
  part_path_ = prefix + part_name;
}

std::optional<size_t> PieceStorage::FileIndexOfPath(
    const std::string& path) const {
  if (path == part_path_) return kPartFileIndex;
  auto it = std::lower_bound(
      files_by_path_.begin(), files_by_path_.end(), path,
      [this](uint32_t file, const std::string& p) { return paths_[file] < p; });
  if (it == files_by_path_.end() || paths_[*it] != path) return std::nullopt;
  return *it;
}

void PieceStorage::RemoveEmptyDirs(const std::string& save_path) {
  // Every directory a path names, deepest first (a parent is emptied by
  // its children going).
  std::set<std::string> dirs;
  for (size_t i = 0; i < layout_.num_files(); ++i) {
    const std::vector<std::string>& path = layout_.file(i).path;
    std::string dir;
    for (size_t c = 0; c + 1 < path.size(); ++c) {
      dir += (c ? "/" : "") + path[c];
      dirs.insert(dir);
    }
  }
  std::vector<std::string> order(dirs.begin(), dirs.end());
  std::sort(order.begin(), order.end(),
            [](const std::string& a, const std::string& b) {
              return std::count(a.begin(), a.end(), '/') >
                     std::count(b.begin(), b.end(), '/');
            });
  for (const std::string& d : order) {
    backend_->RemoveEmptyDirectory(Prefix(save_path) + d).IgnoreError();
  }
}

absl::Status PieceStorage::MoveStorage(std::string new_save_path) {
  while (new_save_path.size() > 1 && new_save_path.back() == '/') {
    new_save_path.pop_back();
  }
  if (new_save_path.empty()) {
    return absl::InvalidArgumentError("move storage: empty destination");
  }
  if (new_save_path == save_path_) return absl::OkStatus();
  const std::string to_prefix = Prefix(new_save_path);
  // Plan first: nothing moves if any destination holds something else.
  std::vector<Move> moves;
  auto plan = [&](const std::string& from, const std::string& rel) {
    Move m{from, to_prefix + rel};
    absl::StatusOr<FileStat> here = backend_->Stat(from);
    if (!here.ok() && !absl::IsNotFound(here.status())) return here.status();
    absl::StatusOr<FileStat> there = backend_->Stat(m.to);
    if (!here.ok()) {
      // Nothing to move; a file already there is not ours to write into.
      if (there.ok()) {
        return absl::AlreadyExistsError(absl::StrFormat(
            "move storage: %s exists and the torrent has no such file yet",
            m.to));
      }
      return absl::IsNotFound(there.status()) ? absl::OkStatus()
                                              : there.status();
    }
    if (there.ok()) {
      m.same_file = there->inode != 0 && there->inode == here->inode &&
                    there->device == here->device;
      ASSIGN_OR_RETURN(bool same, SameContents(*backend_, from, m.to));
      if (!same) {
        return absl::AlreadyExistsError(absl::StrFormat(
            "move storage: %s exists with different content", m.to));
      }
      m.already_there = true;
    } else if (!absl::IsNotFound(there.status())) {
      return there.status();
    }
    moves.push_back(std::move(m));
    return absl::OkStatus();
  };
  for (size_t i = 0; i < layout_.num_files(); ++i) {
    const metainfo::FileEntry& f = layout_.file(i);
    if (f.pad() || f.symlink()) continue;
    RETURN_IF_ERROR(plan(paths_[i], f.PathString()));
  }
  RETURN_IF_ERROR(plan(part_path_, part_name_));
  for (size_t done = 0; done < moves.size(); ++done) {
    const Move& m = moves[done];
    if (m.already_there) continue;
    absl::Status st = backend_->MoveFile(m.from, m.to);
    if (st.ok()) continue;
    // Put back what moved, newest first.
    for (size_t back = done; back-- > 0;) {
      if (moves[back].already_there) continue;
      backend_->MoveFile(moves[back].to, moves[back].from).IgnoreError();
    }
    RemoveEmptyDirs(new_save_path);
    return absl::Status(
        st.code(),
        absl::StrFormat("move storage to %s: %s", new_save_path, st.message()));
  }
  // Every file is in the new place: only now do the old copies of files
  // the destination already held go.
  for (const Move& m : moves) {
    if (m.already_there && !m.same_file) {
      backend_->Remove(m.from).IgnoreError();
    }
  }
  const std::string old_save_path = save_path_;
  SetPaths(std::move(new_save_path), part_name_);
  RemoveEmptyDirs(old_save_path);
  return absl::OkStatus();
}

void PieceStorage::Relocate(std::string save_path) {
  SetPaths(std::move(save_path), part_name_);
  present_.assign(present_.size(), 0);  // not known there
}

absl::Status PieceStorage::DeleteFiles() {
  {
    absl::MutexLock l(&mu_);
    deleted_ = true;
    error_ = absl::FailedPreconditionError(
        absl::StrFormat("storage under %s was deleted", save_path_));
    error_file_ = kPartFileIndex;
  }
  absl::Status first;
  for (size_t i = 0; i < layout_.num_files(); ++i) {
    const metainfo::FileEntry& f = layout_.file(i);
    if (f.pad() || f.symlink()) continue;
    absl::Status st = backend_->Remove(paths_[i]);
    if (first.ok()) first = st;
  }
  absl::Status st = backend_->Remove(part_path_);
  if (first.ok()) first = st;
  RemoveEmptyDirs(save_path_);
  return first;
}

}  // namespace bt::storage
