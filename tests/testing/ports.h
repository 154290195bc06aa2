// Test-only loopback ports for programs the tests start: a free port, and
// a program started on one that it is seen to hold. A program told to use
// a port that another process took between choosing and binding it may
// keep running without it (Transmission does, and announces the port
// anyway); a connection cannot tell it from the one that took the port,
// HoldsPort can.
//
//   ASSIGN_OR_RETURN(bt::testing::ListeningProcess peer,
//                    bt::testing::StartListening([](uint16_t port) {
//                      return std::vector<std::string>{..., "--port",
//                                                      absl::StrCat(port)};
//                    }));
//   Dial(peer.port);
#ifndef TESTS_TESTING_PORTS_H_
#define TESTS_TESTING_PORTS_H_

#include <netinet/in.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/subprocess.h"

namespace bt::testing {

// HoldsPort reports whether process `pid` holds a socket on `port` (any
// local address, IPv4 or IPv6, of this network namespace): for SOCK_STREAM
// one listening there, for SOCK_DGRAM one bound there. It reads the
// process's sockets from /proc/<pid>/fd and finds them in /proc/net.
bool HoldsPort(pid_t pid, int type, uint16_t port);

// LoopbackAddress is 127.0.0.1:`port`, to bind or connect a socket to.
sockaddr_in LoopbackAddress(uint16_t port);

// FreePort returns a loopback port that was free for `type` (SOCK_STREAM
// or SOCK_DGRAM) a moment ago.
uint16_t FreePort(int type);

// TcpPortOpen reports whether something accepts connections on
// 127.0.0.1:`port`.
bool TcpPortOpen(uint16_t port);

// WaitForTcpPort polls TcpPortOpen until it is true or `deadline` passes.
bool WaitForTcpPort(uint16_t port, absl::Time deadline);

// ListeningProcess is a program that accepts TCP connections on `port`.
struct ListeningProcess {
  std::unique_ptr<Subprocess> process;
  uint16_t port = 0;
};
struct ListenOptions {
  // How long the program may take to listen before its port is given up.
  absl::Duration patience = absl::Seconds(20);
  // The program must also hold the UDP port of the same number (uTP, a
  // tracker's UDP).
  bool udp_too = false;
};
// StartListening runs the command `argv_for(port)` for a free port and
// returns once the program itself listens there (HoldsPort).
// A port taken between choosing and binding it (the program exits, another
// process accepts on it or, with `udp_too`, holds its UDP port, or the
// program does not hold it within `patience`) is replaced by another, up
// to five times. With `udp_too` the port chosen is free for UDP as well.
absl::StatusOr<ListeningProcess> StartListening(
    const std::function<std::vector<std::string>(uint16_t port)>& argv_for,
    const ListenOptions& options = {});

}  // namespace bt::testing

#endif  // TESTS_TESTING_PORTS_H_
