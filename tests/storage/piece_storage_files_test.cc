// PieceStorage::MoveStorage and DeleteFiles, on memory and on real files:
// moves land byte for byte, failures leave everything in the old place,
// deletion takes the torrent's files and nothing else.
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_file_backend.h"
#include "storage/piece_storage.h"
#include "storage/posix_file_backend.h"
#include "tests/storage/backend_env.h"
#include "tests/storage/storage_test_util.h"

namespace bt::storage {
namespace {

using testing::BackendEnv;
using ::testing::HasSubstr;
using testing::Kind;
using testing::MakeTestTorrent;
using testing::MemFile;
using testing::Pattern;
using testing::Torrent;

constexpr int64_t kPiece = 16384;

// Files of torrent "t": d/c.bin is skipped, so the pieces it shares with
// b.bin and e.bin keep its bytes in the part file.
std::vector<MemFile> Files() {
  return {{{"a.bin"}, Pattern(10000, 1), ""},
          {{"d", "b.bin"}, Pattern(20000, 2), ""},
          {{"d", "c.bin"}, Pattern(20000, 3), ""},
          {{"e.bin"}, Pattern(9000, 4), ""}};
}

std::unique_ptr<PieceStorage> MakeStorage(const Torrent& t,
                                          const std::string& dir,
                                          FileBackend* backend) {
  StorageOptions options;
  options.file_priorities = {1, 1, 0, 1};
  auto s = PieceStorage::Create(t.info, dir, backend, std::move(options));
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

void WriteAll(PieceStorage& s, const Torrent& t) {
  for (uint32_t p = 0; p < t.info.num_pieces(); ++p) {
    const int64_t size = t.info.layout().PieceSize(p);
    ASSERT_TRUE(
        s.WriteBlock(
             p, 0,
             AsBytes(std::string_view(t.piece_space).substr(p * kPiece, size)))
            .ok());
  }
}

std::string Part(const Torrent& t) {
  return "." + t.info.WireInfoHash().ToHex() + ".parts";
}

class PieceStorageFilesTest : public ::testing::TestWithParam<bool> {
 protected:
  PieceStorageFilesTest()
      : env_(GetParam()),
        t_(MakeTestTorrent("t", Files(), kPiece, Kind::kV1)),
        old_(env_.root() + "/old"),
        new_(env_.root() + "/new") {}

  // ExpectFilesIn: the wanted files and the part file are under `dir`.
  void ExpectFilesIn(const std::string& dir) {
    for (const std::string& f : {"a.bin", "d/b.bin", "e.bin"}) {
      EXPECT_TRUE(env_.Contents(dir + "/t/" + f)) << dir << "/t/" << f;
    }
    EXPECT_EQ(env_.Contents(dir + "/t/a.bin"), Files()[0].data);
    EXPECT_EQ(env_.Contents(dir + "/t/d/b.bin"), Files()[1].data);
    EXPECT_EQ(env_.Contents(dir + "/t/e.bin"), Files()[3].data);
    EXPECT_TRUE(env_.Contents(dir + "/" + Part(t_)));
    EXPECT_FALSE(env_.Contents(dir + "/t/d/c.bin"));
  }
  void ExpectNothingIn(const std::string& dir) {
    for (const std::string& f : {"t/a.bin", "t/d/b.bin", "t/e.bin"}) {
      EXPECT_FALSE(env_.Contents(dir + "/" + f)) << dir << "/" << f;
    }
    EXPECT_FALSE(env_.Contents(dir + "/" + Part(t_)));
  }

  BackendEnv env_;
  Torrent t_;
  std::string old_, new_;
};

INSTANTIATE_TEST_SUITE_P(Backends, PieceStorageFilesTest, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "RealFiles" : "InMemory";
                         });

TEST_P(PieceStorageFilesTest, MoveTakesFilesAndPartFileAlong) {
  auto s = MakeStorage(t_, old_, env_.backend());
  WriteAll(*s, t_);
  ASSERT_TRUE(s->MoveStorage(new_ + "/").ok());
  EXPECT_EQ(s->save_path(), new_);
  EXPECT_EQ(s->FilePath(0), new_ + "/t/a.bin");
  EXPECT_EQ(s->PartFilePath(), new_ + "/" + Part(t_));
  ExpectFilesIn(new_);
  ExpectNothingIn(old_);
  if (env_.real()) {
    EXPECT_FALSE(testing::FileExists(old_ + "/t/d")) << "empty dir left";
    EXPECT_FALSE(testing::FileExists(old_ + "/t"));
    EXPECT_TRUE(testing::FileExists(old_)) << "the save path itself stays";
  }
  // The skipped file's bytes come out of the moved part file.
  ASSERT_TRUE(s->SetFilePriority(2, 1).ok());
  EXPECT_EQ(env_.Contents(new_ + "/t/d/c.bin"), Files()[2].data);
  // Later writes go to the new place.
  ASSERT_TRUE(
      s->WriteBlock(0, 0,
                    AsBytes(std::string_view(t_.piece_space).substr(0, kPiece)))
          .ok());
  ExpectNothingIn(old_);
}

TEST_P(PieceStorageFilesTest, MoveToTheSamePlaceChangesNothing) {
  auto s = MakeStorage(t_, old_, env_.backend());
  WriteAll(*s, t_);
  ASSERT_TRUE(s->MoveStorage(old_).ok());
  ExpectFilesIn(old_);
  // Another spelling of the same directory keeps the one copy.
  if (env_.real()) {
    ASSERT_TRUE(s->MoveStorage(old_ + "/./").ok());
    ExpectFilesIn(old_);
  }
}

TEST_P(PieceStorageFilesTest, DestinationWithOtherContentIsRefusedUpFront) {
  auto s = MakeStorage(t_, old_, env_.backend());
  WriteAll(*s, t_);
  env_.Put(new_ + "/t/e.bin", "someone else's file");
  absl::Status st = s->MoveStorage(new_);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_THAT(st.message(), HasSubstr(new_ + "/t/e.bin"));
  ExpectFilesIn(old_);
  EXPECT_FALSE(env_.Contents(new_ + "/t/a.bin"));
  EXPECT_EQ(env_.Contents(new_ + "/t/e.bin"), "someone else's file");
  EXPECT_EQ(s->save_path(), old_);
  EXPECT_TRUE(s->error().ok());
}

// The skipped d/c.bin was never created: a file at its place in the
// destination is someone else's, which later writes must not go into.
TEST_P(PieceStorageFilesTest, DestinationHoldingAFileNotYetCreatedIsRefused) {
  auto s = MakeStorage(t_, old_, env_.backend());
  WriteAll(*s, t_);
  env_.Put(new_ + "/t/d/c.bin", "someone else's");
  absl::Status st = s->MoveStorage(new_);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_THAT(st.message(), HasSubstr(new_ + "/t/d/c.bin"));
  ExpectFilesIn(old_);
  EXPECT_FALSE(env_.Contents(new_ + "/t/a.bin"));
}

TEST_P(PieceStorageFilesTest, DestinationWithTheSameContentIsAdopted) {
  auto s = MakeStorage(t_, old_, env_.backend());
  WriteAll(*s, t_);
  env_.Put(new_ + "/t/a.bin", Files()[0].data);
  ASSERT_TRUE(s->MoveStorage(new_).ok());
  ExpectFilesIn(new_);
  ExpectNothingIn(old_);
}

TEST_P(PieceStorageFilesTest, FailureHalfWayPutsEverythingBack) {
  if (env_.real()) {
    // (Tests run as root, which no permission bit stops.) A file where
    // the destination needs a directory stops the move at its planning.
    auto s = MakeStorage(t_, old_, env_.backend());
    WriteAll(*s, t_);
    env_.Put(new_ + "/t/d", "a file, not a directory");
    absl::Status st = s->MoveStorage(new_);
    EXPECT_FALSE(st.ok());
    EXPECT_THAT(st.message(), HasSubstr(new_ + "/t/d"));
    ExpectFilesIn(old_);
    EXPECT_FALSE(env_.Contents(new_ + "/t/a.bin"));
    return;
  }
  auto s = MakeStorage(t_, old_, env_.backend());
  WriteAll(*s, t_);
  env_.mem()->DenyWrites(new_ + "/t/e.bin", true);
  absl::Status st = s->MoveStorage(new_);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied) << st;
  EXPECT_THAT(st.message(), HasSubstr(new_ + "/t/e.bin"));
  ExpectFilesIn(old_);
  ExpectNothingIn(new_);
  EXPECT_EQ(s->save_path(), old_);
  // Still usable where it was.
  ASSERT_TRUE(
      s->WriteBlock(0, 0,
                    AsBytes(std::string_view(t_.piece_space).substr(0, kPiece)))
          .ok());
  ExpectNothingIn(new_);
}

// A dangling symlink at a destination looks absent to the planning stat
// but stops the move itself half-way: what moved goes back, and nothing is
// written through the link.
TEST(PieceStorageFilesRealTest, FailureHalfWayPutsEverythingBack) {
  testing::TempDir dir;
  const std::string old_dir = dir.path() + "/old",
                    new_dir = dir.path() + "/new";
  PosixFileBackend disk;
  Torrent t = MakeTestTorrent("t", Files(), kPiece, Kind::kV1);
  auto s = MakeStorage(t, old_dir, &disk);
  WriteAll(*s, t);
  std::filesystem::create_directories(new_dir + "/t");
  std::filesystem::create_symlink(dir.path() + "/target.bin",
                                  new_dir + "/t/e.bin");
  absl::Status st = s->MoveStorage(new_dir);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_THAT(st.message(), HasSubstr(new_dir + "/t/e.bin"));
  BackendEnv view(true);
  EXPECT_EQ(view.Contents(old_dir + "/t/a.bin"), Files()[0].data);
  EXPECT_EQ(view.Contents(old_dir + "/t/d/b.bin"), Files()[1].data);
  EXPECT_EQ(view.Contents(old_dir + "/t/e.bin"), Files()[3].data);
  EXPECT_FALSE(testing::FileExists(new_dir + "/t/a.bin"));
  EXPECT_FALSE(testing::FileExists(new_dir + "/t/d"));
  EXPECT_FALSE(testing::FileExists(dir.path() + "/target.bin"));
  EXPECT_EQ(s->save_path(), old_dir);
}

TEST(PieceStorageFilesMemoryTest, DiskFullDuringACopyPutsEverythingBack) {
  MemoryFileBackend mem;
  Torrent t = MakeTestTorrent("t", Files(), kPiece, Kind::kV1);
  auto s = MakeStorage(t, "/old", &mem);
  WriteAll(*s, t);
  mem.set_moves_copy(true);
  mem.set_capacity(mem.TotalBytes() + 15000);  // room for a.bin only
  absl::Status st = s->MoveStorage("/new");
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_THAT(st.message(), HasSubstr("/new/t/d/b.bin"));
  EXPECT_EQ(mem.Contents("/old/t/a.bin"), Files()[0].data);
  EXPECT_EQ(mem.Contents("/old/t/d/b.bin"), Files()[1].data);
  for (const std::string& p : mem.Paths()) {
    EXPECT_EQ(p.rfind("/new/", 0), std::string::npos) << p;
  }
}

TEST_P(PieceStorageFilesTest, BackendMoveNeverReplacesAFile) {
  FileBackend* b = env_.backend();
  env_.Put(old_ + "/x.bin", "x");
  env_.Put(new_ + "/x.bin", "y");
  absl::Status st = b->MoveFile(old_ + "/x.bin", new_ + "/x.bin");
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_EQ(env_.Contents(old_ + "/x.bin"), "x");
  EXPECT_EQ(env_.Contents(new_ + "/x.bin"), "y");
  st = b->MoveFile(old_ + "/missing.bin", new_ + "/m.bin");
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound) << st;
  EXPECT_FALSE(env_.Contents(new_ + "/m.bin"));
  ASSERT_TRUE(b->MoveFile(old_ + "/x.bin", new_ + "/deep/er/x.bin").ok());
  EXPECT_EQ(env_.Contents(new_ + "/deep/er/x.bin"), "x");
  EXPECT_FALSE(env_.Contents(old_ + "/x.bin"));
}

