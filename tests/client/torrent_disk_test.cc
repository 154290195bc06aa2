// TorrentDisk: disk jobs still queued when their torrent is gone keep what
// they touch alive. (A torrent destroyed with a hash job queued once freed
// the file backend the job was about to read through: a crash at client
// shutdown, one run in four of the rate-limit test.)
#include "client/torrent_disk.h"

#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/sha.h"
#include "client/disk_pool.h"
#include "gtest/gtest.h"
#include "storage/memory_file_backend.h"
#include "storage/piece_storage.h"
#include "tests/client/testing/remote_peer.h"

namespace bt::client {
namespace {

TEST(TorrentDiskTest, AQueuedJobKeepsAnOwnedBackendUntilItRuns) {
  testing::TestTorrent t = testing::MakeSingleFile(64 * 1024);
  auto backend = std::make_shared<storage::MemoryFileBackend>();
  t.PutOnDisk(*backend);
  std::weak_ptr<storage::FileBackend> watch = backend;

  // One worker, held busy until the torrent is gone; completions dropped.
  DiskPool pool({.threads = 1}, [](DiskPool::Task) {});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  pool.Submit(0, [released] { released.wait(); }, [] {});

  auto storage = storage::PieceStorage::Create(*t.info, "/dl", backend.get());
  ASSERT_TRUE(storage.ok()) << storage.status();
  auto disk = std::make_unique<TorrentDisk>(&pool, t.info, *std::move(storage),
                                            std::move(backend));
  disk->Hash(0, false, [](TorrentDisk::HashResult) {});
  disk.reset();  // the torrent goes; its hash job is still queued
  EXPECT_FALSE(watch.expired()) << "the queued job would read a freed backend";

  release.set_value();
  // The pool's destructor runs what is queued; the backend goes with the
  // job that held it last.
  std::promise<void> drained;
  pool.Submit(0, [&drained] { drained.set_value(); }, [] {});
  drained.get_future().wait();
  EXPECT_TRUE(watch.expired());
}

// A batch's consecutive blocks of a piece reach the file in writes of at
// most 64 KiB (longer ones cost the kernel more while it writes dirty pages
// back); a gap or another piece starts a new write.
TEST(TorrentDiskTest, ABatchWritesConsecutiveBlocksInRunsOfAtMost64KiB) {
  struct Recording : storage::MemoryFileBackend {
    absl::Status WriteGather(const std::string& path, int64_t offset,
                             absl::Span<const ByteSpan> parts,
                             bool create) override {
      int64_t n = 0;
      for (ByteSpan p : parts) n += static_cast<int64_t>(p.size());
      writes.emplace_back(offset, n);
      return MemoryFileBackend::WriteGather(path, offset, parts, create);
    }
    std::vector<std::pair<int64_t, int64_t>> writes;
  };
  constexpr int64_t kPiece = 256 * 1024;
  testing::TestTorrent t = testing::MakeSingleFile(2 * kPiece, kPiece);
  Recording backend;
  std::deque<DiskPool::Task> tasks;
  DiskPool pool({.threads = 0},
                [&](DiskPool::Task task) { tasks.push_back(std::move(task)); });
  std::vector<std::function<void()>> deferred;
  auto storage = storage::PieceStorage::Create(*t.info, "/dl", &backend);
  ASSERT_TRUE(storage.ok()) << storage.status();
  TorrentDisk disk(
      &pool, [&](std::function<void()> f) { deferred.push_back(std::move(f)); },
      t.info, *std::move(storage));
  int written = 0;
  auto write = [&](uint32_t piece, uint32_t block) {
    disk.Write(BlockRef{piece, block},
               t.Block(piece, block * kBlockSize, kBlockSize),
               [&](absl::Status s) { written += s.ok(); });
  };
  for (uint32_t b = 0; b < 10; ++b) write(0, b);  // 160 KiB in a row
  write(0, 12);                                   // after a gap
  write(1, 0);                                    // the next piece
  for (std::function<void()>& f : deferred) f();  // the loop's turn ends
  while (!tasks.empty()) {
    DiskPool::Task task = std::move(tasks.front());
    tasks.pop_front();
    task();
  }
  EXPECT_EQ(written, 12);
  using P = std::pair<int64_t, int64_t>;
  EXPECT_EQ(backend.writes,
            (std::vector<P>{P{0, 65536}, P{65536, 65536}, P{131072, 32768},
                            P{12 * kBlockSize, kBlockSize},
                            P{kPiece, kBlockSize}}));
  const std::optional<std::string> file =
      backend.Contents(disk.storage().FilePath(0));
  ASSERT_TRUE(file.has_value());
  for (uint32_t b : {0u, 5u, 9u, 12u}) {
    EXPECT_EQ(file->substr(b * kBlockSize, kBlockSize),
              t.Block(0, b * kBlockSize, kBlockSize))
        << "block " << b;
  }
}

// Reads for peers are done in the loop's own turn, without a disk thread,
// where the blocks are in memory; the rest (blocks not in memory, blocks to
// be sent from their files) go to the pool as before.
class TorrentDiskReadTest : public ::testing::Test {
 protected:
  static constexpr int64_t kPiece = 64 * 1024;
  // A backend that can say what is in memory, or, with `cached` false,
  // says nothing is.
  struct Backend : storage::MemoryFileBackend {
    absl::StatusOr<size_t> ReadScatterCached(
        const std::string& path, int64_t offset,
        absl::Span<const MutableByteSpan> parts) override {
      if (!cached) return 0;
      return MemoryFileBackend::ReadScatterCached(path, offset, parts);
    }
    bool cached = true;
  };

