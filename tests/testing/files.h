// Test-only: whole files read back from disk inside a test, with a failure
// recorded (not a crash) when the file cannot be read; and nameless files
// holding given bytes.
//
//   EXPECT_EQ(bt::testing::ReadFileOrDie(dl + "/a.bin"),
//             bt::testing::ReadFileOrDie(seed + "/a.bin"));
//   int fd = bt::testing::UnlinkedFileOrDie("some bytes");  // close(fd)
#ifndef TESTS_TESTING_FILES_H_
#define TESTS_TESTING_FILES_H_

#include <cstddef>
#include <string>

namespace bt::testing {

// kMaxTestFileSize is the largest file ReadFileOrDie reads.
inline constexpr size_t kMaxTestFileSize = size_t{1} << 30;

// ReadFileOrDie returns the bytes of the file at `path`. If it cannot be
// read (missing, larger than kMaxTestFileSize, an I/O error) it records a
// GoogleTest failure naming the file and the reason, and returns "".
std::string ReadFileOrDie(const std::string& path);

// UnlinkedFileOrDie returns the descriptor of a new file in /tmp holding
// `content`, already unlinked (it goes when the descriptor is closed); on
// failure it records a GoogleTest failure and returns -1.
int UnlinkedFileOrDie(const std::string& content);

}  // namespace bt::testing

#endif  // TESTS_TESTING_FILES_H_
