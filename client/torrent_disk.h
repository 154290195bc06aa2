// TorrentDisk: one torrent's storage as the disk pool works on it. Block
// writes, block reads for peers, piece verification and BEP 52 leaf hashing
// run as pool jobs, off the event loop (writes and reads issued in one turn
// of the loop travel together as one job, so the loop and the workers trade
// one hand-off per batch, not per block), except reads of blocks already in
// the page cache, which the loop does at the end of its turn without
// waiting (PieceStorage::ReadBlocksCached); the loop thread's own storage work
// (file priorities, resume data, empty files, a full recheck) runs through
// Exclusive(), under the same lock, so it never overlaps a job. Jobs keep
// the storage and metadata alive (shared ownership); their completions run
// on the loop thread, and only while this TorrentDisk exists, so a torrent
// removed with jobs in flight never hears back.
//
//   bt::client::TorrentDisk disk(&pool, info, std::move(storage));
//   disk.Write(block, std::move(data), [this](absl::Status s) { ... });
//   disk.Hash(piece, /*block_hashes=*/false,
//             [this](bt::client::TorrentDisk::HashResult r) { ... });
//   disk.Exclusive([&](storage::PieceStorage& s) { s.SetFilePriority(2, 0); });
#ifndef CLIENT_TORRENT_DISK_H_
#define CLIENT_TORRENT_DISK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/hash.h"
#include "base/liveness.h"
#include "base/turnstile.h"
#include "client/block_buffers.h"
#include "client/disk_pool.h"
#include "client/session/block_bytes.h"
#include "client/session/block_ref.h"
#include "metainfo/torrent_info.h"
#include "protocol/message.h"
#include "storage/piece_storage.h"
#include "storage/running_piece_hashes.h"

namespace bt::client {

class TorrentDisk {
 public:
  // Defer runs a task on the owner's thread soon, after the current call
  // (ClientContext::Defer): batched writes and reads are submitted then.
  using Defer = std::function<void(std::function<void()>)>;
  // `pool` must outlive this object. Without `defer` every write and read
  // is a job of its own. `owned_backend` is the storage's file backend when
  // nobody else owns it: jobs still queued after this object is gone keep
  // it alive together with the storage (a backend given by the user must
  // outlive the pool's workers instead).
  TorrentDisk(DiskPool* pool, Defer defer,
              std::shared_ptr<const metainfo::TorrentInfo> info,
              std::unique_ptr<storage::PieceStorage> storage,
              std::shared_ptr<storage::FileBackend> owned_backend = nullptr);
  TorrentDisk(DiskPool* pool, std::shared_ptr<const metainfo::TorrentInfo> info,
              std::unique_ptr<storage::PieceStorage> storage,
              std::shared_ptr<storage::FileBackend> owned_backend = nullptr)
      : TorrentDisk(pool, nullptr, std::move(info), std::move(storage),
                    std::move(owned_backend)) {}
  ~TorrentDisk();

  // Write stores a block (`data` at `block`'s offset) and reports the
  // status (a disk error also puts the storage in its error state). A
  // view's receive buffer is released once the block is written.
  void Write(BlockRef block, BlockBytes data,
             std::function<void(absl::Status)> done);
  // BlockToSend is a block read for a peer: its bytes, or where it lies
  // in a file (`in_file.file` set) for a peer that can be sent to from
  // there without the bytes passing through memory.
  struct BlockToSend {
    std::string bytes;
    storage::PieceStorage::BlockInFile in_file;
  };
  // Read reads the block a peer asked for (`r`, inside a piece we have);
  // with `from_file`, only finds it in its file where it can. The bytes
  // are lent to `done` (copy what must outlive it), then recycled. `done`
  // runs on the loop thread, never inside this call: at the end of the
  // loop's turn when the block was in memory, else once a worker read it.
  using ReadDone = std::function<void(const absl::StatusOr<BlockToSend>&)>;
  void Read(const protocol::Request& r, bool from_file, ReadDone done);

  // HashResult is the verdict on a complete piece: `read` is a local
  // failure to read it back (then `passed` means nothing); block_hashes
  // holds each block's SHA-1 when the piece failed or they were asked for.
  struct HashResult {
    absl::Status read;
    bool passed = false;
    std::vector<Sha1Hash> block_hashes;
  };
  void Hash(uint32_t piece, bool want_block_hashes,
            std::function<void(HashResult)> done);
  // Tick (about once a second) hashes blocks held for hashing beside
  // another piece's (storage::RunningPieceHashes) once no more arrive.
  void Tick();
  // Leaves reads the first `size` bytes of piece `piece` (one we have: the
  // file's data in it) and returns the SHA-256 of each 16 KiB block, padded
  // with zero hashes to `leaves` entries (BEP 52 block-layer hashes).
  void Leaves(uint32_t piece, int64_t size, size_t leaves,
              std::function<void(absl::StatusOr<std::vector<Sha256Hash>>)> done);

