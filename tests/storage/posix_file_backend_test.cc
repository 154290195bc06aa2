// PosixFileBackend's check that a cached descriptor's file still has a
// name: at most once per name_check_interval, and not missed for longer.
#include "storage/posix_file_backend.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/storage/storage_test_util.h"

namespace bt::storage {
namespace {

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

}  // namespace
}  // namespace bt::storage
