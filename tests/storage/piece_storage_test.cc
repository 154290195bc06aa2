// PieceStorage puts a torrent's piece space into its files, on both
// backends: blocks and runs of blocks across file boundaries, pad files
// never written, files created lazily and sparsely, skipped files' bytes
// in the part file as priorities change, empty files on request; and the
// arguments Create and the writes refuse. Its file events are in
// piece_storage_events_test.cc, disk errors in piece_storage_errors_test.cc.
#include "storage/piece_storage.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "storage/memory_file_backend.h"
#include "tests/storage/backend_env.h"
#include "tests/storage/piece_storage_test_util.h"
#include "tests/storage/storage_test_util.h"

namespace bt::storage {
namespace {

using testing::BackendName;
using testing::FourFiles;
using testing::Kind;
using testing::kPiece;
using testing::MakeTestTorrent;
using testing::MemFile;
using testing::PieceStorageTest;
using testing::ReadPiece;
using testing::Same;
using testing::Torrent;
using testing::WriteEverything;

using Env = testing::BackendEnv;

INSTANTIATE_TEST_SUITE_P(Backends, PieceStorageTest, ::testing::Bool(),
                         BackendName);

TEST_P(PieceStorageTest, V1RoundTripAcrossFileBoundaries) {
  Env env(GetParam());
  Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, Kind::kV1);
  ASSERT_EQ(t.info.num_pieces(), 5u);
  auto s = PieceStorage::Create(t.info, env.root(), env.backend());
  ASSERT_TRUE(s.ok()) << s.status();
  // Blocks of 6000 bytes straddle file boundaries at odd offsets.
  WriteEverything(s->get(), t, 6000);
  for (const MemFile& f : FourFiles()) {
    std::string path = env.root() + "/album/" +
                       absl::StrJoin(f.path, "/");
    EXPECT_TRUE(Same(env.Contents(path), f.data)) << path;
  }
  for (uint32_t p = 0; p < t.info.num_pieces(); ++p) {
    EXPECT_TRUE(Same(ReadPiece(s->get(), t, p),
              t.piece_space.substr(p * kPiece, kPiece)))
        << "piece " << p;
  }
  // An odd block in the middle of a piece, across three files.
  std::string mid(10010, '\0');
  ASSERT_TRUE((*s)->ReadBlock(0, 5000,
                              MutableByteSpan(reinterpret_cast<uint8_t*>(
                                                  mid.data()),
                                              mid.size()))
                  .ok());
  EXPECT_TRUE(Same(mid, t.piece_space.substr(5000, 10010)));
}

TEST_P(PieceStorageTest, PadFilesAreNeverWritten) {
  for (Kind kind : {Kind::kV1Padded, Kind::kV2, Kind::kHybrid}) {
    Env env(GetParam());
    Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, kind);
    ASSERT_TRUE(t.info.layout().FilesAligned());
    auto s = PieceStorage::Create(t.info, env.root(), env.backend());
    ASSERT_TRUE(s.ok()) << s.status();
    WriteEverything(s->get(), t, 4096);
    for (const MemFile& f : FourFiles()) {
      EXPECT_TRUE(Same(env.Contents(env.root() + "/album/" + absl::StrJoin(f.path, "/")), f.data));
    }
    for (size_t i = 0; i < t.info.files().size(); ++i) {
      if (!t.info.files()[i].pad()) continue;
      EXPECT_FALSE(env.Contents((*s)->FilePath(i)).has_value())
          << (*s)->FilePath(i);
    }
    EXPECT_FALSE(env.Contents(env.root() + "/album/.pad").has_value());
    for (uint32_t p = 0; p < t.info.num_pieces(); ++p) {
      EXPECT_TRUE(Same(ReadPiece(s->get(), t, p),
                t.piece_space.substr(p * kPiece, kPiece)));
    }
  }
}

