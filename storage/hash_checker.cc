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

// PieceVerifier hashes one piece fed in order, in spans whose offsets are
// multiples of kMerkleBlockSize (except at the end).
class PieceVerifier {
 public:
  PieceVerifier(const metainfo::TorrentInfo& t, uint32_t piece)
      : t_(t), piece_(piece) {
    if (t.has_v2()) {
      v2_expected_ = t.V2PieceHash(piece);
      if (v2_expected_) {
        const metainfo::FileLayout& l = t.layout();
        int64_t start = int64_t{piece} * l.piece_length();
        const metainfo::FileEntry& f = l.file(*l.FileAtOffset(start));
        v2_bytes_ = std::min(l.PieceSize(piece), f.offset + f.size - start);
        single_piece_file_ = f.size <= l.piece_length();
        leaves_.reserve((v2_bytes_ + kMerkleBlockSize - 1) / kMerkleBlockSize);
      }
    }
  }

  void Update(ByteSpan data, int64_t offset) {
    if (t_.has_v1()) sha1_.Update(data);
    if (!v2_expected_) return;
    int64_t end = std::min<int64_t>(offset + data.size(), v2_bytes_);
    for (int64_t b = offset; b < end; b += kMerkleBlockSize) {
      int64_t len = std::min(kMerkleBlockSize, end - b);
      leaves_.push_back(Sha256(data.subspan(b - offset, len)));
    }
  }

  bool Finish() {
    if (t_.has_v1() && sha1_.Final() != t_.piece_hash(piece_)) return false;
    if (t_.has_v2()) {
      if (!v2_expected_) {
        // A v2 piece without a hash: only padding (hybrid) or unknown
        // layers, which CheckPieces refuses up front.
        return t_.has_v1();
      }
      size_t per_piece = t_.piece_length() / kMerkleBlockSize;
      if (metainfo::PieceRootFromLeaves(leaves_, per_piece,
                                        single_piece_file_) != *v2_expected_) {
        return false;
      }
    }
    return true;
  }

 private:
  const metainfo::TorrentInfo& t_;
  uint32_t piece_;
  Sha1Hasher sha1_;
  std::optional<Sha256Hash> v2_expected_;
  int64_t v2_bytes_ = 0;
  bool single_piece_file_ = false;
  std::vector<Sha256Hash> leaves_;
};

bool Overlaps(const std::vector<Extent>& bad, int64_t begin, int64_t end) {
  for (const Extent& e : bad) {
    if (e.offset < end && begin < e.offset + e.length) return true;
  }
  return false;
}

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
    if (t_.has_v2() && !t_.has_piece_layers()) {
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
    std::vector<uint8_t> buf(static_cast<size_t>(
        std::min<int64_t>(read_size_, std::max<int64_t>(
                                          l.piece_length(), kMerkleBlockSize))));
    if (buf.size() < static_cast<size_t>(std::min(read_size_, l.total_size()))) {
      buf.resize(std::min(read_size_, l.total_size()));
    }
    while (!Cancelled()) {
      size_t i = next_.fetch_add(1);
      if (i >= runs_.size()) return;
      const ::bt::storage::Run& r = runs_[i];
      if (l.piece_length() <= read_size_) {
        int64_t start = int64_t{r.begin} * l.piece_length();
        int64_t bytes = 0;
        for (uint32_t p = r.begin; p < r.end; ++p) bytes += l.PieceSize(p);
        MutableByteSpan span(buf.data(), static_cast<size_t>(bytes));
        absl::StatusOr<std::vector<Extent>> bad =
            s_.ReadForCheck(r.begin, 0, span);
        for (uint32_t p = r.begin; p < r.end; ++p) {
          int64_t off = int64_t{p} * l.piece_length() - start;
          int64_t size = l.PieceSize(p);
          bool ok = false;
          if (bad.ok() && !Overlaps(*bad, off, off + size)) {
            PieceVerifier v(t_, p);
            v.Update(ByteSpan(span.data() + off, size), 0);
            ok = v.Finish();
          }
          passed_[p] = ok ? 2 : 1;
          Report(p, ok, size, 1);
        }
      } else {
        uint32_t p = r.begin;  // one piece per run
        int64_t size = l.PieceSize(p);
        PieceVerifier v(t_, p);
        bool ok = true;
        for (int64_t off = 0; off < size; off += read_size_) {
          if (Cancelled()) return;
          int64_t len = std::min(read_size_, size - off);
          MutableByteSpan span(buf.data(), static_cast<size_t>(len));
          if (ok) {
            absl::StatusOr<std::vector<Extent>> bad =
                s_.ReadForCheck(p, off, span);
            ok = bad.ok() && bad->empty();
            if (ok) v.Update(span, off);
          }
          if (off + len < size) Report(p, false, len, 0);
          else {
            ok = ok && v.Finish();
            passed_[p] = ok ? 2 : 1;
            Report(p, ok, len, 1);
          }
        }
      }
    }
  }

  const metainfo::TorrentInfo& t_;
  PieceStorage& s_;
  const CheckOptions& o_;
  int64_t read_size_ = 0;
  std::vector<::bt::storage::Run> runs_;
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
  if (torrent.has_v2() && !torrent.has_piece_layers()) return false;
  PieceVerifier v(torrent, piece);
  v.Update(data, 0);
  return v.Finish();
}

}  // namespace bt::storage
