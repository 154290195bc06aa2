// bt: btkit's command-line tool. `bt help` lists the commands, which
// register themselves (client/cli/command.h); BUILD links them in.
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "client/cli/command.h"

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which turns on absl::Mutex's
  // deadlock detection: every lock then walks a lock-order graph holding a
  // node per mutex ever locked. With 10,000 torrents that graph alone took
  // about 10 MiB. The tests keep it on; the tool does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return bt::client::cli::Main(std::vector<std::string>(argv + 1, argv + argc));
}
