// Iterative lookups (find_node, get_peers) in a network of 1k and 10k
// simulated Nodes: messages sent and CPU time per lookup.
//
// The network is built once per size with tests/dht's SimNetwork: every
// node bootstraps from node 0 (in 100 waves) over links with 10-100 ms
// delay, then the network runs 30 simulated seconds so tables settle. The measured lookups
// are then driven directly: the querier's packets are handed to the nodes
// they are addressed to and their replies straight back, with no delay and
// no loss. That way the CPU time per lookup is the querier's work plus the
// work of the nodes it asks, not SimNetwork ticking all N idle nodes every
// 100 ms of simulated time (which would dominate at 10k nodes); between
// lookups, untimed, the SimNetwork runs one tick so the network stays live.
// Packets the asked nodes send to third parties (pings of their own
// contacts) are dropped and counted in `other_pkts`.
//
// Counters per lookup: `msgs` (queries the lookup sent,
// LookupResult::queries), `responses`, `closest` (contacts in the result),
// `rounds` (request/reply rounds until it finished).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "benchmarks/dht/random_values.h"
#include "dht/node.h"
#include "tests/dht/sim_network.h"

namespace bt::dht::bench {
namespace {

using testing::SimNetwork;

struct Network {
  std::unique_ptr<SimNetwork> sim;
  std::vector<Node*> nodes;
  absl::flat_hash_map<Endpoint, Node*> by_endpoint;
  absl::Time now;  // the measured lookups' clock, never behind sim->now()
  absl::Duration tick;
};

std::unique_ptr<Network> Build(size_t n) {
  auto start = std::chrono::steady_clock::now();
  auto net = std::make_unique<Network>();
  SimNetwork::Options options;
  options.loss = 0;
  options.tick = net->tick = absl::Milliseconds(250);
  options.seed = n;
  net->sim = std::make_unique<SimNetwork>(options);
  for (size_t i = 0; i < n; ++i) {
    NodeOptions o;
    o.external_address = PublicAddress(i);  // BEP 42 ids
    o.enforce_node_id = true;
    o.query_timeout = absl::Seconds(2);
    o.seed = 1000 + i;
    Node* node = net->sim->AddNode(PublicAddress(i), o);
    net->nodes.push_back(node);
    net->by_endpoint[PublicAddress(i)] = node;
  }
  // Nodes join in 100 waves, 500 ms apart: the build's simulated time
  // (and so the idle ticking) does not grow with N.
  const size_t wave = std::max<size_t>(1, n / 100);
  for (size_t i = 1; i < n; ++i) {
    net->nodes[i]->AddBootstrapNode(PublicAddress(0));
    net->nodes[i]->Bootstrap(net->sim->now());
    net->sim->Collect(PublicAddress(i), net->nodes[i]);
    if (i % wave == 0) net->sim->Run(absl::Milliseconds(500));
  }
  net->sim->Run(absl::Seconds(30));
  net->now = net->sim->now();
  size_t contacts = 0;
  for (Node* node : net->nodes) contacts += node->table().size();
  std::fprintf(stderr,
               "lookup network: %zu nodes built in %.1f s wall, %.1f "
               "contacts per routing table, %llu packets\n",
               n,
               std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             start)
                   .count(),
               static_cast<double>(contacts) / n,
               static_cast<unsigned long long>(net->sim->sent()));
  return net;
}

Network& NetworkOf(size_t n) {
  static auto* networks = new std::map<size_t, std::unique_ptr<Network>>;
  auto& net = (*networks)[n];
  if (!net) net = Build(n);
  return *net;
}

struct Totals {
  double msgs = 0, responses = 0, closest = 0, rounds = 0, other = 0;
};

// RunLookup drives one lookup started by `start` on node `from` to its end;
// false if it did not finish.
template <typename Start>
bool RunLookup(Network& net, size_t from, Start start, Totals* totals) {
  Node* querier = net.nodes[from];
  const Endpoint self = PublicAddress(from);
  std::optional<LookupResult> result;
  if (start(querier, net.now, [&](const LookupResult& r) { result = r; }) == 0) {
    return false;
  }
  int rounds = 0;
  while (!result && rounds < 10'000) {
    ++rounds;
    for (OutgoingPacket& p : querier->TakeOutgoing()) {
      auto it = net.by_endpoint.find(p.to);
      if (it == net.by_endpoint.end()) continue;
      it->second->HandlePacket(p.bytes, self, net.now);
      for (OutgoingPacket& reply : it->second->TakeOutgoing()) {
        if (reply.to == self) {
          querier->HandlePacket(reply.bytes, p.to, net.now);
        } else {
          ++totals->other;
        }
      }
    }
    net.now += absl::Milliseconds(10);
    querier->Tick(net.now);
  }
  if (!result) return false;
  totals->msgs += result->queries;
  totals->responses += result->responses;
  totals->closest += result->closest.size();
  totals->rounds += rounds;
  return true;
}

template <typename Start>
void BenchLookup(benchmark::State& state, Start start) {
  const size_t n = state.range(0);
  Network& net = NetworkOf(n);
  Rng rng(n * 31 + 7);
  Totals totals;
  for (auto _ : state) {
    const size_t from = rng() % n;
    const NodeId target = RandomBytes<NodeId>(rng);
    if (!RunLookup(net, from,
                   [&](Node* q, absl::Time now, LookupCallback cb) {
                     return start(q, target, now, std::move(cb));
                   },
                   &totals)) {
      state.SkipWithError("a lookup did not finish");
      return;
    }
    // Untimed: the whole network catches up with the lookup's clock (one
    // tick of every node), so tables, tokens and timers stay as fresh as in
    // a live network however many lookups run.
    state.PauseTiming();
    net.sim->Run(net.now - net.sim->now() + net.tick);
    net.now = net.sim->now();
    state.ResumeTiming();
  }
  auto per_lookup = [](double v) {
    return benchmark::Counter(v, benchmark::Counter::kAvgIterations);
  };
  state.counters["msgs"] = per_lookup(totals.msgs);
  state.counters["responses"] = per_lookup(totals.responses);
  state.counters["closest"] = per_lookup(totals.closest);
  state.counters["rounds"] = per_lookup(totals.rounds);
  state.counters["other_pkts"] = per_lookup(totals.other);
}

void BM_LookupFindNode(benchmark::State& state) {
  BenchLookup(state, [](Node* q, const NodeId& target, absl::Time now,
                        LookupCallback cb) {
    return q->FindNode(target, now, std::move(cb));
  });
}
BENCHMARK(BM_LookupFindNode)->Arg(1'000)->Arg(10'000)
    ->Unit(benchmark::kMicrosecond);

void BM_LookupGetPeers(benchmark::State& state) {
  BenchLookup(state, [](Node* q, const NodeId& target, absl::Time now,
                        LookupCallback cb) {
    return q->GetPeers(Sha1Hash::FromBytes(target.span()), now, std::move(cb));
  });
}
BENCHMARK(BM_LookupGetPeers)->Arg(1'000)->Arg(10'000)
    ->Unit(benchmark::kMicrosecond);

// The same find_node lookups driven by SimNetwork itself (10-100 ms per
// packet, no loss), for the message count and simulated duration
// (`sim_ms`) with realistic reply ordering. Its CPU time is the whole
// network's: every node ticks every 250 ms of simulated time, so at 10k
// nodes it is mostly idle ticking, not the lookup.
void BM_LookupFindNodeSimDriven(benchmark::State& state) {
  const size_t n = state.range(0);
  Network& net = NetworkOf(n);
  Rng rng(n * 31 + 8);
  Totals totals;
  double sim_ms = 0;
  for (auto _ : state) {
    const size_t from = rng() % n;
    std::optional<LookupResult> result;
    net.nodes[from]->FindNode(RandomBytes<NodeId>(rng), net.sim->now(),
                              [&](const LookupResult& r) { result = r; });
    net.sim->Collect(PublicAddress(from), net.nodes[from]);
    for (int i = 0; i < 600 && !result; ++i) net.sim->Run(net.tick);
    net.now = net.sim->now();
    if (!result) {
      state.SkipWithError("a lookup did not finish");
      return;
    }
    totals.msgs += result->queries;
    totals.responses += result->responses;
    totals.closest += result->closest.size();
    sim_ms += absl::ToDoubleMilliseconds(result->duration);
  }
  auto per_lookup = [](double v) {
    return benchmark::Counter(v, benchmark::Counter::kAvgIterations);
  };
  state.counters["msgs"] = per_lookup(totals.msgs);
  state.counters["responses"] = per_lookup(totals.responses);
  state.counters["closest"] = per_lookup(totals.closest);
  state.counters["sim_ms"] = per_lookup(sim_ms);
}
BENCHMARK(BM_LookupFindNodeSimDriven)->Arg(1'000)->Arg(10'000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bt::dht::bench
