// PosixFileBackend on real files: its check that a cached descriptor's
// file still has a name (at most once per name_check_interval, and not
// missed for longer), gather writes and scatter reads, reads that never
// wait for the device, the bound on cached descriptors, mapped visits that
// survive the file's truncation, and atomic replacement.
#include "storage/posix_file_backend.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/storage/storage_test_util.h"
#include "tests/testing/files.h"

namespace bt::storage {
namespace {

using ::bt::testing::ReadFileOrDie;
using testing::FileExists;
using testing::Pattern;
using testing::TempDir;

ByteSpan Bytes(std::string_view s) { return AsBytes(s); }

TEST(PosixFileBackendTest, ARemovedFileIsNoticedWithinTheCheckInterval) {
  TempDir dir;
  const std::string path = dir.path() + "/a";
  const absl::Duration interval = absl::Milliseconds(100);
  PosixFileBackend disk({.name_check_interval = interval});
  ASSERT_TRUE(disk.Write(path, 0, Bytes("first"), /*create=*/true).ok());
  ASSERT_EQ(unlink(path.c_str()), 0);
  const absl::Time removed = absl::Now();
  // Within the interval the cached descriptor is used unchecked; after it,
  // the write is refused rather than lost in the unlinked file.
  absl::Status st;
  do {
    st = disk.Write(path, 0, Bytes("second"), /*create=*/false);
  } while (st.ok() && absl::Now() - removed < 10 * interval);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find("removed"), std::string_view::npos) << st;
}

// WriteGather writes its parts in order in as many pwritev calls as it
// takes: more parts than one call takes (IOV_MAX), empty ones among them.
TEST(PosixFileBackendTest, WriteGatherWritesThePartsInOrder) {
  TempDir dir;
  const std::string path = dir.path() + "/a";
  PosixFileBackend disk;
  std::vector<std::string> texts;
  std::string all;
  for (int i = 0; i < 3000; ++i) {
    texts.push_back(i % 7 == 0 ? "" : std::string(1 + i % 13, 'a' + i % 26));
    all += texts.back();
  }
  std::vector<ByteSpan> parts;
  for (const std::string& t : texts) parts.push_back(Bytes(t));
  ASSERT_TRUE(disk.WriteGather(path, 5, parts, /*create=*/true).ok());
  std::string got(all.size() + 5, '?');
  absl::StatusOr<size_t> n = disk.Read(
      path, 0,
      MutableByteSpan(reinterpret_cast<uint8_t*>(got.data()), got.size()));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, all.size() + 5);
  EXPECT_EQ(got, std::string(5, '\0') + all);
}

// ReadScatter fills its parts in order and stops where the file ends.
TEST(PosixFileBackendTest, ReadScatterFillsThePartsUpToTheEnd) {
  TempDir dir;
  const std::string path = dir.path() + "/a";
  PosixFileBackend disk;
  std::string content;
  for (int i = 0; i < 5000; ++i) content += static_cast<char>('a' + i % 26);
  ASSERT_TRUE(disk.Write(path, 0, Bytes(content), /*create=*/true).ok());
  std::string out(6000, '?');
  std::vector<MutableByteSpan> parts;
  for (size_t at = 0; at < out.size(); at += 3) {
    parts.push_back(
        MutableByteSpan(reinterpret_cast<uint8_t*>(out.data()) + at, 3));
  }
  absl::StatusOr<size_t> n = disk.ReadScatter(path, 10, parts);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, content.size() - 10);
  EXPECT_EQ(out.substr(0, *n), content.substr(10));
  EXPECT_EQ(out.substr(*n), std::string(out.size() - *n, '?'));
  EXPECT_EQ(disk.ReadScatter(dir.path() + "/missing", 0, parts).status().code(),
            absl::StatusCode::kNotFound);
}

// ReadScatterCached reads only from files already open and only what the
// page cache holds: nothing of a file not open yet (and it does not open
// it), all of one just written, and not the pages dropped from the cache.
TEST(PosixFileBackendTest, ReadScatterCachedReadsOnlyWhatIsInMemory) {
  TempDir dir;
  const std::string path = dir.path() + "/a";
  std::string content(256 * 1024, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = 'a' + i % 23;
  {
    PosixFileBackend writer;
    ASSERT_TRUE(writer.Write(path, 0, Bytes(content), /*create=*/true).ok());
  }
  int opens = 0;  // outlives the backend, whose closes report to it
  PosixFileBackend disk;
  disk.SetOpenObserver(
      [&](const std::string&, bool opened, OpenMode) { opens += opened; });
  std::string out(content.size(), '?');
  const MutableByteSpan all(reinterpret_cast<uint8_t*>(out.data()), out.size());
  absl::StatusOr<size_t> n =
      disk.ReadScatterCached(path, 0, absl::MakeConstSpan(&all, 1));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0u) << "read a file that was not open";
  EXPECT_EQ(opens, 0) << "opened a file, which may wait for the device";

  // Open (a one-byte read); the whole file is in the page cache.
  uint8_t one;
  ASSERT_TRUE(disk.Read(path, 0, MutableByteSpan(&one, 1)).ok());
  const MutableByteSpan halves[] = {all.subspan(0, 100 * 1024),
                                    all.subspan(100 * 1024)};
  n = disk.ReadScatterCached(path, 0, halves);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, content.size());
  EXPECT_EQ(out, content);

  // Its pages written back and dropped, the first read stops short.
  struct statfs fs;
  ASSERT_EQ(statfs(dir.path().c_str(), &fs), 0);
  if (fs.f_type == TMPFS_MAGIC) GTEST_SKIP() << "tmpfs keeps every page";
  const int fd = open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fdatasync(fd), 0);
  ASSERT_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  close(fd);
  n = disk.ReadScatterCached(path, 0, absl::MakeConstSpan(&all, 1));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_LT(*n, content.size());
}

