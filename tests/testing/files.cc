#include "tests/testing/files.h"

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

}  // namespace bt::testing
