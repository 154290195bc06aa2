#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/file_util.h"

namespace bt::testing {
namespace {

// Files waited for are small: ports, status lines.
constexpr size_t kMaxWaitedFile = size_t{1} << 20;

// OpenOutput opens `path` for a child's output stream (-1 for "": the
// stream is inherited). Close-on-exec: only the dup2'd copy survives.
absl::StatusOr<int> OpenOutput(const std::string& path) {
  if (path.empty()) return -1;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoToStatus(errno, "open " + path);
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(
    const std::vector<std::string>& argv, const Output& output) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  absl::StatusOr<int> out = OpenOutput(output.stdout_path);
  if (!out.ok()) return out.status();
  absl::StatusOr<int> err = OpenOutput(output.stderr_path);
  if (!err.ok()) {
    if (*out >= 0) close(*out);
    return err.status();
  }
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    if (*out >= 0) dup2(*out, 1);
    if (*err >= 0) dup2(*err, 2);
    execv(args[0], args.data());
    _exit(127);
  }
  const int fork_errno = errno;
  for (int fd : {*out, *err}) {
    if (fd >= 0) close(fd);
  }
  if (pid < 0) return absl::InternalError(std::strerror(fork_errno));
  setpgid(pid, pid);
  return std::unique_ptr<Subprocess>(new Subprocess(pid));
}

Subprocess::~Subprocess() {
  if (status_) return;
  Kill(SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
}

void Subprocess::Kill(int signal) {
  if (!status_) kill(-pid_, signal);
}

absl::StatusOr<int> Subprocess::Wait(absl::Time deadline) {
  while (!status_) {
    int status;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(status) ? WEXITSTATUS(status)
                                  : 128 + WTERMSIG(status);
      // Anything it started in its group goes too.
      kill(-pid_, SIGKILL);
      break;
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrFormat("process %d still running", pid_));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return *status_;
}

absl::StatusOr<std::string> WaitForFile(const std::string& path,
                                        absl::Time deadline) {
  while (absl::Now() < deadline) {
    absl::StatusOr<std::string> s = ReadFileToString(path, kMaxWaitedFile);
    if (s.ok() && !s->empty()) return s;
    if (!s.ok() && !absl::IsNotFound(s.status())) return s.status();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrFormat("no file %s", path));
}

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrFormat("%s/%s_%d", base ? base : "/tmp", name,
                                    ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace bt::testing
