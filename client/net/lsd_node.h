// LsdNode: Local Service Discovery (BEP 14) on the network, for one address
// family (a client makes one per family it listens on). It runs a sans-I/O
// lsd::Service on a UDP socket bound to port 6771 and joined to the BEP's
// multicast group of that family — 239.192.152.143 for IPv4,
// ff15::efc0:988f for IPv6 — sends the announces the service says are due
// to it (TTL / hop limit 1: the local network only; multicast loopback on,
// so two clients on one host see each other), and hands the peers it finds
// to a callback.
//
//   ASSIGN_OR_RETURN(auto lsd, bt::client::LsdNode::Create(
//       loop.get(), {.local = bt::Endpoint::V4({0, 0, 0, 0}, 6881)},
//       [&](const bt::Sha1Hash& ih, const bt::Endpoint& peer) {
//         client.FindTorrent(ih)->AddPeer(peer);
//       }));
//   lsd->Update({info_hash}, absl::Now());  // e.g. every second
//   while (running) loop->RunOnce(-1);
//
// Reading: each readable event takes at most kMaxReadsPerEvent datagrams
// into one buffer of kMaxAnnounceBytes + 1 bytes (a longer datagram is
// refused as too long); the rest waits for the next turn, so a flood
// cannot starve the loop, and costs no memory beyond the socket's.
#ifndef CLIENT_NET_LSD_NODE_H_
#define CLIENT_NET_LSD_NODE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "client/net/event_loop.h"
#include "lsd/service.h"

namespace bt::client {

class LsdNode {
 public:
  static constexpr int kMaxReadsPerEvent = 64;

  struct Options {
    // The client's listen address and port: its family picks the group
    // (peers will connect to this family), a specific address the
    // interface to join and send on (unspecified: the kernel's choice, by
    // the multicast route), and its port is what we announce.
    Endpoint local;
    // The service's pace and limits; an empty cookie is replaced by a
    // random one.
    lsd::ServiceOptions service;
  };
  using PeerHandler =
      std::function<void(const Sha1Hash& info_hash, const Endpoint& peer)>;

  // Create opens the socket and joins the group of `options.local`'s
  // family. Errors: kUnavailable naming the step and errno's text when the
  // socket cannot be made, bound or joined to the group (no multicast
  // route, say); the loop's error if it refuses the descriptor. `loop`
  // must outlive the LsdNode; `on_peer` runs on the loop's thread and may
  // call Update but must not destroy the LsdNode.
  static absl::StatusOr<std::unique_ptr<LsdNode>> Create(EventLoop* loop,
                                                         Options options,
                                                         PeerHandler on_peer);
  ~LsdNode();
  LsdNode(const LsdNode&) = delete;
  LsdNode& operator=(const LsdNode&) = delete;

  // Update makes `info_hashes` the torrents to announce and take peers for,
  // and sends the announces due at `now`.
  void Update(absl::Span<const Sha1Hash> info_hashes, absl::Time now);

  const lsd::Service& service() const { return service_; }
  // group is where announces go ("239.192.152.143:6771").
  const Endpoint& group() const { return group_; }
  // send_errors counts announces the socket failed to send.
  uint64_t send_errors() const { return send_errors_; }

 private:
  LsdNode(EventLoop* loop, int fd, Options options, Endpoint group,
          PeerHandler on_peer);
  void OnReadable();
  // Send sends one announce to the group, from local_'s address when it is
  // a specific IPv6 one (the kernel would pick a link-local one, where no
  // one can dial us); false if it failed.
  bool Send(std::string_view datagram);

  EventLoop* loop_;
  int fd_;
  Endpoint local_;  // our listen address and the port we announce
  Endpoint group_;
  lsd::Service service_;
  PeerHandler on_peer_;
  uint64_t send_errors_ = 0;
  std::vector<char> buffer_;
};

}  // namespace bt::client

#endif  // CLIENT_NET_LSD_NODE_H_