// Moving from the test's temporary directory to /dev/shm crosses file
// systems: rename(2) fails with EXDEV and the files are copied.
TEST(PieceStorageFilesRealTest, MoveAcrossFileSystemsCopies) {
  testing::TempDir here;
  char templ[] = "/dev/shm/btkit-move.XXXXXX";
  if (mkdtemp(templ) == nullptr) GTEST_SKIP() << "no /dev/shm";
  const std::string there = templ;
  struct stat a, b;
  if (stat(here.path().c_str(), &a) != 0 || stat(there.c_str(), &b) != 0 ||
      a.st_dev == b.st_dev) {
    std::filesystem::remove_all(there);
    GTEST_SKIP() << "one file system";
  }
  PosixFileBackend disk;
  Torrent t = MakeTestTorrent("t", Files(), kPiece, Kind::kV1);
  auto s = MakeStorage(t, here.path(), &disk);
  WriteAll(*s, t);
  auto before = disk.Stat(here.path() + "/t/d/b.bin");
  ASSERT_TRUE(before.ok());
  absl::Status st = s->MoveStorage(there);
  EXPECT_TRUE(st.ok()) << st;
  BackendEnv view(true);  // only for reading files
  EXPECT_EQ(view.Contents(there + "/t/a.bin"), Files()[0].data);
  EXPECT_EQ(view.Contents(there + "/t/d/b.bin"), Files()[1].data);
  EXPECT_EQ(view.Contents(there + "/t/e.bin"), Files()[3].data);
  EXPECT_TRUE(view.Contents(there + "/" + Part(t)));
  EXPECT_FALSE(testing::FileExists(here.path() + "/t"));
  // The mtime travels with the copy (resume data stays valid).
  auto after = disk.Stat(there + "/t/d/b.bin");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->mtime_ns, before->mtime_ns);
  // A copy never replaces a file either, and leaves the source whole.
  testing::WriteFileOrDie(here.path() + "/t/a.bin", "in the way");
  EXPECT_EQ(disk.MoveFile(there + "/t/a.bin", here.path() + "/t/a.bin").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(view.Contents(there + "/t/a.bin"), Files()[0].data);
  EXPECT_EQ(view.Contents(here.path() + "/t/a.bin"), "in the way");
  ASSERT_TRUE(disk.Remove(here.path() + "/t/a.bin").ok());
  // And back again, into the first file system.
  EXPECT_TRUE(s->MoveStorage(here.path()).ok());
  EXPECT_EQ(view.Contents(here.path() + "/t/d/b.bin"), Files()[1].data);
  EXPECT_FALSE(testing::FileExists(there + "/t"));
  std::filesystem::remove_all(there);
}

