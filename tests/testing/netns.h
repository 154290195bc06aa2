// Test-only: a network namespace of the test's own, for traffic that must
// never leave it (LSD multicast). EnterPrivateNetwork moves the calling
// thread into a new, empty network namespace — threads and processes it
// starts afterwards are in it too — brings loopback up with multicast on
// and routes IPv4 multicast over it, and, since Linux loops no IPv6
// multicast back over `lo`, adds a veth pair (both ends inside) whose
// first end has kPrivateIpv6 and takes the IPv6 multicast route. Nothing
// sent there reaches another namespace, let alone another host.
//
//   static absl::Status net = bt::testing::EnterPrivateNetwork();
//   if (!net.ok()) GTEST_SKIP() << net;
//
// As root it unshares the network namespace alone; otherwise it makes a
// user namespace too, which the kernel allows only while the process has
// one thread: call it before starting any thread. It is one-way: the
// thread stays in the namespace.
#ifndef TESTS_TESTING_NETNS_H_
#define TESTS_TESTING_NETNS_H_

#include "absl/status/status.h"

namespace bt::testing {

// kPrivateIpv6: the namespace's IPv6 address (a unique local address).
inline constexpr char kPrivateIpv6[] = "fd00::1";

// EnterPrivateNetwork: see above. Errors: kUnavailable with the step that
// failed (namespaces not permitted here, no `ip` tool, a route refused).
absl::Status EnterPrivateNetwork();

}  // namespace bt::testing

#endif  // TESTS_TESTING_NETNS_H_
