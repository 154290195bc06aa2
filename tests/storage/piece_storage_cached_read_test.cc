// PieceStorage::ReadBlocksCached, the read a thread that must not block
// (the event loop) tries before handing a read to a disk thread: it reads a
// run of blocks only where they lie in one file that is open and in
// memory, and otherwise declines, leaving the read to ReadBlocks. Run over
// both backends.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/piece_storage.h"
#include "storage/posix_file_backend.h"
#include "tests/storage/backend_env.h"
#include "tests/storage/piece_storage_test_util.h"
#include "tests/storage/storage_test_util.h"

namespace bt::storage {
namespace {

using testing::FourFiles;
using testing::Kind;
using testing::kPiece;
using testing::MakeTestTorrent;
using testing::Torrent;

// In FourFiles, piece 0 is a.bin's 10,000 bytes, b.bin's 5 and the start
// of c.bin; piece 1 lies in c.bin (file 2).
class PieceStorageCachedReadTest : public ::testing::TestWithParam<bool> {
 protected:
  // SetUp puts the torrent's files on disk through a storage of its own,
  // then makes storage_, which has opened nothing yet.
  void SetUp() override {
    {
      auto writer = PieceStorage::Create(t_.info, env_.root(), env_.backend());
      ASSERT_TRUE(writer.ok()) << writer.status();
      testing::WriteEverything(writer->get(), t_, kPiece);
    }
    if (env_.real()) {
      // A fresh backend: the writer's descriptors are not reused.
      backend_ = std::make_unique<PosixFileBackend>();
    }
    auto s = PieceStorage::Create(t_.info, env_.root(), backend());
    ASSERT_TRUE(s.ok()) << s.status();
    storage_ = *std::move(s);
  }

  FileBackend* backend() { return backend_ ? backend_.get() : env_.backend(); }

  // Cached tries to read `sizes` bytes in consecutive blocks from (piece,
  // offset); on success the bytes must be the torrent's.
  bool Cached(uint32_t piece, int64_t offset, std::vector<int64_t> sizes) {
    std::vector<std::string> bufs;
    std::vector<MutableByteSpan> spans;
    for (int64_t n : sizes) bufs.emplace_back(n, '?');
    for (std::string& b : bufs) {
      spans.emplace_back(reinterpret_cast<uint8_t*>(b.data()), b.size());
    }
    if (!storage_->ReadBlocksCached(piece, offset, spans)) return false;
    int64_t at = piece * kPiece + offset;
    for (const std::string& b : bufs) {
      EXPECT_EQ(b, t_.piece_space.substr(at, b.size())) << "at " << at;
      at += static_cast<int64_t>(b.size());
    }
    return true;
  }

  void Open(uint32_t piece) {
    std::string one(1, '\0');
    ASSERT_TRUE(storage_
                    ->ReadBlock(piece, 0,
                                MutableByteSpan(
                                    reinterpret_cast<uint8_t*>(one.data()), 1))
                    .ok());
  }

  testing::BackendEnv env_{GetParam()};
  Torrent t_ = MakeTestTorrent("t", FourFiles(), kPiece, Kind::kV1);
  std::unique_ptr<PosixFileBackend> backend_;
  std::unique_ptr<PieceStorage> storage_;
};

INSTANTIATE_TEST_SUITE_P(Backends, PieceStorageCachedReadTest,
                         ::testing::Bool(), testing::BackendName);

TEST_P(PieceStorageCachedReadTest, ReadsARunInOneOpenFile) {
  // Real files are not open yet, and opening may wait for the device.
  EXPECT_EQ(Cached(1, 0, {4096, 8192, 4096}), !env_.real());
  Open(1);
  EXPECT_TRUE(Cached(1, 0, {4096, 8192, 4096}));
  Open(0);
  EXPECT_TRUE(Cached(0, 1000, {3000, 6000}));  // inside a.bin
}

TEST_P(PieceStorageCachedReadTest, DeclinesRunsAcrossFiles) {
  Open(0);
  Open(1);
  EXPECT_FALSE(Cached(0, 8000, {4000}));      // a.bin, b.bin and c.bin
  EXPECT_FALSE(Cached(0, 0, {10000, 4000}));  // the second block is not a's
}

TEST_P(PieceStorageCachedReadTest, DeclinesASkippedFile) {
  Open(1);
  ASSERT_TRUE(Cached(1, 0, {kPiece}));
  // A skipped file's bytes may be in the part file: finding out may wait.
  ASSERT_TRUE(storage_->SetFilePriority(2, 0).ok());
  EXPECT_FALSE(Cached(1, 0, {kPiece}));
}

TEST_P(PieceStorageCachedReadTest, DeclinesARangeOutsideTheTorrent) {
  Open(1);
  EXPECT_FALSE(Cached(3, 0, {kPiece}));
  EXPECT_FALSE(Cached(1, kPiece - 100, {200}));
}

}  // namespace
}  // namespace bt::storage