TEST_P(PieceStorageFilesTest, DeleteTakesOnlyTheTorrentsFiles) {
  auto s = MakeStorage(t_, old_, env_.backend());
  WriteAll(*s, t_);
  env_.Put(old_ + "/mine.txt", "user file next to the torrent");
  env_.Put(old_ + "/t/d/notes.txt", "user file inside its directory");
  ASSERT_TRUE(s->DeleteFiles().ok());
  ExpectNothingIn(old_);
  EXPECT_EQ(env_.Contents(old_ + "/mine.txt"), "user file next to the torrent");
  EXPECT_EQ(env_.Contents(old_ + "/t/d/notes.txt"),
            "user file inside its directory");
  // A queued write cannot bring a file back.
  absl::Status st = s->WriteBlock(
      0, 0, AsBytes(std::string_view(t_.piece_space).substr(0, kPiece)));
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_FALSE(env_.Contents(old_ + "/t/a.bin"));
  // Not even after the error is cleared (a torrent started again).
  s->ClearError();
  st = s->WriteBlock(
      0, 0, AsBytes(std::string_view(t_.piece_space).substr(0, kPiece)));
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_FALSE(env_.Contents(old_ + "/t/a.bin"));
}

TEST_P(PieceStorageFilesTest, DeleteRemovesTheDirectoriesItEmptied) {
  auto s = MakeStorage(t_, old_, env_.backend());
  WriteAll(*s, t_);
  ASSERT_TRUE(s->DeleteFiles().ok());
  ExpectNothingIn(old_);
  if (env_.real()) {
    EXPECT_FALSE(testing::FileExists(old_ + "/t"));
    EXPECT_TRUE(testing::FileExists(old_));
  } else {
    EXPECT_TRUE(env_.mem()->Paths().empty());
  }
}

