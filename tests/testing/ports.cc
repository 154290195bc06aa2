#include "tests/testing/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace bt::testing {

namespace fs = std::filesystem;

namespace {

// SocketInodes returns the inodes of the sockets process `pid` has open.
absl::flat_hash_set<uint64_t> SocketInodes(pid_t pid) {
  absl::flat_hash_set<uint64_t> inodes;
  std::error_code ec;
  for (const fs::directory_entry& fd :
       fs::directory_iterator(absl::StrFormat("/proc/%d/fd", pid), ec)) {
    const std::string target = fs::read_symlink(fd.path(), ec).string();
    uint64_t inode = 0;
    if (!ec && target.starts_with("socket:[") && target.ends_with("]") &&
        absl::SimpleAtoi(target.substr(8, target.size() - 9), &inode)) {
      inodes.insert(inode);
    }
  }
  return inodes;
}

// SocketsOnPort returns the inodes of this network namespace's sockets on
// `port` (any local address, IPv4 or IPv6): for SOCK_STREAM those
// listening there, for SOCK_DGRAM those bound there. Read from /proc/net,
// it disturbs no program about to bind the port (a probing bind would).
absl::flat_hash_set<uint64_t> SocketsOnPort(int type, uint16_t port) {
  absl::flat_hash_set<uint64_t> found;
  const bool tcp = type == SOCK_STREAM;
  for (const char* table :
       tcp ? std::array{"/proc/net/tcp", "/proc/net/tcp6"}
           : std::array{"/proc/net/udp", "/proc/net/udp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      // sl local_address rem_address st queues timer retransmits uid
      // timeout inode: addresses as hex "ADDR:PORT", the state in hex.
      const std::vector<absl::string_view> f =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      uint32_t local_port = 0, state = 0;
      uint64_t inode = 0;
      if (f.size() < 10 || f[1].size() < 5 ||
          !absl::SimpleHexAtoi(f[1].substr(f[1].size() - 4), &local_port) ||
          !absl::SimpleHexAtoi(f[3], &state) ||
          !absl::SimpleAtoi(f[9], &inode)) {
        continue;
      }
      constexpr uint32_t kTcpListen = 0x0A;
      if (local_port == port && (!tcp || state == kTcpListen)) {
        found.insert(inode);
      }
    }
  }
  return found;
}

// HeldByAnother reports whether a process other than `pid` holds `port`
// for `type`, as HoldsPort counts holding.
bool HeldByAnother(pid_t pid, int type, uint16_t port) {
  const absl::flat_hash_set<uint64_t> own = SocketInodes(pid);
  for (uint64_t inode : SocketsOnPort(type, port)) {
    if (!own.contains(inode)) return true;
  }
  return false;
}

}  // namespace

sockaddr_in LoopbackAddress(uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(port);
  return sin;
}

bool HoldsPort(pid_t pid, int type, uint16_t port) {
  const absl::flat_hash_set<uint64_t> own = SocketInodes(pid);
  for (uint64_t inode : SocketsOnPort(type, port)) {
    if (own.contains(inode)) return true;
  }
  return false;
}

uint16_t FreePort(int type) {
  int fd = socket(AF_INET, type, 0);
  sockaddr_in sin = LoopbackAddress(0);
  bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
  socklen_t len = sizeof(sin);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  close(fd);
  return ntohs(sin.sin_port);
}

bool TcpPortOpen(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin = LoopbackAddress(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0;
  close(fd);
  return ok;
}

bool WaitForTcpPort(uint16_t port, absl::Time deadline) {
  while (!TcpPortOpen(port)) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return true;
}

absl::StatusOr<ListeningProcess> StartListening(
    const std::function<std::vector<std::string>(uint16_t port)>& argv_for,
    const ListenOptions& options) {
  std::string last = "never started";
  for (int attempt = 0; attempt < 5; ++attempt) {
    ListeningProcess p;
    p.port = FreePort(SOCK_STREAM);
    // A UDP port already taken would be waited on for all of `patience`.
    for (int pick = 0; options.udp_too && pick < 20 &&
                       !SocketsOnPort(SOCK_DGRAM, p.port).empty();
         ++pick) {
      p.port = FreePort(SOCK_STREAM);
    }
    const std::vector<std::string> argv = argv_for(p.port);
    absl::StatusOr<std::unique_ptr<Subprocess>> started =
        Subprocess::Start(argv);
    if (!started.ok()) return started.status();
    p.process = *std::move(started);
    const pid_t pid = p.process->pid();
    auto holds = [&] {
      return HoldsPort(pid, SOCK_STREAM, p.port) &&
             (!options.udp_too || HoldsPort(pid, SOCK_DGRAM, p.port));
    };
    const absl::Time deadline = absl::Now() + options.patience;
    while (!holds()) {
      if (absl::StatusOr<int> exited = p.process->Wait(absl::Now());
          exited.ok()) {
        last = absl::StrFormat("exited with status %d", *exited);
        break;
      }
      // Checked in this order, a connection accepted by the program itself
      // shows as its own.
      if (TcpPortOpen(p.port) && !HoldsPort(pid, SOCK_STREAM, p.port)) {
        last = "another process accepts on its port";
        break;
      }
      if (options.udp_too && HeldByAnother(pid, SOCK_DGRAM, p.port)) {
        last = "another process holds its UDP port";
        break;
      }
      if (absl::Now() > deadline) {
        last = absl::StrFormat("did not hold its port within %s",
                               absl::FormatDuration(options.patience));
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (holds()) return p;
  }
  return absl::UnavailableError(
      absl::StrFormat("%s on a free port: %s", argv_for(0)[0], last));
}

}  // namespace bt::testing
