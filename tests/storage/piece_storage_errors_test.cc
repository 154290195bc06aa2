// PieceStorage when the disk fails it, on both backends: no space and
// permission denied put it in an error state it resumes from, a file
// removed or truncated underneath is noticed rather than written into the
// void, and a check reads past the extents it cannot read.
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_file_backend.h"
#include "storage/piece_storage.h"
#include "tests/storage/backend_env.h"
#include "tests/storage/piece_storage_test_util.h"
#include "tests/storage/storage_test_util.h"

namespace bt::storage {
namespace {

using testing::BackendName;
using testing::FourFiles;
using ::testing::HasSubstr;
using testing::Kind;
using testing::kPiece;
using testing::MakeTestTorrent;
using testing::PieceStorageTest;
using testing::ReadPiece;
using testing::Same;
using testing::Torrent;
using testing::WriteEverything;

using Env = testing::BackendEnv;

INSTANTIATE_TEST_SUITE_P(Backends, PieceStorageTest, ::testing::Bool(),
                         BackendName);

TEST_P(PieceStorageTest, NoSpaceIsAnErrorStateAndResumable) {
  Env env(GetParam());
  Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, Kind::kV1);
  std::vector<StorageEvent> errors;
  StorageOptions opts;
  opts.on_event = [&](const StorageEvent& e) {
    if (e.type == StorageEventType::kFileError) errors.push_back(e);
  };
  auto s =
      PieceStorage::Create(t.info, env.root(), env.backend(), std::move(opts));
  ASSERT_TRUE(s.ok());
  std::string full_path = (*s)->FilePath(3);
  if (GetParam()) {
    // A file that is a link to /dev/full fails every write with ENOSPC.
    ASSERT_EQ(mkdir((env.root() + "/album").c_str(), 0755), 0);
    ASSERT_EQ(symlink("/dev/full", full_path.c_str()), 0);
  } else {
    env.mem()->set_capacity(1000);
  }
  std::string_view last = std::string_view(t.piece_space).substr(4 * kPiece);
  absl::Status st = (*s)->WriteBlock(4, 0, AsBytes(last));
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_EQ((*s)->error().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ((*s)->error_file(), 3u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("No space left on device"));
  // Refused while in the error state.
  EXPECT_EQ((*s)->WriteBlock(0, 0, AsBytes(last.substr(0, 10))).code(),
            absl::StatusCode::kFailedPrecondition);
  // The cause goes away; the torrent resumes.
  if (GetParam()) {
    ASSERT_EQ(unlink(full_path.c_str()), 0);
  } else {
    env.mem()->set_capacity(std::nullopt);
  }
  (*s)->ClearError();
  ASSERT_TRUE((*s)->WriteBlock(4, 0, AsBytes(last)).ok());
  EXPECT_TRUE(Same(ReadPiece(s->get(), t, 4), last));
}

TEST_P(PieceStorageTest, PermissionDeniedIsAnErrorState) {
  Env env(GetParam());
  Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, Kind::kV1);
  auto s = PieceStorage::Create(t.info, env.root(), env.backend());
  ASSERT_TRUE(s.ok());
  std::string path = (*s)->FilePath(0);
  if (GetParam()) {
    // root ignores permission bits, but not the immutable-looking trick of
    // a directory where a file should be: use a read-only file instead.
    if (geteuid() == 0) {
      // Writing into a directory path fails with EISDIR for root too.
      ASSERT_EQ(mkdir((env.root() + "/album").c_str(), 0755), 0);
      ASSERT_EQ(mkdir(path.c_str(), 0755), 0);
    } else {
      ASSERT_EQ(chmod(env.root().c_str(), 0500), 0);
    }
  } else {
    env.mem()->DenyWrites(path, true);
  }
  absl::Status st = (*s)->WriteBlock(
      0, 0, AsBytes(std::string_view(t.piece_space).substr(0, 100)));
  EXPECT_FALSE(st.ok());
  if (!GetParam()) {
    EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  }
  EXPECT_THAT(std::string((*s)->error().message()), HasSubstr(path));
  if (GetParam()) {
    if (geteuid() == 0) {
      ASSERT_EQ(rmdir(path.c_str()), 0);
    } else {
      ASSERT_EQ(chmod(env.root().c_str(), 0755), 0);
    }
  } else {
    env.mem()->DenyWrites(path, false);
  }
  (*s)->ClearError();
  EXPECT_TRUE(
      (*s)->WriteBlock(0, 0,
                       AsBytes(std::string_view(t.piece_space).substr(0, 100)))
          .ok());
}

TEST_P(PieceStorageTest, FileRemovedOrTruncatedUnderneath) {
  Env env(GetParam());
  Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, Kind::kV1);
  std::vector<StorageEvent> errors;
  StorageOptions opts;
  opts.on_event = [&](const StorageEvent& e) {
    if (e.type == StorageEventType::kFileError) errors.push_back(e);
  };
  auto s =
      PieceStorage::Create(t.info, env.root(), env.backend(), std::move(opts));
  ASSERT_TRUE(s.ok());
  WriteEverything(s->get(), t, 16384);
  std::string c = (*s)->FilePath(2);
  // Removed while its descriptor is cached: writes must not vanish into
  // the unlinked file.
  if (GetParam()) {
    ASSERT_EQ(unlink(c.c_str()), 0);
  } else {
    ASSERT_TRUE(env.mem()->Remove(c).ok());
  }
  std::string_view p2 =
      std::string_view(t.piece_space).substr(2 * kPiece, kPiece);
  absl::Status st = (*s)->WriteBlock(2, 0, AsBytes(p2));
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("removed"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file_index, 2u);
  (*s)->ClearError();
  // Truncated underneath: reading what should be there fails cleanly.
  std::string d = (*s)->FilePath(3);
  if (GetParam()) {
    ASSERT_EQ(truncate(d.c_str(), 100), 0);
  } else {
    env.mem()->SetContents(d, FourFiles()[3].data.substr(0, 100));
  }
  std::string buf(t.info.layout().PieceSize(4), '\0');
  st = (*s)->ReadBlock(
      4, 0,
      MutableByteSpan(reinterpret_cast<uint8_t*>(buf.data()), buf.size()));
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("truncated"));
  EXPECT_EQ(errors.size(), 2u);
  // Missing file on read: kNotFound, an error state too.
  (*s)->ClearError();
  st = (*s)->ReadBlock(
      2, 0, MutableByteSpan(reinterpret_cast<uint8_t*>(buf.data()), 100));
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound) << st;
  // After the fix (data rewritten) everything reads again.
  (*s)->ClearError();
  WriteEverything(s->get(), t, 16384);
  for (uint32_t p = 0; p < 5; ++p) {
    EXPECT_TRUE(Same(ReadPiece(s->get(), t, p),
                     t.piece_space.substr(p * kPiece, kPiece)));
  }
}

