#include "tests/testing/netns.h"

#include <errno.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/testing/subprocess.h"

namespace bt::testing {
namespace {

absl::Status WriteProcFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.close();
  if (!f) {
    return absl::UnavailableError(absl::StrFormat("writing %s failed", path));
  }
  return absl::OkStatus();
}

// Unshare: the network namespace alone (root), else with a user namespace
// mapping us to root inside it.
absl::Status Unshare() {
  if (unshare(CLONE_NEWNET) == 0) return absl::OkStatus();
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
    return absl::UnavailableError(absl::StrFormat(
        "cannot make a network namespace: %s", std::strerror(errno)));
  }
  absl::Status s = WriteProcFile("/proc/self/setgroups", "deny");
  if (s.ok()) {
    s = WriteProcFile("/proc/self/uid_map", absl::StrFormat("0 %d 1", uid));
  }
  if (s.ok()) {
    s = WriteProcFile("/proc/self/gid_map", absl::StrFormat("0 %d 1", gid));
  }
  return s;
}

absl::Status Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/sbin/ip"};
  if (access(argv[0].c_str(), X_OK) != 0) argv[0] = "/sbin/ip";
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(argv);
  if (!p.ok()) return p.status();
  absl::StatusOr<int> code = (*p)->Wait(absl::Now() + absl::Seconds(10));
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::UnavailableError(absl::StrFormat(
        "'%s' exited with %d", absl::StrJoin(argv, " "), *code));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnterPrivateNetwork() {
  if (absl::Status s = Unshare(); !s.ok()) return s;
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"link", "set", "lo", "up", "multicast", "on"},
           {"route", "add", "239.0.0.0/8", "dev", "lo"},
           {"link", "add", "btns0", "type", "veth", "peer", "name", "btns1"},
           {"link", "set", "btns0", "up"},
           {"link", "set", "btns1", "up"},
           {"-6", "addr", "add", std::string(kPrivateIpv6) + "/64", "dev",
            "btns0", "nodad"},
           {"-6", "route", "add", "ff00::/8", "dev", "btns0", "table",
            "local"}}) {
    if (absl::Status s = Ip(args); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace bt::testing