  // Exclusive runs `fn` on the calling (loop) thread once no job uses the
  // storage, and returns its result.
  template <typename Fn>
  auto Exclusive(Fn&& fn) {
    std::unique_lock<std::shared_mutex> lock(shared_->mu);
    return fn(*shared_->storage);
  }
  // storage is for reading state the jobs do not change (paths, layout,
  // priorities).
  const storage::PieceStorage& storage() const { return *shared_->storage; }
  // MoveTo sends later jobs to `pool`, batched with `defer` (a torrent
  // joining a client).
  void MoveTo(DiskPool* pool, Defer defer) {
    pool_ = pool;
    defer_ = std::move(defer);
  }
  // jobs_in_flight counts jobs submitted whose completion has not run.
  size_t jobs_in_flight() const { return jobs_in_flight_; }

 private:
  struct Shared {
    std::shared_ptr<const metainfo::TorrentInfo> info;
    // Declared before `storage`, so destroyed after it.
    std::shared_ptr<storage::FileBackend> owned_backend;
    std::unique_ptr<storage::PieceStorage> storage;
    std::shared_mutex mu;
    // The running SHA-1 of pieces being written (v1-only torrents), fed
    // in write order.
    std::unique_ptr<storage::RunningPieceHashes> running;
    Turnstile hash_order;
  };
  struct WriteOp {
    BlockRef block;
    BlockBytes data;
    std::function<void(absl::Status)> done;
    absl::Status status;
  };
  struct ReadOp {
    protocol::Request request;
    bool from_file;
    ReadDone done;
    absl::StatusOr<BlockToSend> block;
  };
  struct Batch {
    std::vector<WriteOp> writes;
    std::vector<ReadOp> reads;
    size_t bytes = 0;
    BlockBuffers* buffers = nullptr;  // of the pool it runs on
  };
  // How long verifying a piece may wait for another piece's blocks, to
  // hash its held blocks beside them.
  static constexpr absl::Duration kWaitForPairing = absl::Milliseconds(2);
  // A batch is submitted at the end of the loop's turn, or at once past
  // this many bytes.
  static constexpr size_t kMaxBatchBytes = 1 << 20;
  // WriteRuns writes a batch's blocks, each run of consecutive blocks of
  // a piece (up to kMaxWriteRun bytes) in one go: one system call where it
  // lies in one file.
  static void WriteRuns(Shared& s, std::vector<WriteOp>& writes);
  // ReadRun reads consecutive blocks of a piece in one go and says whether
  // it did; `cached` only from memory (PieceStorage::ReadBlocksCached),
  // leaving the ops untouched when it cannot, else each op gets the error.
  static bool ReadRun(Shared& s, BlockBuffers& buffers,
                      const std::vector<ReadOp*>& run, bool cached);
  // HashFromPrefix finishes a piece's running hash from disk; HashWhole
  // reads the piece back whole (block hashes too if it fails or if asked).
  static HashResult HashFromPrefix(Shared& s, uint32_t piece, size_t bytes,
                                   storage::RunningPieceHashes::Prefix prefix);
  static HashResult HashWhole(Shared& s, uint32_t piece, size_t bytes,
                              bool want_block_hashes);
  // WriteAndHash writes a batch's blocks, then feeds them to the running
  // hashes.
  static void WriteAndHash(Shared& s, Batch& batch);
  static void ReadAll(Shared& s, Batch& batch);
  // ReadCached takes out of `batch` the reads it could do without waiting
  // (runs of blocks in the page cache, not from_file) and returns them
  // done; none while a job holds the storage.
  static std::vector<ReadOp> ReadCached(Shared& s, Batch& batch);
  // FinishReads hands each read to its `done`, then recycles its bytes.
  static void FinishReads(std::vector<ReadOp>& reads, BlockBuffers& buffers);
  void Batched(std::function<void(Batch&)> add, size_t bytes);
  // SubmitBatch sends the pending batch to the pool; `in_own_turn` (the
  // deferred submit, outside any caller) first does its cached reads here.
  void SubmitBatch(bool in_own_turn);
  // Submit runs `work` on the pool with the shared state, then `done` on
  // the loop thread if this TorrentDisk still exists.
  void Submit(size_t bytes, std::function<void(Shared&)> work,
              std::function<void()> done);

  DiskPool* pool_;
  Defer defer_;
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<Batch> batch_;
  size_t jobs_in_flight_ = 0;
  bool wrote_since_tick_ = false;
  Liveness liveness_;
};

}  // namespace bt::client

#endif  // CLIENT_TORRENT_DISK_H_
