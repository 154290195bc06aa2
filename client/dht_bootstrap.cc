#include "client/dht_bootstrap.h"

#include <algorithm>
#include <memory>
#include <utility>

namespace bt::client {

DhtBootstrap::DhtBootstrap(Resolver* resolver, AddEndpoint add_router,
                           AddEndpoint add_hint)
    : resolver_(resolver),
      add_router_(std::move(add_router)),
      add_hint_(std::move(add_hint)) {}

DhtBootstrap::~DhtBootstrap() {
  for (uint64_t id : pending_) resolver_->Cancel(id);
}

void DhtBootstrap::AddRouters(const std::vector<HostPort>& routers) {
  for (const HostPort& r : routers) Lookup(r.host, r.port, &add_router_);
}

void DhtBootstrap::AddTorrentNodes(
    const std::vector<metainfo::DhtNode>& nodes) {
  const size_t n = std::min(nodes.size(), kMaxTorrentNodes);
  for (size_t i = 0; i < n; ++i) {
    if (nodes[i].port < 1 || nodes[i].port > 65535) continue;
    Lookup(nodes[i].host, static_cast<uint16_t>(nodes[i].port), &add_hint_);
  }
}

void DhtBootstrap::Lookup(const std::string& host, uint16_t port,
                          const AddEndpoint* add) {
  if (pending_.size() >= kMaxPending) return;
  // The id is known only once Resolve returns; the answer always comes
  // later, from the loop, so `*id` is set by then.
  auto id = std::make_shared<uint64_t>(0);
  *id = resolver_->Resolve(
      host, port, [this, id, add](absl::StatusOr<std::vector<Endpoint>> r) {
        pending_.erase(*id);
        if (!r.ok()) return;
        for (const Endpoint& e : *r) (*add)(e);
      });
  pending_.insert(*id);
}

}  // namespace bt::client