  void SetUp() override {
    t_.PutOnDisk(backend_);
    auto storage = storage::PieceStorage::Create(*t_.info, "/dl", &backend_);
    ASSERT_TRUE(storage.ok()) << storage.status();
    disk_ = std::make_unique<TorrentDisk>(
        &pool_,
        [this](std::function<void()> f) { deferred_.push_back(std::move(f)); },
        t_.info, *std::move(storage));
  }
  void TearDown() override {
    disk_.reset();
    RunTasks();
  }

  // Read asks for the block at (piece, begin); what comes back is checked
  // against the torrent and counted in read_.
  void Read(uint32_t piece, uint32_t begin, bool from_file = false) {
    const protocol::Request r{piece, begin, static_cast<uint32_t>(kBlockSize)};
    disk_->Read(r, from_file,
                [this, r](const absl::StatusOr<TorrentDisk::BlockToSend>& b) {
                  ASSERT_TRUE(b.ok()) << b.status();
                  EXPECT_EQ(b->bytes, t_.Block(r.piece, r.begin, r.length));
                  ++read_;
                });
  }
  void EndTurn() {
    std::vector<std::function<void()>> run = std::move(deferred_);
    deferred_.clear();
    for (std::function<void()>& f : run) f();
  }
  void RunTasks() {
    while (!tasks_.empty()) {
      DiskPool::Task task = std::move(tasks_.front());
      tasks_.pop_front();
      task();
    }
  }

  testing::TestTorrent t_ = testing::MakeSingleFile(2 * kPiece, kPiece);
  Backend backend_;
  std::deque<DiskPool::Task> tasks_;
  DiskPool pool_{{.threads = 0}, [this](DiskPool::Task task) {
                   tasks_.push_back(std::move(task));
                 }};
  std::vector<std::function<void()>> deferred_;
  std::unique_ptr<TorrentDisk> disk_;
  int read_ = 0;
};

TEST_F(TorrentDiskReadTest, BlocksInMemoryAreReadInTheLoopsTurn) {
  for (uint32_t b = 0; b < 3; ++b) Read(0, b * kBlockSize);
  Read(1, 0);
  EXPECT_EQ(read_, 0) << "read before the loop's turn ended";
  EndTurn();
  EXPECT_EQ(read_, 4);
  EXPECT_TRUE(tasks_.empty());
  EXPECT_EQ(disk_->jobs_in_flight(), 0u);
}

TEST_F(TorrentDiskReadTest, BlocksNotInMemoryGoToTheDiskThreads) {
  backend_.cached = false;
  for (uint32_t b = 0; b < 3; ++b) Read(0, b * kBlockSize);
  EndTurn();
  EXPECT_EQ(read_, 0);
  EXPECT_EQ(disk_->jobs_in_flight(), 1u);
  RunTasks();
  EXPECT_EQ(read_, 3);
}

TEST_F(TorrentDiskReadTest, BlocksToSendFromTheirFilesGoToTheDiskThreads) {
  Read(0, 0);
  Read(0, kBlockSize, /*from_file=*/true);  // opening a file may wait
  Read(0, 2 * kBlockSize);
  EndTurn();
  EXPECT_EQ(read_, 2);
  EXPECT_EQ(disk_->jobs_in_flight(), 1u);
  RunTasks();  // the memory backend has no files: the bytes come instead
  EXPECT_EQ(read_, 3);
}

// A batch that fills up inside a caller's Read is submitted there: its
// completions must not run inside the caller, so it all goes to the pool.
TEST_F(TorrentDiskReadTest, ABatchFullInsideACallIsLeftToThePool) {
  const int blocks = static_cast<int>((1 << 20) / kBlockSize);  // a full batch
  for (int i = 0; i < blocks; ++i) {
    Read(i % 2,
         static_cast<uint32_t>((i / 2) % (kPiece / kBlockSize)) * kBlockSize);
  }
  EXPECT_EQ(read_, 0);
  EXPECT_EQ(disk_->jobs_in_flight(), 1u);
  RunTasks();
  EXPECT_EQ(read_, blocks);
}

// Pieces are verified from the running hash of their written blocks where
// they came in order, and from disk where they did not; either way the
// verdict is the data's on disk.
class TorrentDiskHashTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kBlocks = 4;  // 64 KiB pieces of 16 KiB blocks