// A torrent whose names try to climb out of the save path: the metainfo
// layer drops "..", so the files land (and are deleted) inside it.
TEST_P(PieceStorageFilesTest, DeleteOfAHostileTorrentStaysInside) {
  Torrent evil = MakeTestTorrent(
      "t",
      {{{"..", "..", "escape.bin"}, Pattern(5000, 7), ""},
       {{"sub", "..", "..", "..", "up.bin"}, Pattern(5000, 8), ""}},
      kPiece, Kind::kV1);
  const std::string save = env_.root() + "/outer/save";
  env_.Put(env_.root() + "/outer/escape.bin", "outside 1");
  env_.Put(env_.root() + "/escape.bin", "outside 2");
  env_.Put(env_.root() + "/up.bin", "outside 3");
  env_.Put(env_.root() + "/outer/up.bin", "outside 4");
  auto s = PieceStorage::Create(evil.info, save, env_.backend());
  ASSERT_TRUE(s.ok()) << s.status();
  for (size_t i = 0; i < evil.info.layout().num_files(); ++i) {
    EXPECT_EQ((*s)->FilePath(i).rfind(save + "/t/", 0), 0u)
        << (*s)->FilePath(i);
  }
  WriteAll(**s, evil);
  ASSERT_TRUE((*s)->DeleteFiles().ok());
  EXPECT_EQ(env_.Contents(env_.root() + "/outer/escape.bin"), "outside 1");
  EXPECT_EQ(env_.Contents(env_.root() + "/escape.bin"), "outside 2");
  EXPECT_EQ(env_.Contents(env_.root() + "/up.bin"), "outside 3");
  EXPECT_EQ(env_.Contents(env_.root() + "/outer/up.bin"), "outside 4");
  for (size_t i = 0; i < evil.info.layout().num_files(); ++i) {
    EXPECT_FALSE(env_.Contents((*s)->FilePath(i)));
  }
}

}  // namespace
}  // namespace bt::storage
