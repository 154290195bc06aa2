// DhtUdpNode: runs a sans-I/O dht::Node on a real UDP socket, driven by the
// client's EventLoop: it receives datagrams into the node, sends what the
// node queues, and ticks it every 100 ms with the loop's clock.
//
//   ASSIGN_OR_RETURN(auto dht, bt::client::DhtUdpNode::Create(
//       loop.get(), bt::Endpoint::V4({0, 0, 0, 0}, 6881), options));
//   dht->node().AddBootstrapNode(router);
//   dht->Bootstrap([&](const bt::dht::LookupResult& r) { ... });
//   while (running) loop->RunOnce(-1);
#ifndef CLIENT_NET_DHT_UDP_NODE_H_
#define CLIENT_NET_DHT_UDP_NODE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "client/net/event_loop.h"
#include "dht/node.h"

namespace bt::client {

class DhtUdpNode {
 public:
  // Create binds a UDP socket to `bind` (port 0 picks a free port) and
  // starts the node; `options.ipv6` is set from `bind`'s family. Errors:
  // kUnavailable when the socket cannot be made or bound (errno's text).
  // `loop` must outlive the DhtUdpNode.
  static absl::StatusOr<std::unique_ptr<DhtUdpNode>> Create(
      EventLoop* loop, const Endpoint& bind, dht::NodeOptions options);
  ~DhtUdpNode();
  DhtUdpNode(const DhtUdpNode&) = delete;
  DhtUdpNode& operator=(const DhtUdpNode&) = delete;

  dht::Node& node() { return *node_; }
  // local_endpoint is the bound address and port.
  const Endpoint& local_endpoint() const { return local_; }
  // Now is the loop's clock as the node sees it.
  static absl::Time Now();

  // Convenience wrappers that pass Now() and send at once.
  uint64_t Bootstrap(dht::LookupCallback done);
  uint64_t GetPeers(const Sha1Hash& info_hash, dht::LookupCallback done);
  uint64_t Announce(const Sha1Hash& info_hash, uint16_t port,
                    bool implied_port, dht::LookupCallback done);

  // Flush sends what the node has queued (after calling it directly).
  void Flush();

  uint64_t send_errors() const { return send_errors_; }

 private:
  DhtUdpNode(EventLoop* loop, int fd, const Endpoint& local,
             dht::NodeOptions options);
  void OnReadable();
  void ArmTimer();

  EventLoop* loop_;
  int fd_;
  Endpoint local_;
  std::unique_ptr<dht::Node> node_;
  EventLoop::TimerId timer_ = 0;
  uint64_t send_errors_ = 0;
};

}  // namespace bt::client

#endif  // CLIENT_NET_DHT_UDP_NODE_H_