  TorrentDiskHashTest()
      : t_(testing::MakeSingleFile(3 * 64 * 1024, 64 * 1024)),
        pool_({.threads = 0}, [this](DiskPool::Task task) {
          tasks_.push_back(std::move(task));
        }) {
    auto storage =
        storage::PieceStorage::Create(*t_.info, "/dl", backend_.get());
    EXPECT_TRUE(storage.ok()) << storage.status();
    disk_ = std::make_unique<TorrentDisk>(&pool_, t_.info, *std::move(storage));
  }
  ~TorrentDiskHashTest() override {
    disk_.reset();
    Drain();
  }
  void Drain() {
    while (!tasks_.empty()) {
      DiskPool::Task task = std::move(tasks_.front());
      tasks_.pop_front();
      task();
    }
  }
  void Write(uint32_t piece, uint32_t block, std::string data) {
    disk_->Write(BlockRef{piece, block}, std::move(data),
                 [](absl::Status s) { EXPECT_TRUE(s.ok()) << s; });
    Drain();
  }
  void WriteGood(uint32_t piece, uint32_t block) {
    Write(piece, block, t_.Block(piece, block * kBlockSize, kBlockSize));
  }
  void WriteBad(uint32_t piece, uint32_t block) {
    std::string data = t_.Block(piece, block * kBlockSize, kBlockSize);
    data[100] ^= 1;
    Write(piece, block, std::move(data));
  }
  TorrentDisk::HashResult Hash(uint32_t piece, bool want_block_hashes) {
    TorrentDisk::HashResult out;
    out.read = absl::UnknownError("no answer");
    disk_->Hash(piece, want_block_hashes,
                [&out](TorrentDisk::HashResult r) { out = std::move(r); });
    Drain();
    EXPECT_TRUE(out.read.ok()) << out.read;
    return out;
  }

