#include "base/file_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace bt {
namespace {

namespace fs = std::filesystem;

class FileUtilTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = fs::path(tmp ? tmp : "/tmp") /
           ("file_util_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    fs::permissions(dir_, fs::perms::owner_all);
    fs::remove_all(dir_);
  }
  std::string Path(const std::string& name) const { return dir_ / name; }

  fs::path dir_;
};

TEST_F(FileUtilTest, WriteThenReadRoundTrips) {
  const std::string path = Path("state");
  std::string data(200000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(WriteFileAtomically(path, data).ok());
  absl::StatusOr<std::string> back = ReadFileToString(path, data.size());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, data);
  // An empty file reads as "".
  ASSERT_TRUE(WriteFileAtomically(path, "").ok());
  back = ReadFileToString(path, 0);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, "");
}

TEST_F(FileUtilTest, WriteReplacesAndLeavesNoTemporaryFile) {
  const std::string path = Path("state");
  ASSERT_TRUE(WriteFileAtomically(path, "one").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two!").ok());
  EXPECT_EQ(*ReadFileToString(path, 100), "two!");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), {}), 1);
}

TEST_F(FileUtilTest, WriteUsesTheGivenMode) {
  const std::string path = Path("private");
  const mode_t old_mask = ::umask(022);
  ASSERT_TRUE(WriteFileAtomically(path, "x", 0600).ok());
  ::umask(old_mask);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(FileUtilTest, WriteFailureKeepsTheOldFile) {
  const std::string path = Path("state");
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  // A directory in the temporary file's place makes the write fail.
  fs::create_directory(path + ".tmp");
  absl::Status s = WriteFileAtomically(path, "new");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path + ".tmp"), std::string::npos) << s;
  EXPECT_EQ(*ReadFileToString(path, 100), "old");
}

TEST_F(FileUtilTest, WriteIntoAMissingDirectoryIsNotFound) {
  const std::string path = Path("no/such/dir/state");
  absl::Status s = WriteFileAtomically(path, "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_NE(s.message().find(path), std::string::npos) << s;
}

TEST_F(FileUtilTest, ReadOfAMissingFileIsNotFound) {
  const std::string path = Path("missing");
  absl::StatusOr<std::string> r = ReadFileToString(path, 100);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status();
}

TEST_F(FileUtilTest, ReadAboveTheLimitIsResourceExhausted) {
  const std::string path = Path("big");
  ASSERT_TRUE(WriteFileAtomically(path, std::string(100001, 'a')).ok());
  EXPECT_TRUE(ReadFileToString(path, 100001).ok());
  absl::StatusOr<std::string> r = ReadFileToString(path, 100000);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status();
}

TEST_F(FileUtilTest, ReadOfAFileWithoutASizeStillHonoursTheLimit) {
  // /proc files report size 0: only reading finds out how long they are.
  EXPECT_TRUE(ReadFileToString("/proc/self/status", 1 << 20).ok());
  EXPECT_EQ(ReadFileToString("/proc/self/status", 10).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(FileUtilTest, ReadOfADirectoryIsUnavailable) {
  absl::StatusOr<std::string> r = ReadFileToString(dir_, 100);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

TEST_F(FileUtilTest, ReadRefusedIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads everything";
  const std::string path = Path("secret");
  ASSERT_TRUE(WriteFileAtomically(path, "x", 0).ok());
  EXPECT_EQ(ReadFileToString(path, 100).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(ErrnoToStatusTest, MapsFileErrorsToStatusCodes) {
  EXPECT_EQ(ErrnoToStatus(ENOENT, "open x").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToStatus(ENOSPC, "write x").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToStatus(EROFS, "write x").code(),
            absl::StatusCode::kPermissionDenied);
  absl::Status s = ErrnoToStatus(EIO, "read /a/b");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "read /a/b: Input/output error");
}

}  // namespace
}  // namespace bt
