#include "metainfo/file_layout.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::metainfo {
namespace {

using ::testing::ElementsAre;

FileEntry F(const char* name, int64_t size) {
  FileEntry f;
  f.path = {name};
  f.size = size;
  return f;
}

TEST(FileLayoutTest, LinearV1Mapping) {
  // a: [0,10) b: empty c: [10,35) d: [35,36)
  auto l =
      FileLayout::Create({F("a", 10), F("b", 0), F("c", 25), F("d", 1)}, 8);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->total_size(), 36);
  EXPECT_EQ(l->num_pieces(), 5u);
  EXPECT_EQ(l->PieceSize(4), 4);
  EXPECT_EQ(l->PieceSize(5), 0);
  EXPECT_THAT(*l->MapBlock(1, 0, 8),
              ElementsAre(FileSlice{0, 8, 2}, FileSlice{2, 0, 6}));
  EXPECT_THAT(*l->MapBlock(4, 1, 3),
              ElementsAre(FileSlice{2, 23, 2}, FileSlice{3, 0, 1}));
  EXPECT_TRUE(l->MapBlock(2, 3, 0)->empty());
  EXPECT_EQ(l->FilesInPiece(1), (IndexRange{0, 3}));
  EXPECT_EQ(l->FilesInPiece(4), (IndexRange{2, 4}));
  EXPECT_TRUE(l->FilesInPiece(5).empty());
  EXPECT_EQ(l->PiecesOfFile(0), (IndexRange{0, 2}));
  EXPECT_TRUE(l->PiecesOfFile(1).empty());
  EXPECT_EQ(l->PiecesOfFile(2), (IndexRange{1, 5}));
  EXPECT_EQ(l->PiecesOfFile(3), (IndexRange{4, 5}));
  EXPECT_EQ(l->FileAtOffset(10), 2u);
  EXPECT_EQ(l->FileAtOffset(36), std::nullopt);
  EXPECT_FALSE(l->FilesAligned());
}

TEST(FileLayoutTest, MapBlockRejectsOutOfRange) {
  auto l = FileLayout::Create({F("a", 20)}, 8);
  ASSERT_TRUE(l.ok());
  EXPECT_FALSE(l->MapBlock(3, 0, 1).ok());
  EXPECT_FALSE(l->MapBlock(2, 0, 5).ok());  // last piece has 4 bytes
  EXPECT_FALSE(l->MapBlock(0, -1, 1).ok());
  EXPECT_FALSE(l->MapBlock(0, 4, 5).ok());
  EXPECT_TRUE(l->MapBlock(2, 0, 4).ok());
}

TEST(FileLayoutTest, AlignFilesForV2) {
  std::vector<FileEntry> files = FileLayout::AlignFiles(
      {F("a", 10), F("e", 0), F("b", 16), F("c", 3), F("d", 5)}, 8);
  auto l = FileLayout::Create(files, 8);
  ASSERT_TRUE(l.ok());
  std::vector<std::string> names;
  for (const FileEntry& f : l->files()) names.push_back(f.PathString());
  EXPECT_THAT(names, ElementsAre("a", ".pad/6", "e", "b", "c", ".pad/5", "d"));
  EXPECT_TRUE(l->FilesAligned());
  EXPECT_EQ(l->total_size(), 45);
  EXPECT_EQ(l->content_size(), 34);
  EXPECT_EQ(l->num_pieces(), 6u);
  EXPECT_EQ(l->PiecesOfFile(3), (IndexRange{2, 4}));
  EXPECT_EQ(l->FilesInPiece(1), (IndexRange{0, 2}));
  EXPECT_THAT(*l->MapBlock(4, 0, 8),
              ElementsAre(FileSlice{4, 0, 3}, FileSlice{5, 0, 5}));
}

TEST(FileLayoutTest, CreateValidates) {
  EXPECT_FALSE(FileLayout::Create({F("a", 1)}, 0).ok());
  EXPECT_FALSE(
      FileLayout::Create({F("a", 1)}, FileLayout::kMaxPieceLength + 1).ok());
  EXPECT_FALSE(FileLayout::Create({F("a", -1)}, 8).ok());
  EXPECT_FALSE(
      FileLayout::Create({F("a", int64_t{1} << 62), F("b", 1)}, 8).ok());
  EXPECT_EQ(FileLayout::Create({F("a", 100)}, 8, 12).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(FileLayout::Create({F("a", 96)}, 8, 12).ok());
}

}  // namespace
}  // namespace bt::metainfo
