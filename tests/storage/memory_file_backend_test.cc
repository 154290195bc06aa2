#include "storage/memory_file_backend.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace bt::storage {
namespace {

absl::StatusOr<std::string> ReadAt(MemoryFileBackend& mem,
                                   const std::string& path, int64_t offset,
                                   size_t n) {
  std::string out(n, '\0');
  absl::StatusOr<size_t> got = mem.Read(
      path, offset, MutableByteSpan(reinterpret_cast<uint8_t*>(out.data()), n));
  if (!got.ok()) return got.status();
  out.resize(*got);
  return out;
}

TEST(MemoryFileBackendTest, ReadsWhatWasWritten) {
  MemoryFileBackend mem;
  ASSERT_TRUE(mem.Write("/a", 2, AsBytes(std::string_view("xyz")), true).ok());
  EXPECT_EQ(ReadAt(mem, "/a", 0, 10).value(), std::string("\0\0xyz", 5));
  EXPECT_EQ(ReadAt(mem, "/a", 5, 10).value(), "");
  EXPECT_EQ(ReadAt(mem, "/b", 0, 1).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(MemoryFileBackendTest, FailReadsMakesReadsOfThatFileFail) {
  MemoryFileBackend mem;
  mem.SetContents("/a", "hello");
  mem.SetContents("/b", "world");
  mem.FailReads("/a", true);
  absl::StatusOr<std::string> a = ReadAt(mem, "/a", 1, 3);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(a.status().message().find("/a"), std::string_view::npos);
  EXPECT_EQ(ReadAt(mem, "/b", 0, 5).value(), "world");
  // Writes and the file's other views are unaffected.
  EXPECT_TRUE(mem.Write("/a", 0, AsBytes(std::string_view("J")), false).ok());
  EXPECT_EQ(mem.Contents("/a"), "Jello");
  EXPECT_EQ(mem.ReadWholeFile("/a", 100).value(), "Jello");
  mem.FailReads("/a", false);
  EXPECT_EQ(ReadAt(mem, "/a", 0, 5).value(), "Jello");
}

TEST(MemoryFileBackendTest, FailReadsOfAMissingFileIsStillNotFound) {
  MemoryFileBackend mem;
  mem.FailReads("/gone", true);
  EXPECT_EQ(ReadAt(mem, "/gone", 0, 1).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace bt::storage
