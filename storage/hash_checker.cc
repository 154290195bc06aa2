#include "storage/hash_checker.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "metainfo/merkle.h"
#include "storage/posix_file_backend.h"

namespace bt::storage {

namespace {

using metainfo::kMerkleBlockSize;

// PieceVerifier hashes one piece fed in order, in spans of any size.
class PieceVerifier {
 public:
  PieceVerifier(const metainfo::TorrentInfo& t, uint32_t piece)
      : t_(&t), piece_(piece) {
    if (t.has_v2()) {
      v2_expected_ = t.V2PieceHash(piece);
      std::optional<metainfo::TorrentInfo::V2PieceSpan> span =
          t.V2PieceSpanOf(piece);
      if (!span) v2_expected_.reset();
      if (v2_expected_) {
        v2_bytes_ = span->length;
        single_piece_file_ = span->single_piece_file;
        leaves_.reserve((v2_bytes_ + kMerkleBlockSize - 1) / kMerkleBlockSize);
      }
    }
  }

  void Update(ByteSpan data) {
    if (t_->has_v1()) sha1_.Update(data);
    if (v2_expected_) {
      // Leaves cover the file's bytes of the piece, not the padding after.
      int64_t take = std::min<int64_t>(data.size(), v2_bytes_ - fed_);
      for (int64_t at = 0; at < take;) {
        int64_t n = std::min(take - at, kMerkleBlockSize - leaf_fill_);
        leaf_.Update(data.subspan(at, n));
        leaf_fill_ += n;
        at += n;
        if (leaf_fill_ == kMerkleBlockSize) FlushLeaf();
      }
    }
    fed_ += static_cast<int64_t>(data.size());
  }

  bool Finish() {
    if (t_->has_v1() && sha1_.Final() != t_->piece_hash(piece_)) return false;
    if (t_->has_v2()) {
      if (!v2_expected_) {
        // A v2 piece without a hash: only padding, or unknown layers
        // (CheckPieces refuses those up front unless v1 hashes exist).
        return t_->has_v1();
      }
      if (leaf_fill_ > 0) FlushLeaf();
      size_t per_piece = t_->piece_length() / kMerkleBlockSize;
      if (metainfo::PieceRootFromLeaves(leaves_, per_piece,
                                        single_piece_file_) != *v2_expected_) {
        return false;
      }
    }
    return true;
  }

 private:
  void FlushLeaf() {
    leaves_.push_back(leaf_.Final());
    leaf_ = Sha256Hasher();
    leaf_fill_ = 0;
  }

  const metainfo::TorrentInfo* t_;
  uint32_t piece_;
  Sha1Hasher sha1_;
  std::optional<Sha256Hash> v2_expected_;
  int64_t v2_bytes_ = 0;
  int64_t fed_ = 0;
  bool single_piece_file_ = false;
  Sha256Hasher leaf_;
  int64_t leaf_fill_ = 0;
  std::vector<Sha256Hash> leaves_;
};

// A run of consecutive pieces read together.
struct Run {
  uint32_t begin;
  uint32_t end;
};

class Checker {
 public:
  Checker(const metainfo::TorrentInfo& t, PieceStorage& s,
          const CheckOptions& o)
      : t_(t), s_(s), o_(o) {}