  testing::TestTorrent t_;
  std::shared_ptr<storage::MemoryFileBackend> backend_ =
      std::make_shared<storage::MemoryFileBackend>();
  std::deque<DiskPool::Task> tasks_;
  DiskPool pool_;
  std::unique_ptr<TorrentDisk> disk_;
};

TEST_F(TorrentDiskHashTest, PiecesPassWhateverOrderTheirBlocksCameIn) {
  const std::vector<std::vector<uint32_t>> orders = {
      {0, 1, 2, 3}, {0, 2, 1, 3}, {3, 2, 1, 0}};
  for (uint32_t piece = 0; piece < orders.size(); ++piece) {
    for (uint32_t block : orders[piece]) WriteGood(piece, block);
    TorrentDisk::HashResult r = Hash(piece, false);
    EXPECT_TRUE(r.passed) << "piece " << piece;
    EXPECT_TRUE(r.block_hashes.empty());
  }
}

// Views of one receive buffer holding piece `piece`'s blocks, as a large
// read gives, written in block order.
std::weak_ptr<std::string> WriteViews(TorrentDisk& disk,
                                      const testing::TestTorrent& t,
                                      uint32_t piece, uint32_t blocks) {
  auto buffer = std::make_shared<std::string>(t.Block(piece, 0, 64 * 1024));
  for (uint32_t block = 0; block < blocks; ++block) {
    const std::string_view bytes =
        std::string_view(*buffer).substr(block * kBlockSize, kBlockSize);
    disk.Write(BlockRef{piece, block}, BlockBytes(buffer, bytes),
               [](absl::Status s) { EXPECT_TRUE(s.ok()) << s; });
  }
  return buffer;
}

TEST_F(TorrentDiskHashTest, ViewsAreHeldUntilTheirPieceIsHashed) {
  std::weak_ptr<std::string> watch = WriteViews(*disk_, t_, 1, kBlocks);
  EXPECT_FALSE(watch.expired()) << "queued writes need the bytes";
  Drain();
  // Written, but held to be hashed beside another piece's blocks.
  EXPECT_FALSE(watch.expired());
  EXPECT_TRUE(Hash(1, false).passed);
  EXPECT_TRUE(watch.expired()) << "a hashed piece still holds its buffer";
}

TEST_F(TorrentDiskHashTest, TwoPiecesArrivingTogetherAreHashedAtOnce) {
  auto a = std::make_shared<std::string>(t_.Block(0, 0, 64 * 1024));
  auto b = std::make_shared<std::string>(t_.Block(2, 0, 64 * 1024));
  std::weak_ptr<std::string> watch_a = a, watch_b = b;
  for (uint32_t block = 0; block < kBlocks; ++block) {
    for (auto& [piece, buffer] : {std::pair{0u, a}, std::pair{2u, b}}) {
      disk_->Write(BlockRef{piece, block},
                   BlockBytes(buffer, std::string_view(*buffer).substr(
                                          block * kBlockSize, kBlockSize)),
                   [](absl::Status s) { EXPECT_TRUE(s.ok()) << s; });
    }
  }
  a.reset();
  b.reset();
  Drain();
  // Each block was hashed beside the other piece's as it came: none held.
  EXPECT_TRUE(watch_a.expired());
  EXPECT_TRUE(watch_b.expired());
  EXPECT_TRUE(Hash(0, false).passed);
  EXPECT_TRUE(Hash(2, false).passed);
}

TEST_F(TorrentDiskHashTest, TicksWithoutWritesHashWhatIsHeld) {
  std::weak_ptr<std::string> watch = WriteViews(*disk_, t_, 1, 2);
  Drain();
  disk_->Tick();  // blocks were written since the last tick: keep holding
  Drain();
  EXPECT_FALSE(watch.expired());
  disk_->Tick();  // a quiet second: a stalled piece lets go of its buffer
  Drain();
  EXPECT_TRUE(watch.expired());
  WriteGood(1, 2);
  WriteGood(1, 3);
  EXPECT_TRUE(Hash(1, false).passed);
}

TEST_F(TorrentDiskHashTest, ABadBlockFailsThePieceWithEveryBlocksHash) {
  for (uint32_t block = 0; block < kBlocks; ++block) {
    if (block == 1) {
      WriteBad(0, block);
    } else {
      WriteGood(0, block);
    }
  }
  TorrentDisk::HashResult r = Hash(0, false);
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(r.block_hashes.size(), kBlocks);
  EXPECT_EQ(r.block_hashes[0], Sha1(AsBytes(t_.Block(0, 0, kBlockSize))));
  EXPECT_NE(r.block_hashes[1],
            Sha1(AsBytes(t_.Block(0, kBlockSize, kBlockSize))));

  // Fetched again, the bad block alone is replaced: the piece passes, with
  // block hashes when they are asked for and without them otherwise.
  WriteGood(0, 1);
  r = Hash(0, true);
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.block_hashes.size(), kBlocks);
  WriteGood(0, 1);
  EXPECT_TRUE(Hash(0, false).passed);
}

TEST_F(TorrentDiskHashTest, ABlockRewrittenInsideThePrefixIsReadFromDisk) {
  WriteGood(1, 0);
  WriteBad(1, 1);
  WriteGood(1, 1);  // the bad bytes hashed so far no longer count
  WriteGood(1, 2);
  WriteGood(1, 3);
  EXPECT_TRUE(Hash(1, false).passed);

  WriteGood(2, 0);
  WriteGood(2, 1);
  WriteBad(2, 1);  // the disk now holds a bad block behind a good hash
  WriteGood(2, 2);
  WriteGood(2, 3);
  EXPECT_FALSE(Hash(2, false).passed);
}

}  // namespace
}  // namespace bt::client