// WriteBlocks stores runs of blocks as WriteBlock stores each: runs inside
// one file, across file boundaries, and over pad files.
TEST_P(PieceStorageTest, WriteBlocksStoresARunAsWriteBlockWould) {
  for (Kind kind : {Kind::kV1, Kind::kV1Padded}) {
    Env env(GetParam());
    Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, kind);
    auto s = PieceStorage::Create(t.info, env.root(), env.backend());
    ASSERT_TRUE(s.ok()) << s.status();
    for (uint32_t p = 0; p < t.info.num_pieces(); ++p) {
      const int64_t size = t.info.layout().PieceSize(p);
      const std::string_view piece =
          std::string_view(t.piece_space).substr(p * kPiece, size);
      // Blocks of 3000 bytes (the last one shorter), then the piece in
      // two runs.
      std::vector<ByteSpan> blocks;
      for (int64_t at = 0; at < size; at += 3000) {
        blocks.push_back(AsBytes(piece.substr(at, 3000)));
      }
      const size_t half = blocks.size() / 2;
      ASSERT_TRUE(
          (*s)->WriteBlocks(p, 0, absl::MakeConstSpan(blocks).first(half))
              .ok());
      ASSERT_TRUE((*s)->WriteBlocks(p, static_cast<int64_t>(half) * 3000,
                                    absl::MakeConstSpan(blocks).subspan(half))
                      .ok());
    }
    for (const MemFile& f : FourFiles()) {
      const std::string path =
          env.root() + "/album/" + absl::StrJoin(f.path, "/");
      EXPECT_TRUE(Same(env.Contents(path), f.data)) << path;
    }
    EXPECT_FALSE(env.Contents(env.root() + "/album/.pad").has_value());
    // ReadBlocks reads runs back the same way, and a run into a missing
    // file fails as ReadBlock does.
    for (uint32_t p = 0; p < t.info.num_pieces(); ++p) {
      const int64_t size = t.info.layout().PieceSize(p);
      std::string got(size, '?');
      std::vector<MutableByteSpan> parts;
      for (int64_t at = 0; at < size; at += 5000) {
        parts.push_back(
            MutableByteSpan(reinterpret_cast<uint8_t*>(got.data()) + at,
                            std::min<int64_t>(5000, size - at)));
      }
      ASSERT_TRUE((*s)->ReadBlocks(p, 0, parts).ok());
      EXPECT_TRUE(Same(got, t.piece_space.substr(p * kPiece, size))) << p;
    }
    // A run past the piece's end is refused, and nothing is written.
    const std::string block(3000, 'x');
    std::vector<ByteSpan> over(kPiece / 3000 + 1, AsBytes(block));
    EXPECT_EQ((*s)->WriteBlocks(0, 0, over).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(
        Same(ReadPiece(s->get(), t, 0), t.piece_space.substr(0, kPiece)));
  }
}

TEST_P(PieceStorageTest, FilesAreCreatedLazilyAndSparsely) {
  Env env(GetParam());
  Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, Kind::kV1);
  auto s = PieceStorage::Create(t.info, env.root(), env.backend());
  ASSERT_TRUE(s.ok());
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_FALSE(env.Contents((*s)->FilePath(i)).has_value());
  }
  // Piece 3 lies in c.bin and d.bin only.
  ASSERT_TRUE((*s)->WriteBlock(3, 0, AsBytes(std::string_view(t.piece_space)
                                                 .substr(3 * kPiece, kPiece)))
                  .ok());
  EXPECT_FALSE(env.Contents((*s)->FilePath(0)).has_value());
  EXPECT_FALSE(env.Contents((*s)->FilePath(1)).has_value());
  std::optional<std::string> c = env.Contents((*s)->FilePath(2));
  ASSERT_TRUE(c.has_value());
  // Written at its end: the start is a hole that reads as zeros.
  EXPECT_TRUE(Same(*c, std::string(39147, '\0') +
                           FourFiles()[2].data.substr(39147)));
  EXPECT_TRUE(Same(env.Contents((*s)->FilePath(3)),
                   FourFiles()[3].data.substr(0, 15531)));
}

TEST_P(PieceStorageTest, SkippedFilesGoToThePartFile) {
  Env env(GetParam());
  Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, Kind::kV1);
  StorageOptions opts;
  opts.file_priorities = {1, 0, 0, 1};  // b and c skipped
  auto s = PieceStorage::Create(t.info, env.root(), env.backend(),
                                std::move(opts));
  ASSERT_TRUE(s.ok());
  for (uint32_t p = 0; p < 5; ++p) {
    // Pieces 0 (a+b+c) and 3,4 (c+d) straddle; 1 and 2 lie in c only.
    EXPECT_EQ((*s)->PieceWanted(p), p == 0 || p >= 3) << p;
    EXPECT_EQ((*s)->PieceUsesPartFile(p), p != 4) << p;
  }
  WriteEverything(s->get(), t, 16384);
  EXPECT_FALSE(env.Contents((*s)->FilePath(1)).has_value());
  EXPECT_FALSE(env.Contents((*s)->FilePath(2)).has_value());
  EXPECT_FALSE(env.Contents(env.root() + "/album/b").has_value());
  EXPECT_TRUE(Same(env.Contents((*s)->FilePath(0)), FourFiles()[0].data));
  EXPECT_TRUE(Same(env.Contents((*s)->FilePath(3)), FourFiles()[3].data));
  EXPECT_TRUE(env.Contents((*s)->PartFilePath()).has_value());
  for (uint32_t p = 0; p < 5; ++p) {
    EXPECT_TRUE(Same(ReadPiece(s->get(), t, p),
              t.piece_space.substr(p * kPiece, kPiece)));
  }
}

TEST_P(PieceStorageTest, PiecePriorityIsItsHighestFiles) {
  Env env(GetParam());
  Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, Kind::kV1);
  auto s = PieceStorage::Create(t.info, env.root(), env.backend());
  ASSERT_TRUE(s.ok());
  for (uint32_t p = 0; p < 5; ++p) {
    EXPECT_EQ((*s)->PiecePriority(p), kFilePriorityNormal) << p;
  }
  // Piece 0 holds a, b and c; 1 and 2 only c; 3 c and d; 4 only d.
  ASSERT_TRUE((*s)->SetFilePriority(0, kFilePriorityLow).ok());
  ASSERT_TRUE((*s)->SetFilePriority(1, kFilePriorityHigh).ok());
  ASSERT_TRUE((*s)->SetFilePriority(3, kFilePrioritySkip).ok());
  const int kWant[] = {kFilePriorityHigh, kFilePriorityNormal,
                       kFilePriorityNormal, kFilePriorityNormal,
                       kFilePrioritySkip};
  for (uint32_t p = 0; p < 5; ++p) {
    EXPECT_EQ((*s)->PiecePriority(p), kWant[p]) << p;
    EXPECT_EQ((*s)->PieceWanted(p), p != 4) << p;
  }
}

