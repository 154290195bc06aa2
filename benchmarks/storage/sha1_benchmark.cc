// Raw BoringSSL SHA-1 speed over in-cache buffers, one hashing thread per
// benchmark thread: the ceiling a hash check can approach. run.sh feeds the
// result to check_benchmark.py, which compares `bt check` against it.
#include <cstdint>
#include <vector>

#include "base/sha.h"
#include "benchmark/benchmark.h"

namespace {

void BM_Sha1(benchmark::State& state) {
  std::vector<uint8_t> buf(static_cast<size_t>(state.range(0)));
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 131);
  for (auto _ : state) {
    bt::Sha1Hash h = bt::Sha1(buf);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Sha1)->Arg(1 << 20)->Arg(4 << 20)->Threads(1)->Threads(2);

}  // namespace

BENCHMARK_MAIN();