TEST(PosixFileBackendTest, AZeroIntervalChecksEveryUse) {
  TempDir dir;
  const std::string path = dir.path() + "/a";
  PosixFileBackend disk({.name_check_interval = absl::ZeroDuration()});
  ASSERT_TRUE(disk.Write(path, 0, Bytes("first"), /*create=*/true).ok());
  ASSERT_EQ(unlink(path.c_str()), 0);
  EXPECT_EQ(disk.Write(path, 0, Bytes("second"), /*create=*/false).code(),
            absl::StatusCode::kDataLoss);
  // Creation allowed: the file is made afresh, not written unlinked.
  ASSERT_TRUE(disk.Write(path, 0, Bytes("third"), /*create=*/true).ok());
  EXPECT_EQ(access(path.c_str(), F_OK), 0);
}

TEST(PosixFileBackendTest, DescriptorCacheIsBounded) {
  TempDir dir;
  PosixFileBackend disk({.max_open_files = 2});
  int opens = 0, closes = 0;
  disk.SetOpenObserver([&](const std::string&, bool opened, OpenMode) {
    (opened ? opens : closes)++;
  });
  std::string data = "hello";
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 5; ++i) {
      std::string path = dir.path() + "/d" + std::to_string(i) + "/f";
      ASSERT_TRUE(disk.Write(path, i, AsBytes(data), true).ok());
      EXPECT_LE(disk.open_files(), 2u);
    }
  }
  EXPECT_EQ(opens, 10);
  EXPECT_EQ(closes, 8);
  // A reused descriptor: no new open.
  std::string last = dir.path() + "/d4/f";
  ASSERT_TRUE(disk.Write(last, 0, AsBytes(data), false).ok());
  EXPECT_EQ(opens, 10);
  uint8_t buf[16];
  auto n = disk.Read(last, 0, MutableByteSpan(buf, sizeof buf));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 9u);
  disk.CloseAll();
  EXPECT_EQ(closes, 10);
  EXPECT_EQ(disk.open_files(), 0u);
  EXPECT_EQ(disk.Read(dir.path() + "/nope", 0, MutableByteSpan(buf, 1))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(PosixFileBackendTest, VisitMapsAndSurvivesTruncation) {
  TempDir dir;
  PosixFileBackend disk({.map_reads = true});
  std::string path = dir.path() + "/big";
  std::string data = Pattern(3 << 20, 7);
  testing::WriteFileOrDie(path, data);
  std::string seen;
  auto n = disk.Visit(path, 1000, 2 << 20,
                      [&](ByteSpan b) { seen.append(AsChars(b)); });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2 << 20);
  EXPECT_TRUE(seen == data.substr(1000, 2 << 20));
  // Past the end: only what is there.
  n = disk.Visit(path, (3 << 20) - 10, 100, [](ByteSpan) {});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 10);
  // The file shrinks while mapped: touching the lost pages raises SIGBUS,
  // which must become an error, not a crash.
  volatile uint8_t sink = 0;
  n = disk.Visit(path, 0, 3 << 20, [&](ByteSpan b) {
    ASSERT_EQ(truncate(path.c_str(), 0), 0);
    for (size_t i = 0; i < b.size(); i += 4096) sink = sink + b[i];
  });
  EXPECT_EQ(n.status().code(), absl::StatusCode::kDataLoss) << n.status();
  // Later visits work normally.
  testing::WriteFileOrDie(path, data);
  n = disk.Visit(path, 0, 10, [](ByteSpan) {});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 10);
  PosixFileBackend copying;
  seen.clear();
  n = copying.Visit(path, 5, 1 << 20,
                    [&](ByteSpan b) { seen.append(AsChars(b)); });
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(seen == data.substr(5, 1 << 20));
}

TEST(PosixFileBackendTest, ReplaceFileAtomically) {
  TempDir dir;
  PosixFileBackend disk;
  std::string path = dir.path() + "/x/resume";
  ASSERT_TRUE(disk.ReplaceFileAtomically(path, "one").ok());
  ASSERT_TRUE(disk.ReplaceFileAtomically(path, "two!").ok());
  EXPECT_EQ(ReadFileOrDie(path), "two!");
  EXPECT_FALSE(FileExists(path + ".tmp"));
  auto st = disk.Stat(path);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 4);
  EXPECT_GT(st->mtime_ns, 0);
  EXPECT_EQ(disk.ReadWholeFile(path, 3).status().code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace bt::storage
