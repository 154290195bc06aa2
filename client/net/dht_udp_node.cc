#include "client/net/dht_udp_node.h"

#include <chrono>
#include <string_view>
#include <utility>

namespace bt::client {

absl::Time DhtUdpNode::Now() {
  return absl::UnixEpoch() +
         absl::FromChrono(EventLoop::Now().time_since_epoch());
}

absl::StatusOr<std::unique_ptr<DhtUdpNode>> DhtUdpNode::Create(
    EventLoop* loop, UdpSocket* socket, dht::NodeOptions options) {
  options.ipv6 = socket->local_endpoint().is_v6();
  auto self = std::unique_ptr<DhtUdpNode>(
      new DhtUdpNode(loop, socket, std::move(options)));
  DhtUdpNode* raw = self.get();
  socket->SetDhtHandler([raw](std::string_view datagram, const Endpoint& from) {
    raw->OnDatagram(datagram, from);
  });
  raw->ArmTimer();
  return self;
}

DhtUdpNode::DhtUdpNode(EventLoop* loop, UdpSocket* socket,
                       dht::NodeOptions options)
    : loop_(loop),
      socket_(socket),
      node_(std::make_unique<dht::Node>(std::move(options), Now())) {}

DhtUdpNode::~DhtUdpNode() {
  if (timer_ != 0) loop_->CancelTimer(timer_);
  socket_->SetDhtHandler(nullptr);
}

void DhtUdpNode::ArmTimer() {
  timer_ = loop_->AddTimer(std::chrono::milliseconds(100), [this] {
    timer_ = 0;
    node_->Tick(Now());
    Flush();
    ArmTimer();
  });
}

void DhtUdpNode::OnDatagram(std::string_view datagram, const Endpoint& from) {
  // Oversized datagrams reach the node as too large (it drops them). The
  // reply goes out at once: the socket's batch-done hook belongs to uTP.
  node_->HandlePacket(datagram, from, Now());
  Flush();
}

void DhtUdpNode::Flush() {
  const bool v6 = socket_->local_endpoint().is_v6();
  for (const dht::OutgoingPacket& p : node_->TakeOutgoing()) {
    if (p.to.is_v6() != v6) continue;
    // UDP: a lost datagram is like any other loss.
    if (!socket_->SendTo(p.bytes, p.to)) ++send_errors_;
  }
}

uint64_t DhtUdpNode::Bootstrap(dht::LookupCallback done) {
  uint64_t id = node_->Bootstrap(Now(), std::move(done));
  Flush();
  return id;
}

uint64_t DhtUdpNode::GetPeers(const Sha1Hash& info_hash,
                              dht::LookupCallback done,
                              dht::LookupCallback found) {
  uint64_t id =
      node_->GetPeers(info_hash, Now(), std::move(done), std::move(found));
  Flush();
  return id;
}

uint64_t DhtUdpNode::Announce(const Sha1Hash& info_hash, uint16_t port,
                              bool implied_port, dht::LookupCallback done,
                              dht::LookupCallback found) {
  uint64_t id = node_->Announce(info_hash, port, implied_port, Now(),
                                std::move(done), std::move(found));
  Flush();
  return id;
}

}  // namespace bt::client