TEST_P(PieceStorageTest, PriorityChangesMidwayMoveDataOutOfThePartFile) {
  Env env(GetParam());
  Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, Kind::kV1);
  StorageOptions opts;
  opts.file_priorities = {1, 0, 0, 1};
  auto s = PieceStorage::Create(t.info, env.root(), env.backend(),
                                std::move(opts));
  ASSERT_TRUE(s.ok());
  std::string_view space = t.piece_space;
  // Pieces 0 and 3 arrive while b and c are skipped.
  for (uint32_t p : {0u, 3u}) {
    ASSERT_TRUE((*s)->WriteBlock(p, 0, AsBytes(space.substr(p * kPiece, kPiece)))
                    .ok());
  }
  ASSERT_TRUE((*s)->SetFilePriority(2, 4).ok());  // c becomes wanted
  std::optional<std::string> c = env.Contents((*s)->FilePath(2));
  ASSERT_TRUE(c.has_value());
  // c's bytes from pieces 0 and 3 moved over, the rest is still a hole.
  EXPECT_TRUE(Same(c->substr(0, kPiece - 10005), space.substr(10005, kPiece - 10005)));
  EXPECT_TRUE(Same(c->substr(39147), space.substr(3 * kPiece, 853)));
  EXPECT_EQ(c->substr(kPiece - 10005, 39147 - (kPiece - 10005)),
            std::string(39147 - (kPiece - 10005), '\0'));
  EXPECT_TRUE(env.Contents((*s)->PartFilePath()).has_value());  // b is skipped
  // The rest arrives; then b becomes wanted too and the part file goes.
  for (uint32_t p : {1u, 2u, 4u}) {
    ASSERT_TRUE((*s)->WriteBlock(p, 0, AsBytes(space.substr(p * kPiece, kPiece)))
                    .ok());
  }
  ASSERT_TRUE((*s)->SetFilePriority(1, 1).ok());
  EXPECT_FALSE(env.Contents((*s)->PartFilePath()).has_value());
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(Same(env.Contents((*s)->FilePath(i)), FourFiles()[i].data)) << i;
  }
  // A wanted file that becomes skipped keeps its data on disk.
  ASSERT_TRUE((*s)->SetFilePriority(3, 0).ok());
  EXPECT_TRUE(Same(ReadPiece(s->get(), t, 4), space.substr(4 * kPiece)));
  EXPECT_FALSE(env.Contents((*s)->PartFilePath()).has_value());
}

TEST_P(PieceStorageTest, EmptyFilesAreCreatedOnRequest) {
  Env env(GetParam());
  std::vector<MemFile> files = FourFiles();
  files.insert(files.begin() + 1, MemFile{{"empty.txt"}, "", ""});
  files.push_back(MemFile{{"z_skipped_empty"}, "", ""});
  Torrent t = MakeTestTorrent("album", files, kPiece, Kind::kV1);
  StorageOptions o;
  o.file_priorities = {1, 1, 1, 1, 1, 0};
  auto s = PieceStorage::Create(t.info, env.root(), env.backend(), o);
  ASSERT_TRUE(s.ok());
  WriteEverything(s->get(), t, 16384);
  EXPECT_FALSE(env.Contents((*s)->FilePath(1)).has_value());
  ASSERT_TRUE((*s)->CreateEmptyFiles().ok());
  EXPECT_EQ(env.Contents((*s)->FilePath(1)), std::string());
  EXPECT_FALSE(env.Contents((*s)->FilePath(5)).has_value());
  EXPECT_TRUE(Same(env.Contents((*s)->FilePath(4)), FourFiles()[3].data));
}

TEST(PieceStorageCreateTest, RejectsBadPriorities) {
  Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, Kind::kV1);
  MemoryFileBackend mem;
  StorageOptions opts;
  opts.file_priorities = {1, 1};
  EXPECT_EQ(PieceStorage::Create(t.info, "/dl", &mem, opts).status().code(),
            absl::StatusCode::kInvalidArgument);
  opts.file_priorities = {1, 1, -1, 1};
  EXPECT_EQ(PieceStorage::Create(t.info, "/dl", &mem, opts).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto s = PieceStorage::Create(t.info, "/dl", &mem);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->SetFilePriority(4, 1).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*s)->WriteBlock(5, 0, AsBytes("x")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*s)->WriteBlock(4, 4468, AsBytes("xy")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*s)->PartFilePath(),
            "/dl/." + t.info.WireInfoHash().ToHex() + ".parts");
}

}  // namespace
}  // namespace bt::storage
