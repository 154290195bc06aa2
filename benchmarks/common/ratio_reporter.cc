#include "benchmarks/common/ratio_reporter.h"

#include <cstdio>

namespace bt::benchmarks {
namespace {

double ToNs(double t, benchmark::TimeUnit unit) {
  switch (unit) {
    case benchmark::kNanosecond:
      return t;
    case benchmark::kMicrosecond:
      return t * 1e3;
    case benchmark::kMillisecond:
      return t * 1e6;
    case benchmark::kSecond:
      return t * 1e9;
  }
  return t;
}

}  // namespace

void RatioReporter::ReportRuns(const std::vector<Run>& runs) {
  ConsoleReporter::ReportRuns(runs);
  for (const Run& r : runs) {
    if (r.error_occurred || r.run_type != Run::RT_Iteration) continue;
    const std::string name = r.run_name.function_name;
    const size_t a = name.find('/');
    const size_t b = a == std::string::npos ? a : name.find('/', a + 1);
    if (b == std::string::npos) continue;
    ns_[{name.substr(0, a), name.substr(b + 1)}][name.substr(a + 1, b - a - 1)] =
        ToNs(r.GetAdjustedCPUTime(), r.time_unit);
  }
}

void RatioReporter::PrintTable() const {
  std::printf("\nCPU time per operation (lower is better)\n");
  std::printf("%-10s %-18s %12s  %-11s %12s %8s  %s\n", "group", "case",
              "btkit ns", "reference", "ref ns", "ratio", "verdict");
  for (const auto& [key, impls] : ns_) {
    auto ours = impls.find("btkit");
    if (ours == impls.end()) continue;
    for (const auto& [impl, ns] : impls) {
      if (impl == "btkit" || ns <= 0 || ours->second <= 0) continue;
      const double ratio = ns / ours->second;
      std::printf("%-10s %-18s %12.0f  %-11s %12.0f %8.3g  %.3gx %s\n",
                  std::get<0>(key).c_str(), std::get<1>(key).c_str(),
                  ours->second, impl.c_str(), ns, ratio,
                  ratio >= 1 ? ratio : 1 / ratio,
                  ratio >= 1 ? "faster" : "slower");
    }
  }
  std::printf(
      "\nratio = reference time / btkit time (above 1: btkit faster), as "
      "in every btkit benchmark. "
      "memcpy copies the input once: a floor, not a parser.\n");
}

}  // namespace bt::benchmarks
