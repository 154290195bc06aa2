// Runs every DHT benchmark of this binary (krpc_benchmark.cc,
// routing_table_benchmark.cc, token_issuer_benchmark.cc,
// lookup_benchmark.cc) and prints, after the usual output, btkit's KRPC
// times beside libtorrent's with the ratio (benchmarks/common). The table,
// token and lookup benchmarks have no libtorrent equivalent: their absolute
// times and counters are in the usual output.
//
//   bazel run //benchmarks/dht:dht_benchmark -- --benchmark_min_time=0.2
//   benchmarks/dht/run.sh                       (the same, from the shell)
#include "benchmark/benchmark.h"
#include "benchmarks/common/ratio_reporter.h"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  bt::benchmarks::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintTable();
  return 0;
}
