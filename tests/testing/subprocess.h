// Test-only: runs an external program (a real peer, a tracker) in its own
// process group and guarantees it is gone when the test is: the destructor
// kills the whole group and reaps it.
//
//   ASSIGN_OR_RETURN(auto peer, bt::testing::Subprocess::Start(
//                                   {"/usr/bin/python3", "peer.py", ...}));
//   ASSIGN_OR_RETURN(std::string port, bt::testing::WaitForFile(path,
//   deadline)); ASSIGN_OR_RETURN(int code, peer->Wait(deadline));
//
// A program whose output the test reads writes it to files instead:
//   Subprocess::Start({"/usr/bin/chromium", ...}, {.stdout_path = dom});
#ifndef TESTS_TESTING_SUBPROCESS_H_
#define TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace bt::testing {

class Subprocess {
 public:
  // Output names files (created or truncated) that take the process's
  // stdout and stderr; "" leaves that stream inherited.
  struct Output {
    std::string stdout_path;
    std::string stderr_path;
  };

  // Start runs argv[0] (a path) with `argv`; stdin is /dev/null, stdout and
  // stderr are inherited (they land in the test log) unless `output` names
  // files for them. Fails if a file of `output` cannot be opened.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      const std::vector<std::string>& argv, const Output& output = {});
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Wait returns the exit status (128 + signal if killed), or
  // kDeadlineExceeded if it is still running at `deadline`.
  absl::StatusOr<int> Wait(absl::Time deadline);
  // Kill sends `signal` to the process group.
  void Kill(int signal);
  pid_t pid() const { return pid_; }

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  std::optional<int> status_;
};

// WaitForFile returns the contents of `path` once it exists and is not
// empty, or kDeadlineExceeded.
absl::StatusOr<std::string> WaitForFile(const std::string& path,
                                        absl::Time deadline);

// TempDir is a fresh directory under $TEST_TMPDIR (or /tmp) named after
// `name` and the process id.
std::string TempDir(const std::string& name);

}  // namespace bt::testing

#endif  // TESTS_TESTING_SUBPROCESS_H_
