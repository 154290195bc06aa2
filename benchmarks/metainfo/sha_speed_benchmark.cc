// Raw hashing speed of BoringSSL's SHA-1 and SHA-256 over piece-sized
// buffers, and of two SHA-1 streams side by side (Sha1Hasher::UpdateBoth,
// as btkit hashes pieces), on 1..N threads: the ceilings torrent creation
// is measured against (see create_benchmark.sh).
#include <openssl/sha.h>

#include <cstdint>
#include <vector>

#include "base/sha.h"
#include "benchmark/benchmark.h"

namespace {

std::vector<uint8_t> Buffer(size_t n) {
  std::vector<uint8_t> b(n);
  uint32_t x = 12345;
  for (auto& c : b) {
    x = x * 1103515245 + 12345;
    c = static_cast<uint8_t>(x >> 24);
  }
  return b;
}

void BM_Sha1(benchmark::State& state) {
  std::vector<uint8_t> buf = Buffer(static_cast<size_t>(state.range(0)));
  uint8_t out[SHA_DIGEST_LENGTH];
  for (auto _ : state) {
    SHA1(buf.data(), buf.size(), out);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * buf.size());
}

// Two pieces at once; the bytes of both count.
void BM_Sha1TwoStreams(benchmark::State& state) {
  std::vector<uint8_t> a = Buffer(static_cast<size_t>(state.range(0)));
  std::vector<uint8_t> b = a;
  b[0] ^= 1;
  for (auto _ : state) {
    bt::Sha1Hasher ha, hb;
    bt::Sha1Hasher::UpdateBoth(ha, a, hb, b);
    bt::Sha1Hash x = ha.Final(), y = hb.Final();
    benchmark::DoNotOptimize(x);
    benchmark::DoNotOptimize(y);
  }
  state.SetBytesProcessed(state.iterations() * 2 * a.size());
}

void BM_Sha256(benchmark::State& state) {
  std::vector<uint8_t> buf = Buffer(static_cast<size_t>(state.range(0)));
  uint8_t out[SHA256_DIGEST_LENGTH];
  for (auto _ : state) {
    SHA256(buf.data(), buf.size(), out);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * buf.size());
}

// Rates are per CPU-second of each thread (robust to other load on the
// machine); the threads:2 runs show whether two cores scale.
BENCHMARK(BM_Sha1)->Arg(1 << 20)->ThreadRange(1, 2);
BENCHMARK(BM_Sha1TwoStreams)->Arg(1 << 20)->ThreadRange(1, 2);
BENCHMARK(BM_Sha256)->Arg(1 << 20)->ThreadRange(1, 2);

}  // namespace

BENCHMARK_MAIN();
