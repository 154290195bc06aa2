// Client: its DHT nodes (BEP 5, one per address family, BEP 32), their
// bootstrap, and the announces of its torrents, paced by a
// DhtAnnounceQueue.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "client/client.h"

namespace bt::client {

bool Client::StartDhtNode(UdpSocket* socket, const std::string& saved,
                          std::unique_ptr<DhtUdpNode>* node) {
  dht::NodeOptions node_options;
  std::vector<metainfo::NodeInfo> saved_nodes;
  if (!saved.empty()) {
    if (absl::StatusOr<dht::SavedState> state = dht::ParseSavedState(saved);
        state.ok()) {
      node_options.id = state->id;
      saved_nodes = std::move(state->nodes);
    }
  }
  // DhtUdpNode::Create does not fail (its StatusOr leaves room for checks).
  *node = *DhtUdpNode::Create(loop_.get(), socket, node_options);
  for (const metainfo::NodeInfo& n : saved_nodes) (*node)->node().AddNode(n);
  return !saved_nodes.empty();
}

void Client::StartDht() {
  bool need_routers = false;
  for (bool v6 : {false, true}) {
    ListenSockets::Socket* s = listen_->Find(v6);
    if (!s || !s->udp) continue;
    std::unique_ptr<DhtUdpNode>& node = v6 ? dht6_ : dht_;
    if (!StartDhtNode(s->udp.get(),
                      v6 ? options_.dht6_state : options_.dht_state, &node)) {
      need_routers = true;
      continue;
    }
    // The saved contacts first; if not one of them answers (all gone
    // since), the routers, as with no saved state.
    node->Bootstrap([this](const dht::LookupResult& r) {
      if (r.responses == 0 && dht_bootstrap_) {
        dht_bootstrap_->AddRouters(options_.dht_bootstrap);
      }
    });
  }
  // Each router bootstraps the node of its family as its address arrives
  // (AddDhtNode).
  if (need_routers) dht_bootstrap_->AddRouters(options_.dht_bootstrap);
}

DhtUdpNode* Client::DhtFor(const Endpoint& node) {
  return node.is_v6() ? dht6_.get() : dht_.get();
}

void Client::AddDhtNode(const Endpoint& node) {
  // A router's name may resolve to both families: each feeds its node.
  DhtUdpNode* dht = DhtFor(node);
  if (!dht) return;
  dht->node().AddBootstrapNode(node);
  if (dht->node().table().size() < 8) dht->Bootstrap([](const auto&) {});
}

void Client::AddDhtHint(const Endpoint& node) {
  DhtUdpNode* dht = DhtFor(node);
  if (!dht) return;
  dht->node().AddContactHint(node, Now());
  dht->Flush();
}

bool Client::has_dht() const { return dht_ || dht6_; }

void Client::QueueDhtAnnounce(const Sha1Hash& info_hash) {
  if (has_dht()) dht_announces_.Add(info_hash);
}

bool Client::StartDhtAnnounce(const Sha1Hash& info_hash,
                              std::function<void()> done) {
  if (!FindTorrent(info_hash)) return false;  // removed or stopped since
  // One lookup per family, each finding peers of its own family; the
  // announce ends when every one it started has. `left` holds one more
  // until all have started, in case one ends at once.
  auto left = std::make_shared<int>(1);
  bool started = false;
  for (DhtUdpNode* dht : {dht_.get(), dht6_.get()}) {
    if (!dht) continue;
    ++*left;
    // Peers are taken as each answer brings them, not when the lookup
    // ends: one contact that hands out dead nodes can hold a lookup for
    // its whole time limit.
    const uint64_t id = dht->Announce(
        info_hash, port(), /*implied_port=*/false,
        [left, done](const dht::LookupResult&) {
          if (--*left == 0) done();
        },
        [this, info_hash](const dht::LookupResult& r) {
          Torrent* t = FindTorrent(info_hash);
          if (!t) return;
          for (const Endpoint& p : r.peers) {
            t->AddPeer(p, PeerSet::Source::kDht);
          }
        });
    if (id == 0) {
      --*left;  // refused: its callbacks never run
    } else {
      started = true;
    }
  }
  if (!started) return false;
  if (--*left == 0) done();
  return true;
}

}  // namespace bt::client
