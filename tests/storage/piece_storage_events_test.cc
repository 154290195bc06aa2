// PieceStorage's file events, on both backends: each open, read, write
// and close reported with its file and length, and an open naming the file
// by its index whatever the order of the paths (a skipped file's bytes
// open the part file).
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/piece_storage.h"
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
using testing::Pattern;
using testing::PieceStorageTest;
using testing::Torrent;
using testing::WriteEverything;

using Env = testing::BackendEnv;

INSTANTIATE_TEST_SUITE_P(Backends, PieceStorageTest, ::testing::Bool(),
                         BackendName);

TEST_P(PieceStorageTest, EventsReportOpenReadWriteClose) {
  Env env(GetParam());
  Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, Kind::kV1);
  std::vector<StorageEvent> events;
  StorageOptions opts;
  opts.on_event = [&](const StorageEvent& e) { events.push_back(e); };
  auto s =
      PieceStorage::Create(t.info, env.root(), env.backend(), std::move(opts));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(
      (*s)->WriteBlock(
              0, 9000,
              AsBytes(std::string_view(t.piece_space).substr(9000, 2000)))
          .ok());
  (*s)->backend()->CloseAll();
  std::string back(2000, '\0');
  ASSERT_TRUE(
      (*s)->ReadBlock(0, 9000,
                      MutableByteSpan(reinterpret_cast<uint8_t*>(back.data()),
                                      back.size()))
          .ok());
  s->reset();
  // write: a.bin 1000, b.bin 5, c.bin 995; read piece 4 from c and d.
  std::vector<std::string> got;
  int64_t written = 0, read = 0;
  for (const StorageEvent& e : events) {
    std::string name =
        e.file_index == kPartFileIndex ? "part" : std::to_string(e.file_index);
    switch (e.type) {
      case StorageEventType::kFileOpen:
        got.push_back("open " + name +
                      (e.mode == OpenMode::kWrite ? " w" : " r"));
        break;
      case StorageEventType::kFileClose:
        got.push_back("close " + name);
        break;
      case StorageEventType::kFileWrite:
        got.push_back("write " + name + " " + std::to_string(e.length));
        written += e.length;
        break;
      case StorageEventType::kFileRead:
        got.push_back("read " + name + " " + std::to_string(e.length));
        read += e.length;
        break;
      case StorageEventType::kFileError:
        got.push_back("error " + e.message);
        break;
    }
  }
  EXPECT_EQ(written, 2000);
  EXPECT_EQ(read, 2000);
  std::vector<std::string> head(got.begin(), got.begin() + 6);
  EXPECT_THAT(head,
              ::testing::ElementsAre("open 0 w", "write 0 1000", "open 1 w",
                                     "write 1 5", "open 2 w", "write 2 995"));
  EXPECT_THAT(std::vector<std::string>(got.begin() + 6, got.end()),
              ::testing::UnorderedElementsAre(
                  "close 0", "close 1", "close 2", "open 0 r", "read 0 1000",
                  "open 1 r", "read 1 5", "open 2 r", "read 2 995", "close 0",
                  "close 1", "close 2"));
  EXPECT_EQ(got[6].substr(0, 5), "close");
  EXPECT_EQ(got.back().substr(0, 5), "close");
}

// Open events name a file by its index, whatever the order of the paths;
// a skipped file's bytes open the part file.
TEST_P(PieceStorageTest, OpenEventsNameTheFileWhateverThePathOrder) {
  Env env(GetParam());
  Torrent t = MakeTestTorrent("album",
                              {{{"z.bin"}, Pattern(20000, 1), ""},
                               {{"m", "x.bin"}, Pattern(5, 2), ""},
                               {{"b.bin"}, Pattern(30000, 3), ""},
                               {{"a.bin"}, Pattern(9000, 4), ""}},
                              kPiece, Kind::kV1);
  std::vector<StorageEvent> opened;
  StorageOptions opts;
  opts.file_priorities = {1, 1, 0, 1};
  opts.on_event = [&](const StorageEvent& e) {
    if (e.type == StorageEventType::kFileOpen) opened.push_back(e);
  };
  auto s =
      PieceStorage::Create(t.info, env.root(), env.backend(), std::move(opts));
  ASSERT_TRUE(s.ok()) << s.status();
  WriteEverything(s->get(), t, 6000);
  std::vector<size_t> files;
  for (const StorageEvent& e : opened) {
    files.push_back(e.file_index);
    EXPECT_EQ(e.path, e.file_index == kPartFileIndex
                          ? (*s)->PartFilePath()
                          : (*s)->FilePath(e.file_index));
  }
  EXPECT_THAT(files, ::testing::UnorderedElementsAre(0, 1, 3, kPartFileIndex));
}

}  // namespace
}  // namespace bt::storage
