#include "client/torrent_disk.h"

#include <algorithm>
#include <mutex>

#include "base/sha.h"
#include "metainfo/merkle.h"
#include "storage/hash_checker.h"

namespace bt::client {
namespace {

// The most one write may carry. Longer runs were cheaper on a quiet
// machine (1 MiB: 0.1 CPU-s/GiB less for a downloader) but, while the
// kernel was writing dirty pages back, which a long download keeps it
// doing, they cost the writer 1.5 CPU-s/GiB more in the kernel; 64 KiB
// cost nothing more there.
constexpr int64_t kMaxWriteRun = 64 * 1024;

int64_t PieceSize(const metainfo::TorrentInfo& info, uint32_t piece) {
  return info.layout().PieceSize(piece);
}

// Follows: `b` is the block right after `a` in the same piece (the two can
// be read in one go).
bool Follows(const protocol::Request& a, const protocol::Request& b) {
  return a.piece == b.piece && a.begin + a.length == b.begin;
}

// Recycle gives a written block's buffer back for reuse, or releases the
// receive buffer it was a view of.
void Recycle(BlockBuffers& buffers, BlockBytes& data) {
  buffers.Recycle(std::move(data).TakeBuffer());
}

MutableByteSpan Span(std::string& s) {
  return MutableByteSpan(reinterpret_cast<uint8_t*>(s.data()), s.size());
}

}  // namespace

TorrentDisk::TorrentDisk(DiskPool* pool, Defer defer,
                         std::shared_ptr<const metainfo::TorrentInfo> info,
                         std::unique_ptr<storage::PieceStorage> storage,
                         std::shared_ptr<storage::FileBackend> owned_backend)
    : pool_(pool), defer_(std::move(defer)), shared_(std::make_shared<Shared>()) {
  shared_->info = std::move(info);
  shared_->owned_backend = std::move(owned_backend);
  shared_->storage = std::move(storage);
  // A v1 piece's hash is kept running as its blocks are written; v2 and
  // hybrid pieces are read back whole (their checks need more than SHA-1).
  if (shared_->info->has_v1() && !shared_->info->has_v2()) {
    shared_->running = std::make_unique<storage::RunningPieceHashes>();
  }
}

TorrentDisk::~TorrentDisk() {
  // Jobs still queued keep the storage (and a backend owned with it)
  // alive; its files close when the last one finishes.
}

void TorrentDisk::Submit(size_t bytes, std::function<void(Shared&)> work,
                         std::function<void()> done) {
  ++jobs_in_flight_;
  std::shared_ptr<Shared> shared = shared_;
  pool_->Submit(
      bytes, [shared, work = std::move(work)] { work(*shared); },
      [this, token = liveness_.token(), done = std::move(done)] {
        if (!token.alive()) return;
        --jobs_in_flight_;
        done();
      });
}

void TorrentDisk::Batched(std::function<void(Batch&)> add, size_t bytes) {
  const bool first = !batch_;
  if (first) batch_ = std::make_shared<Batch>();
  add(*batch_);
  batch_->bytes += bytes;
  if (!defer_ || batch_->bytes >= kMaxBatchBytes) {
    SubmitBatch(/*in_own_turn=*/false);
  } else if (first) {
    defer_([this, token = liveness_.token()] {
      if (token.alive()) SubmitBatch(/*in_own_turn=*/true);
    });
  }
}

void TorrentDisk::SubmitBatch(bool in_own_turn) {
  if (!batch_) return;
  std::shared_ptr<Batch> batch = std::move(batch_);
  batch_.reset();
  batch->buffers = &pool_->buffers();
  // Reads of blocks in the page cache are done here, saving two thread
  // hand-offs each; only in a turn of its own, where their completions
  // may run at once (not inside the caller's Read).
  std::vector<ReadOp> read_here;
  if (in_own_turn) read_here = ReadCached(*shared_, *batch);
  if (!batch->writes.empty() || !batch->reads.empty()) {
    Submit(
        batch->bytes,
        [batch](Shared& s) {
          if (!batch->writes.empty()) WriteAndHash(s, *batch);
          if (!batch->reads.empty()) ReadAll(s, *batch);
        },
        [batch] {
          for (WriteOp& w : batch->writes) w.done(std::move(w.status));
          FinishReads(batch->reads, *batch->buffers);
        });
  }
  // Last: a completion may destroy this object.
  FinishReads(read_here, pool_->buffers());
}

void TorrentDisk::FinishReads(std::vector<ReadOp>& reads,
                              BlockBuffers& buffers) {
  for (ReadOp& r : reads) {
    r.done(r.block);
    if (r.block.ok()) buffers.Recycle(std::move(r.block->bytes));
  }
}

std::vector<TorrentDisk::ReadOp> TorrentDisk::ReadCached(Shared& s,
                                                         Batch& batch) {
  std::vector<ReadOp> done;
  if (batch.reads.empty()) return done;
  // A worker holding the storage (writing) would make the loop wait.
  std::shared_lock<std::shared_mutex> lock(s.mu, std::try_to_lock);
  if (!lock.owns_lock()) return done;
  std::vector<ReadOp> rest;
  std::vector<ReadOp*> run;
  // read_run reads reads[begin, end), consecutive blocks of a piece.
  auto read_run = [&](size_t begin, size_t end) {
    run.clear();
    for (size_t k = begin; k < end; ++k) run.push_back(&batch.reads[k]);
    const bool read = ReadRun(s, *batch.buffers, run, /*cached=*/true);
    for (ReadOp* r : run) (read ? done : rest).push_back(std::move(*r));
  };
  const size_t n = batch.reads.size();
  size_t first = 0;  // the run so far: reads[first, i)
  for (size_t i = 0; i <= n; ++i) {
    if (i < n && !batch.reads[i].from_file &&
        (i == first ||
         Follows(batch.reads[i - 1].request, batch.reads[i].request))) {
      continue;
    }
    if (i > first) read_run(first, i);
    first = i;
    if (i < n && batch.reads[i].from_file) {  // opens files: on the pool
      rest.push_back(std::move(batch.reads[i]));
      first = i + 1;
    }
  }
  batch.reads = std::move(rest);
  for (const ReadOp& r : done) batch.bytes -= r.request.length;
  return done;
}

void TorrentDisk::WriteAndHash(Shared& s, Batch& batch) {
  uint64_t ticket = 0;
  {
    std::unique_lock<std::shared_mutex> lock(s.mu);
    WriteRuns(s, batch.writes);
    if (s.running) ticket = s.hash_order.Draw();
  }
  if (!s.running) {
    for (WriteOp& w : batch.writes) Recycle(*batch.buffers, w.data);
    return;
  }
  // Blocks are hashed in the order they were written, but outside the
  // storage lock: the next batch's writes overlap this one's hashing.
  Turnstile::Turn turn(s.hash_order, ticket);
  for (WriteOp& w : batch.writes) {
    if (w.status.ok()) {
      // Held until another piece's blocks can be hashed beside it.
      std::shared_ptr<const void> keeper = w.data.Share();
      s.running->Add(w.block.piece, w.block.begin(), w.data.bytes(),
                     std::move(keeper));
    }
    // A failed block's buffer is reused at once; a shared one lives on
    // only where it is held.
    Recycle(*batch.buffers, w.data);
  }
}

void TorrentDisk::WriteRuns(Shared& s, std::vector<WriteOp>& writes) {
  std::vector<ByteSpan> run;
  for (size_t first = 0; first < writes.size();) {
    // A run: blocks of one piece, each right after the one before, up to
    // kMaxWriteRun bytes.
    const uint32_t piece = writes[first].block.piece;
    run.assign({writes[first].data.bytes()});
    size_t end = first + 1;
    int64_t next = int64_t{writes[first].block.begin()} +
                   static_cast<int64_t>(writes[first].data.size());
    while (end < writes.size() && writes[end].block.piece == piece &&
           next - writes[first].block.begin() < kMaxWriteRun &&
           writes[end].block.begin() == next) {
      run.push_back(writes[end].data.bytes());
      next += static_cast<int64_t>(writes[end].data.size());
      ++end;
    }
    const absl::Status st =
        s.storage->WriteBlocks(piece, writes[first].block.begin(), run);
    for (size_t i = first; i < end; ++i) writes[i].status = st;
    first = end;
  }
}

void TorrentDisk::Tick() {
  // Blocks held for pairing stay held while no more arrive: hash them.
  if (!wrote_since_tick_ && shared_->running &&
      shared_->running->held_bytes() > 0) {
    Submit(
        0, [](Shared& s) { s.running->HashHeld(); }, [] {});
  }
  wrote_since_tick_ = false;
}

void TorrentDisk::Write(BlockRef block, BlockBytes data,
                        std::function<void(absl::Status)> done) {
  wrote_since_tick_ = true;
  const size_t bytes = data.size();
  Batched(
      [&](Batch& b) {
        b.writes.push_back(WriteOp{block, std::move(data), std::move(done), {}});
      },
      bytes);
}

void TorrentDisk::Read(const protocol::Request& r, bool from_file,
                       ReadDone done) {
  Batched(
      [&](Batch& b) {
        b.reads.push_back(ReadOp{r, from_file, std::move(done),
                                 absl::UnknownError("not read yet")});
      },
      r.length);
}

void TorrentDisk::ReadAll(Shared& s, Batch& batch) {
  std::shared_lock<std::shared_mutex> lock(s.mu);
  std::shared_ptr<const storage::SendableFile> open;  // reused batch-wide
  std::vector<ReadOp*> run;  // consecutive blocks of a piece, read at once
  for (ReadOp& r : batch.reads) {
    if (r.from_file) {
      absl::StatusOr<storage::PieceStorage::BlockInFile> in_file =
          s.storage->OpenBlockForSending(r.request.piece, r.request.begin,
                                         r.request.length, open);
      if (in_file.ok()) {
        open = in_file->file;
        BlockToSend block;
        block.in_file = *std::move(in_file);
        r.block = std::move(block);
        continue;
      }
      // Not in one file, or no descriptors: the bytes, as for any peer.
    }
    if (!run.empty() && !Follows(run.back()->request, r.request)) {
      ReadRun(s, *batch.buffers, run, /*cached=*/false);
      run.clear();
    }
    run.push_back(&r);
  }
  if (!run.empty()) ReadRun(s, *batch.buffers, run, /*cached=*/false);
}

bool TorrentDisk::ReadRun(Shared& s, BlockBuffers& buffers,
                          const std::vector<ReadOp*>& run, bool cached) {
  std::vector<BlockToSend> blocks(run.size());
  std::vector<MutableByteSpan> spans;
  spans.reserve(run.size());
  for (size_t i = 0; i < run.size(); ++i) {
    blocks[i].bytes = buffers.Take(run[i]->request.length);
    spans.push_back(Span(blocks[i].bytes));
  }
  const protocol::Request& head = run.front()->request;
  absl::Status st;
  if (!cached) {
    st = s.storage->ReadBlocks(head.piece, head.begin, spans);
  } else if (!s.storage->ReadBlocksCached(head.piece, head.begin, spans)) {
    st = absl::UnavailableError("not in memory");
  }
  for (size_t i = 0; i < run.size(); ++i) {
    if (st.ok()) {
      run[i]->block = std::move(blocks[i]);
    } else {
      if (!cached) run[i]->block = st;
      buffers.Recycle(std::move(blocks[i].bytes));
    }
  }
  return st.ok();
}

void TorrentDisk::Hash(uint32_t piece, bool want_block_hashes,
                       std::function<void(HashResult)> done) {
  auto result = std::make_shared<HashResult>();
  const size_t bytes = static_cast<size_t>(PieceSize(*shared_->info, piece));
  // The piece's held blocks wait for the next piece's, which a single
  // peer sends right after it; another worker writes (and pairs) those.
  const absl::Duration wait =
      pool_->threads() >= 2 ? kWaitForPairing : absl::ZeroDuration();
  Submit(
      bytes,
      [piece, want_block_hashes, result, bytes, wait](Shared& s) {
        if (s.running && want_block_hashes) {
          s.running->Forget(piece);  // read back whole below
        } else if (s.running) {
          *result =
              HashFromPrefix(s, piece, bytes, s.running->Take(piece, wait));
          // A failed piece is read again whole, for its block hashes.
          if (!result->read.ok() || result->passed) return;
        }
        *result = HashWhole(s, piece, bytes, want_block_hashes);
      },
      [result, done = std::move(done)] { done(std::move(*result)); });
}

TorrentDisk::HashResult TorrentDisk::HashFromPrefix(
    Shared& s, uint32_t piece, size_t bytes,
    storage::RunningPieceHashes::Prefix prefix) {
  HashResult result;
  const size_t rest = bytes - static_cast<size_t>(prefix.length);
  if (rest > 0) {
    std::unique_ptr<uint8_t[]> data(new uint8_t[rest]);  // no zero fill
    {
      std::shared_lock<std::shared_mutex> lock(s.mu);
      result.read = s.storage->ReadBlock(piece, prefix.length,
                                         MutableByteSpan(data.get(), rest));
    }
    if (!result.read.ok()) return result;
    prefix.hasher.Update(ByteSpan(data.get(), rest));
  }
  result.passed = prefix.hasher.Final() == s.info->piece_hash(piece);
  return result;
}

TorrentDisk::HashResult TorrentDisk::HashWhole(Shared& s, uint32_t piece,
                                               size_t bytes,
                                               bool want_block_hashes) {
  HashResult result;
  std::string data(bytes, '\0');
  {
    std::shared_lock<std::shared_mutex> lock(s.mu);
    result.read = s.storage->ReadBlock(piece, 0, Span(data));
  }
  if (!result.read.ok()) return result;
  result.passed = storage::PieceMatches(*s.info, piece, AsBytes(data));
  if (result.passed && !want_block_hashes) return result;
  for (size_t at = 0; at < data.size(); at += kBlockSize) {
    result.block_hashes.push_back(
        Sha1(AsBytes(std::string_view(data).substr(at, kBlockSize))));
  }
  return result;
}

void TorrentDisk::Leaves(
    uint32_t piece, int64_t size, size_t leaves,
    std::function<void(absl::StatusOr<std::vector<Sha256Hash>>)> done) {
  auto result = std::make_shared<absl::StatusOr<std::vector<Sha256Hash>>>();
  Submit(
      static_cast<size_t>(size),
      [piece, leaves, size, result](Shared& s) {
        std::string data(static_cast<size_t>(size), '\0');
        absl::Status st;
        {
          std::shared_lock<std::shared_mutex> lock(s.mu);
          st = s.storage->ReadBlock(piece, 0, Span(data));
        }
        if (!st.ok()) {
          *result = st;
          return;
        }
        std::vector<Sha256Hash> out;
        out.reserve(leaves);
        for (size_t at = 0; at < data.size(); at += metainfo::kMerkleBlockSize) {
          out.push_back(Sha256(AsBytes(std::string_view(data).substr(
              at, metainfo::kMerkleBlockSize))));
        }
        out.resize(std::max(out.size(), leaves));
        *result = std::move(out);
      },
      [result, done = std::move(done)] { done(std::move(*result)); });
}

}  // namespace bt::client