TEST_P(PieceStorageTest, ReadForCheckReportsUnreadableExtents) {
  Env env(GetParam());
  Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, Kind::kV1);
  auto s = PieceStorage::Create(t.info, env.root(), env.backend());
  ASSERT_TRUE(s.ok());
  // Only a.bin and d.bin exist.
  std::string_view space = t.piece_space;
  ASSERT_TRUE((*s)->WriteBlock(0, 0, AsBytes(space.substr(0, 10000))).ok());
  ASSERT_TRUE((*s)->WriteBlock(
                      3, 50005 - 3 * kPiece,
                      AsBytes(space.substr(50005, 3 * kPiece - 50005 + kPiece)))
                  .ok());
  ASSERT_TRUE((*s)->WriteBlock(4, 0, AsBytes(space.substr(4 * kPiece))).ok());
  std::string buf(70005, 'x');
  auto bad = (*s)->ReadForCheck(
      0, 0,
      MutableByteSpan(reinterpret_cast<uint8_t*>(buf.data()), buf.size()));
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_THAT(*bad,
              ::testing::ElementsAre(Extent{10000, 5}, Extent{10005, 40000}));
  EXPECT_TRUE(Same(buf.substr(0, 10000), space.substr(0, 10000)));
  EXPECT_TRUE(Same(buf.substr(10000, 40005), std::string(40005, '\0')));
  EXPECT_TRUE(Same(buf.substr(50005), space.substr(50005)));
  EXPECT_TRUE((*s)->error().ok());
  EXPECT_FALSE(
      (*s)->ReadForCheck(4, 1,
                         MutableByteSpan(reinterpret_cast<uint8_t*>(buf.data()),
                                         70005 - 4 * kPiece))
          .ok());
}

}  // namespace
}  // namespace bt::storage
