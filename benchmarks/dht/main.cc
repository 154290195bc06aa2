// Runs every DHT benchmark of this binary (krpc_benchmark.cc,
// routing_table_benchmark.cc, token_issuer_benchmark.cc,
// lookup_benchmark.cc) and prints, after the usual output, a table of the
// ratios against libtorrent for each pair OP/btkit/CASE, OP/libtorrent/CASE,
// and the absolute CPU ns per operation of the others (per item for runs
// that count items, per iteration otherwise) with their counters.
//
//   bazel run //benchmarks/dht:dht_benchmark -- --benchmark_min_time=0.2
//   benchmarks/dht/run.sh                       (the same, from the shell)
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"

namespace {

// Collects the CPU time per iteration (and the counters) of every run and
// prints the pairs with their ratio, then the unpaired runs.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  explicit RatioReporter(OutputOptions options) : ConsoleReporter(options) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred || r.run_type != Run::RT_Iteration) continue;
      // CPU time: on a shared machine, wall time also counts other work.
      Result& res = results_[r.benchmark_name()];
      res.cpu_ns = r.GetAdjustedCPUTime() * ToNanoseconds(r.time_unit);
      // Runs of N operations per iteration say so with items_per_second.
      auto items = r.counters.find("items_per_second");
      res.ns_per_op = items != r.counters.end() && items->second.value > 0
                          ? 1e9 / items->second.value
                          : res.cpu_ns;
      res.counters.clear();
      for (const auto& [name, c] : r.counters) {
        if (name == "items_per_second" || name == "bytes_per_second") continue;
        res.counters += " " + name + "=" + Format(c.value);
      }
    }
  }

  void PrintTables() const {
    std::printf("\nAgainst libtorrent: CPU ns per message (lower is better); "
                "ratio = libtorrent time / btkit time (above 1: btkit faster)\n");
    std::printf("%-34s %10s %12s %8s\n", "operation/case", "btkit",
                "libtorrent", "ratio");
    for (const auto& [name, ours] : results_) {
      const size_t at = name.find("/btkit/");
      if (at == std::string::npos) continue;
      const std::string op = name.substr(0, at);
      const std::string what = name.substr(at + 7);
      auto theirs = results_.find(op + "/libtorrent/" + what);
      if (theirs == results_.end()) continue;
      std::printf("%-34s %10.0f %12.0f %7.2fx\n", (op + "/" + what).c_str(),
                  ours.ns_per_op, theirs->second.ns_per_op,
                  theirs->second.ns_per_op / ours.ns_per_op);
    }
    bool header = false;
    for (const auto& [name, res] : results_) {
      if (name.find("/btkit/") != std::string::npos ||
          name.find("/libtorrent/") != std::string::npos) {
        continue;
      }
      if (!header) {
        std::printf("\nbtkit alone (no libtorrent equivalent): CPU ns per "
                    "operation, counters\n");
        header = true;
      }
      std::printf("%-34s %12.0f %s\n", name.c_str(), res.ns_per_op,
                  res.counters.c_str());
    }
  }

 private:
  struct Result {
    double cpu_ns = 0;     // per iteration
    double ns_per_op = 0;  // per item when the run counts items
    std::string counters;
  };

  static double ToNanoseconds(benchmark::TimeUnit unit) {
    switch (unit) {
      case benchmark::kSecond: return 1e9;
      case benchmark::kMillisecond: return 1e6;
      case benchmark::kMicrosecond: return 1e3;
      default: return 1;
    }
  }
  static std::string Format(double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.4g", v);
    return buf;
  }

  std::map<std::string, Result> results_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  RatioReporter reporter(isatty(STDOUT_FILENO)
                             ? benchmark::ConsoleReporter::OO_ColorTabular
                             : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintTables();
  return 0;
}
