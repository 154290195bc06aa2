// RatioReporter: a Google Benchmark reporter that prints, after the usual
// console output, btkit's time beside a reference implementation's from the
// same run, and the ratio. Benchmarks are named "GROUP/IMPL/CASE"; every
// "GROUP/btkit/CASE" is paired with each "GROUP/OTHER/CASE" of the run.
//
//   benchmark::RegisterBenchmark("parse/btkit/v1-1k", ...);
//   benchmark::RegisterBenchmark("parse/libtorrent/v1-1k", ...);
//   bt::benchmarks::RatioReporter reporter;
//   benchmark::RunSpecifiedBenchmarks(&reporter);
//   reporter.PrintTable();   // "parse v1-1k 812 libtorrent 1624 0.5 2x faster"
//
// Times are CPU time per iteration in nanoseconds (on a shared machine wall
// time also counts other work). ratio = reference time / btkit time, as in
// every btkit benchmark: above 1 btkit is faster; the verdict says "Nx
// faster" or "Nx slower". Names
// that do not have three '/'-separated parts, and runs that failed, are left
// out of the table.
#ifndef BENCHMARKS_COMMON_RATIO_REPORTER_H_
#define BENCHMARKS_COMMON_RATIO_REPORTER_H_

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "benchmark/benchmark.h"

namespace bt::benchmarks {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override;

  // PrintTable prints one line per (group, case, reference) pair found.
  void PrintTable() const;

 private:
  // (group, case) -> implementation -> CPU ns per iteration.
  std::map<std::tuple<std::string, std::string>, std::map<std::string, double>>
      ns_;
};

}  // namespace bt::benchmarks

#endif  // BENCHMARKS_COMMON_RATIO_REPORTER_H_
