#include "tests/testing/files.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/statusor.h"
#include "base/file_util.h"
#include "gtest/gtest.h"

namespace bt::testing {

std::string ReadFileOrDie(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFileToString(path, kMaxTestFileSize);
  if (!bytes.ok()) {
    ADD_FAILURE() << bytes.status();
    return "";
  }
  return *std::move(bytes);
}

int UnlinkedFileOrDie(const std::string& content) {
  char path[] = "/tmp/btkit_test_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) {
    ADD_FAILURE() << "mkstemp: " << std::strerror(errno);
    return -1;
  }
  unlink(path);
  if (pwrite(fd, content.data(), content.size(), 0) !=
      static_cast<ssize_t>(content.size())) {
    ADD_FAILURE() << "writing " << content.size() << " bytes to a temporary file";
  }
  return fd;
}

}  // namespace bt::testing
