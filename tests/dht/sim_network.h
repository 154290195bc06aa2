// SimNetwork: an in-memory datagram network for DHT Nodes, with per-packet
// delay, random loss and simulated time. Deterministic for a given seed.
#ifndef TESTS_DHT_SIM_NETWORK_H_
#define TESTS_DHT_SIM_NETWORK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "dht/node.h"

namespace bt::dht::testing {

class SimNetwork {
 public:
  struct Options {
    absl::Duration min_delay = absl::Milliseconds(10);
    absl::Duration max_delay = absl::Milliseconds(100);
    double loss = 0.10;
    absl::Duration tick = absl::Milliseconds(100);
    uint64_t seed = 1;
  };

  explicit SimNetwork(Options options)
      : options_(options), rng_(options.seed),
        now_(absl::FromUnixSeconds(1'700'000'000)) {}

  absl::Time now() const { return now_; }
  uint64_t delivered() const { return delivered_; }
  uint64_t sent() const { return sent_; }

  // AddNode creates a node listening at `ep`.
  Node* AddNode(const Endpoint& ep, NodeOptions options) {
    auto node = std::make_unique<Node>(std::move(options), now_);
    Node* raw = node.get();
    nodes_[ep] = raw;
    order_.push_back({ep, std::move(node)});
    return raw;
  }

  // Inject delivers `bytes` to `to` as if sent from `from` (after the usual
  // delay, never lost).
  void Inject(const Endpoint& from, const Endpoint& to, std::string bytes) {
    queue_.push(Packet{now_ + options_.min_delay, seq_++, from, to,
                       std::move(bytes)});
  }

  // Observe receives every packet a node sends to an address with no node.
  std::function<void(const Endpoint& from, const Endpoint& to,
                      const std::string& bytes)>
      observe;

  // Run advances simulated time by `d`, delivering packets and ticking
  // every node every tick.
  void Run(absl::Duration d) {
    absl::Time end = now_ + d;
    while (now_ < end) {
      absl::Time next_tick = now_ + options_.tick;
      while (!queue_.empty() && queue_.top().at <= next_tick) {
        Packet p = queue_.top();
        queue_.pop();
        now_ = std::max(now_, p.at);
        auto it = nodes_.find(p.to);
        if (it == nodes_.end()) {
          if (observe) observe(p.from, p.to, p.bytes);
          continue;
        }
        ++delivered_;
        it->second->HandlePacket(p.bytes, p.from, now_);
        Collect(p.to, it->second);
      }
      now_ = next_tick;
      for (auto& [ep, node] : order_) {
        node->Tick(now_);
        Collect(ep, node.get());
      }
    }
  }

  // Collect moves a node's outgoing packets into the network (used after
  // calling a node directly).
  void Collect(const Endpoint& from, Node* node) {
    std::uniform_real_distribution<double> coin(0, 1);
    std::uniform_int_distribution<int64_t> delay(
        absl::ToInt64Microseconds(options_.min_delay),
        absl::ToInt64Microseconds(options_.max_delay));
    for (OutgoingPacket& p : node->TakeOutgoing()) {
      ++sent_;
      if (coin(rng_) < options_.loss) continue;
      queue_.push(Packet{now_ + absl::Microseconds(delay(rng_)), seq_++, from,
                         p.to, std::move(p.bytes)});
    }
  }

  const std::vector<std::pair<Endpoint, std::unique_ptr<Node>>>& nodes() const {
    return order_;
  }

 private:
  struct Packet {
    absl::Time at;
    uint64_t seq;
    Endpoint from, to;
    std::string bytes;
    bool operator>(const Packet& o) const {
      return at != o.at ? at > o.at : seq > o.seq;
    }
  };

  Options options_;
  std::mt19937_64 rng_;
  absl::Time now_;
  uint64_t seq_ = 0;
  uint64_t delivered_ = 0;
  uint64_t sent_ = 0;
  std::priority_queue<Packet, std::vector<Packet>, std::greater<Packet>> queue_;
  absl::flat_hash_map<Endpoint, Node*> nodes_;
  std::vector<std::pair<Endpoint, std::unique_ptr<Node>>> order_;
};

}  // namespace bt::dht::testing

#endif  // TESTS_DHT_SIM_NETWORK_H_