  absl::StatusOr<CheckResult> Run() {
    const metainfo::FileLayout& l = t_.layout();
    uint32_t n = l.num_pieces();
    if (o_.pieces && o_.pieces->size() != n) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "piece selection has %d bits for %d pieces", o_.pieces->size(), n));
    }
    // A hybrid torrent's v1 hashes suffice (a magnet link's metadata
    // comes without piece layers).
    if (t_.has_v2() && !t_.has_piece_layers() && !t_.has_v1()) {
      return absl::InvalidArgumentError(
          "cannot check a v2 torrent whose piece layers are unknown");
    }
    read_size_ = std::max<int64_t>(o_.read_size, kMerkleBlockSize);
    read_size_ = (read_size_ + kMerkleBlockSize - 1) / kMerkleBlockSize *
                 kMerkleBlockSize;
    // Group selected pieces into runs of at most read_size_ bytes (or one
    // piece when pieces are larger).
    result_.have = Bitfield(n);
    result_.checked = Bitfield(n);
    uint32_t per_run = static_cast<uint32_t>(
        std::max<int64_t>(1, read_size_ / l.piece_length()));
    for (uint32_t p = 0; p < n;) {
      if (!Selected(p)) {
        ++p;
        continue;
      }
      uint32_t b = p;
      while (p < n && p - b < per_run && Selected(p)) {
        progress_.bytes_total += l.PieceSize(p);
        ++progress_.pieces_total;
        ++p;
      }
      runs_.push_back({b, p});
    }
    passed_.assign(n, 0);
    absent_ = s_.AbsentFiles();
    int threads = o_.threads > 0
                      ? o_.threads
                      : std::max(1u, std::thread::hardware_concurrency());
    threads = std::min<int>(threads, std::max<size_t>(1, runs_.size()));
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([this] { Work(); });
    Work();
    for (std::thread& th : pool) th.join();
    for (const ::bt::storage::Run& r : runs_) {
      for (uint32_t p = r.begin; p < r.end; ++p) {
        if (passed_[p] == 0) continue;
        result_.checked.Set(p);
        if (passed_[p] == 2) {
          result_.have.Set(p);
          ++result_.passed;
        } else {
          ++result_.failed;
        }
      }
    }
    result_.cancelled = Cancelled();
    result_.bytes_read = progress_.bytes_done;
    return result_;
  }

 private:
  bool Selected(uint32_t p) const {
    if (o_.pieces && !o_.pieces->Get(p)) return false;
    if (o_.wanted_only && !s_.PieceWanted(p)) return false;
    return true;
  }
  bool Cancelled() const {
    return o_.cancel && o_.cancel->load(std::memory_order_relaxed);
  }

  void Report(uint32_t piece, bool ok, int64_t bytes, uint32_t pieces_done) {
    absl::MutexLock l(&mu_);
    progress_.bytes_done += bytes;
    progress_.pieces_done += pieces_done;
    if (pieces_done) {
      if (o_.on_piece) o_.on_piece(piece, ok);
    }
    if (o_.on_progress) o_.on_progress(progress_);
  }

  void Work() {
    const metainfo::FileLayout& l = t_.layout();
    const int64_t plen = l.piece_length();
    std::vector<PieceVerifier> verifiers;
    std::vector<uint8_t> bad;
    while (!Cancelled()) {
      size_t i = next_.fetch_add(1);
      if (i >= runs_.size()) return;
      const ::bt::storage::Run& r = runs_[i];
      verifiers.clear();
      bad.assign(r.end - r.begin, 0);
      for (uint32_t p = r.begin; p < r.end; ++p) verifiers.emplace_back(t_, p);
      int64_t run_start = int64_t{r.begin} * plen;
      int64_t run_bytes = 0;
      for (uint32_t p = r.begin; p < r.end; ++p) run_bytes += l.PieceSize(p);
      // Walk the run in reads of at most read_size_ bytes (a run of small
      // pieces is one read; a large piece takes several).
      for (int64_t off = 0; off < run_bytes; off += read_size_) {
        if (Cancelled()) return;
        int64_t len = std::min(read_size_, run_bytes - off);
        int64_t base = run_start + off;
        uint32_t first = static_cast<uint32_t>(base / plen);
        absl::Status st = s_.VisitForCheck(
            first, base - int64_t{first} * plen, len,
            [&](int64_t pos, ByteSpan data, bool readable) {
              // Split at piece boundaries and feed each piece's verifier.
              int64_t at = base + pos;
              size_t used = 0;
              while (used < data.size()) {
                size_t k = static_cast<size_t>(at / plen) - r.begin;
                int64_t room =
                    (static_cast<int64_t>(r.begin + k) + 1) * plen - at;
                size_t n = static_cast<size_t>(
                    std::min<int64_t>(room, data.size() - used));
                if (!readable) {
                  bad[k] = 1;
                } else if (!bad[k]) {
                  verifiers[k].Update(data.subspan(used, n));
                }
                used += n;
                at += n;
              }
            },
            &absent_);
        if (!st.ok()) {
          for (uint8_t& b : bad) b = 1;
        }
        // Report pieces that end inside this read.
        int64_t read_end = base + len;
        for (uint32_t p = static_cast<uint32_t>(base / plen); p < r.end; ++p) {
          int64_t p_end = int64_t{p} * plen + l.PieceSize(p);
          int64_t p_start = std::max(int64_t{p} * plen, base);
          if (p_end > read_end) {
            Report(p, false, read_end - p_start, 0);
            break;
          }
          size_t k = p - r.begin;
          bool ok = !bad[k] && verifiers[k].Finish();
          passed_[p] = ok ? 2 : 1;
          Report(p, ok, p_end - p_start, 1);
        }
      }
    }
  }

  const metainfo::TorrentInfo& t_;
  PieceStorage& s_;
  const CheckOptions& o_;
  int64_t read_size_ = 0;
  std::vector<::bt::storage::Run> runs_;
  std::vector<bool> absent_;  // PieceStorage::AbsentFiles, read by every thread
  std::atomic<size_t> next_{0};
  // Per piece: 0 not checked, 1 failed, 2 passed (each written by one
  // thread only).
  std::vector<uint8_t> passed_;
  CheckResult result_;
  absl::Mutex mu_;
  CheckProgress progress_;
};

}  // namespace

absl::StatusOr<CheckResult> CheckPieces(const metainfo::TorrentInfo& torrent,
                                        PieceStorage& storage,
                                        const CheckOptions& options) {
  Checker c(torrent, storage, options);
  return c.Run();
}

absl::StatusOr<CheckResult> CheckDirectory(const metainfo::TorrentInfo& torrent,
                                           const std::string& save_path,
                                           const CheckOptions& options,
                                           std::vector<int> file_priorities) {
  PosixFileBackend disk;
  StorageOptions so;
  so.file_priorities = std::move(file_priorities);
  ASSIGN_OR_RETURN(std::unique_ptr<PieceStorage> storage,
                   PieceStorage::Create(torrent, save_path, &disk,
                                        std::move(so)));
  return CheckPieces(torrent, *storage, options);
}

bool PieceMatches(const metainfo::TorrentInfo& torrent, uint32_t piece,
                  ByteSpan data) {
  if (piece >= torrent.num_pieces() ||
      static_cast<int64_t>(data.size()) != torrent.layout().PieceSize(piece)) {
    return false;
  }
  if (torrent.has_v1() && !torrent.CheckV1Piece(piece, data).ok()) {
    return false;
  }
  if (torrent.has_v2()) {
    std::optional<metainfo::TorrentInfo::V2PieceSpan> span =
        torrent.V2PieceSpanOf(piece);
    if (!span) return false;
    if (torrent.V2PieceHash(piece)) {
      return torrent.CheckV2Piece(piece, data.subspan(0, span->length)).ok();
    }
    return torrent.has_v1();  // a hybrid piece of padding only
  }
  return true;
}

}  // namespace bt::storage
