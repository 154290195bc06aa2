// RoutingTable insert and find-closest with 10k and 100k random contacts.
// The table keeps at most K per bucket and splits only the bucket holding
// its own id, so it keeps about K * log2(N / K) contacts (plus a
// replacement cache of the same size) whatever N is: insert is measured
// per attempt over all N, and the counters say what was kept.
// No libtorrent equivalent in its public API: absolute ns per operation.
#include <cstddef>
#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "benchmarks/dht/random_values.h"
#include "dht/routing_table.h"

namespace bt::dht::bench {
namespace {

constexpr size_t kK = 8;
const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

void ReportTable(benchmark::State& state, const RoutingTable& table) {
  state.counters["kept"] = table.size();
  state.counters["replacements"] = table.replacement_count();
  state.counters["buckets"] = table.bucket_count();
}

// Arg: N contacts, each inserted once as a node that answered a query of
// ours (OnResponse), into a fresh table per iteration; items are insert
// attempts.
void BM_RoutingTableInsert(benchmark::State& state) {
  const size_t n = state.range(0);
  Rng rng(n);
  const NodeId own = RandomBytes<NodeId>(rng);
  const std::vector<NodeInfo> nodes = RandomNodes(n, rng);
  std::optional<RoutingTable> table;
  for (auto _ : state) {
    table.emplace(own);
    for (const NodeInfo& node : nodes) {
      benchmark::DoNotOptimize(table->OnResponse(node, kNow));
    }
  }
  ReportTable(state, *table);
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_RoutingTableInsert)->Arg(10'000)->Arg(100'000)
    ->Unit(benchmark::kMillisecond);

// Arg: N contacts offered to the table; then Closest(random target, K) with
// a different target each time.
void BM_RoutingTableClosest(benchmark::State& state) {
  const size_t n = state.range(0);
  Rng rng(n + 1);
  RoutingTable table(RandomBytes<NodeId>(rng));
  for (const NodeInfo& node : RandomNodes(n, rng)) table.OnResponse(node, kNow);
  std::vector<NodeId> targets;
  for (int i = 0; i < 1024; ++i) targets.push_back(RandomBytes<NodeId>(rng));
  size_t i = 0;
  for (auto _ : state) {
    std::vector<NodeInfo> closest = table.Closest(targets[i++ % 1024], kK);
    if (closest.size() != kK) {
      state.SkipWithError("fewer than K contacts returned");
      return;
    }
    benchmark::DoNotOptimize(closest.data());
  }
  ReportTable(state, table);
}
BENCHMARK(BM_RoutingTableClosest)->Arg(10'000)->Arg(100'000);

}  // namespace
}  // namespace bt::dht::bench
