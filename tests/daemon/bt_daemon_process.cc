#include "tests/daemon/bt_daemon_process.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/file_util.h"

namespace bt::daemon {
namespace {

constexpr size_t kMaxOutput = size_t{64} << 20;

std::string ReadOrEmpty(const std::string& path) {
  return ReadFileToString(path, kMaxOutput).value_or("");
}

}  // namespace

absl::StatusOr<BtDaemonProcess> StartBtDaemon(
    const std::string& state_dir, const std::string& download_dir,
    const std::string& stderr_path, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {
      kBtPath,          "daemon",     "--state-dir", state_dir,
      "--download-dir", download_dir, "--rpc-bind",  "127.0.0.1:0",
      "--bind",         "127.0.0.1",  "--no-dht",    "--no-lsd"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  absl::StatusOr<std::unique_ptr<testing::Subprocess>> p =
      testing::Subprocess::Start(
          argv, {.stdout_path = "", .stderr_path = stderr_path});
  if (!p.ok()) return p.status();
  BtDaemonProcess d;
  d.process = std::move(*p);
  const std::string marker = "RPC at http://127.0.0.1:";
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    const std::string said = ReadOrEmpty(stderr_path);
    const size_t at = said.find(marker);
    const size_t digits = at + marker.size();
    const size_t slash =
        at == std::string::npos ? std::string::npos : said.find('/', digits);
    if (slash != std::string::npos) {
      int port = 0;
      if (!absl::SimpleAtoi(said.substr(digits, slash - digits), &port)) {
        return absl::InternalError(absl::StrCat("bt daemon said: ", said));
      }
      d.port = static_cast<uint16_t>(port);
      return d;
    }
    if (d.process->Wait(absl::Now()).ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("bt daemon exited: ", said));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "bt daemon did not say where its RPC is: ", ReadOrEmpty(stderr_path)));
}

int RunToEnd(const std::vector<std::string>& argv,
             const testing::Subprocess::Output& output, absl::Time deadline) {
  absl::StatusOr<std::unique_ptr<testing::Subprocess>> p =
      testing::Subprocess::Start(argv, output);
  if (!p.ok()) return -1;
  return (*p)->Wait(deadline).value_or(-1);  // a late one is killed as `p` goes
}

RemoteResult RunRemote(uint16_t port, const std::vector<std::string>& args,
                       const std::string& stdout_path) {
  std::vector<std::string> argv = {kRemotePath,
                                   absl::StrCat("127.0.0.1:", port)};
  argv.insert(argv.end(), args.begin(), args.end());
  RemoteResult r;
  r.status = RunToEnd(argv, {.stdout_path = stdout_path, .stderr_path = ""},
                      absl::Now() + absl::Seconds(30));
  r.out = ReadOrEmpty(stdout_path);
  return r;
}

}  // namespace bt::daemon
