// DhtUdpNode: runs a sans-I/O dht::Node on a UdpSocket (which it shares
// with uTP), driven by the client's EventLoop: it receives the socket's KRPC
// datagrams into the node, sends what the node queues, and ticks it every
// 100 ms with the loop's clock.
//
//   ASSIGN_OR_RETURN(auto udp, bt::client::UdpSocket::Bind(
//       loop.get(), bt::Endpoint::V4({0, 0, 0, 0}, 6881)));
//   ASSIGN_OR_RETURN(auto dht, bt::client::DhtUdpNode::Create(
//       loop.get(), udp.get(), options));
//   dht->node().AddBootstrapNode(router);
//   dht->Bootstrap([&](const bt::dht::LookupResult& r) { ... });
//   while (running) loop->RunOnce(-1);
#ifndef CLIENT_NET_DHT_UDP_NODE_H_
#define CLIENT_NET_DHT_UDP_NODE_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "client/net/event_loop.h"
#include "client/net/udp_socket.h"
#include "dht/node.h"

namespace bt::client {

class DhtUdpNode {
 public:
  // Create starts the node on `socket` and installs it as the socket's DHT
  // handler (replacing any other); `options.ipv6` is set from the socket's
  // family. It does not fail today (StatusOr leaves room for checks).
  // `loop` and `socket` must outlive the DhtUdpNode.
  static absl::StatusOr<std::unique_ptr<DhtUdpNode>> Create(
      EventLoop* loop, UdpSocket* socket, dht::NodeOptions options);
  // ~DhtUdpNode stops the tick and removes its handler from the socket.
  ~DhtUdpNode();
  DhtUdpNode(const DhtUdpNode&) = delete;
  DhtUdpNode& operator=(const DhtUdpNode&) = delete;

  dht::Node& node() { return *node_; }
  // local_endpoint is the socket's bound address and port.
  const Endpoint& local_endpoint() const { return socket_->local_endpoint(); }
  // Now is the loop's clock as the node sees it.
  static absl::Time Now();

  // Convenience wrappers that pass Now() and send at once (`found`: peers
  // as they arrive, see dht::Node::GetPeers).
  uint64_t Bootstrap(dht::LookupCallback done);
  uint64_t GetPeers(const Sha1Hash& info_hash, dht::LookupCallback done,
                    dht::LookupCallback found = nullptr);
  uint64_t Announce(const Sha1Hash& info_hash, uint16_t port, bool implied_port,
                    dht::LookupCallback done,
                    dht::LookupCallback found = nullptr);

  // Flush sends what the node has queued (after calling it directly).
  // Packets to the other address family than the socket's are skipped.
  void Flush();

  // send_errors counts the node's packets the socket failed to send.
  uint64_t send_errors() const { return send_errors_; }

 private:
  DhtUdpNode(EventLoop* loop, UdpSocket* socket, dht::NodeOptions options);
  void OnDatagram(std::string_view datagram, const Endpoint& from);
  void ArmTimer();

  EventLoop* loop_;
  UdpSocket* socket_;
  std::unique_ptr<dht::Node> node_;
  EventLoop::TimerId timer_ = 0;
  uint64_t send_errors_ = 0;
};

}  // namespace bt::client

#endif  // CLIENT_NET_DHT_UDP_NODE_H_
