// Test-only: `bt daemon` (the test's own build, from client/cli:bt in the
// runfiles) as a process on loopback with its RPC on a port it picks, and
// Debian's transmission-remote run against it with its output kept.
//
//   ASSIGN_OR_RETURN(BtDaemonProcess d,
//                    StartBtDaemon(root + "/state", root + "/dl",
//                                  root + "/daemon.err"));
//   RemoteResult r = RunRemote(d.port, {"-l"}, root + "/remote.out");
//   EXPECT_EQ(r.status, 0);
#ifndef TESTS_DAEMON_BT_DAEMON_PROCESS_H_
#define TESTS_DAEMON_BT_DAEMON_PROCESS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/testing/subprocess.h"

namespace bt::daemon {

inline constexpr char kBtPath[] = "client/cli/bt";
inline constexpr char kRemotePath[] = "/usr/bin/transmission-remote";

// BtDaemonProcess is a running `bt daemon` and the port of its RPC; the
// process (its whole group) is killed when `process` is destroyed.
struct BtDaemonProcess {
  std::unique_ptr<testing::Subprocess> process;
  uint16_t port = 0;
};

// StartBtDaemon runs `bt daemon --state-dir state --download-dir dl
// --rpc-bind 127.0.0.1:0 --bind 127.0.0.1 --no-dht --no-lsd` and `extra`,
// its stderr to `stderr_path`, and returns once it says where its RPC is.
// Errors: the process could not start, exited (kFailedPrecondition with
// what it said), or said nothing within 30 s (kDeadlineExceeded).
absl::StatusOr<BtDaemonProcess> StartBtDaemon(
    const std::string& state_dir, const std::string& download_dir,
    const std::string& stderr_path, const std::vector<std::string>& extra = {});

// RunToEnd runs `argv` to its end (or kills it at `deadline`) and returns its
// exit status, or -1 if it could not start or did not end in time.
int RunToEnd(const std::vector<std::string>& argv,
             const testing::Subprocess::Output& output, absl::Time deadline);

// RemoteResult is a finished transmission-remote: exit status (-1: it did
// not start or end within 30 s) and its stdout.
struct RemoteResult {
  int status = -1;
  std::string out;
};

// RunRemote runs transmission-remote 127.0.0.1:`port` `args`, its stdout
// written to (and read back from) `stdout_path`.
RemoteResult RunRemote(uint16_t port, const std::vector<std::string>& args,
                       const std::string& stdout_path);

}  // namespace bt::daemon

#endif  // TESTS_DAEMON_BT_DAEMON_PROCESS_H_
