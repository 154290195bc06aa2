// TokenIssuer: issuing a write token for an address (get_peers replies) and
// checking one (announce_peer, put). Absolute ns per operation; libtorrent
// has no public equivalent.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/bytes.h"
#include "benchmark/benchmark.h"
#include "benchmarks/dht/random_values.h"
#include "dht/token_issuer.h"

namespace bt::dht::bench {
namespace {

constexpr size_t kAddresses = 1024;
const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

std::vector<std::array<uint8_t, 4>> Addresses() {
  Rng rng(51);
  std::vector<std::array<uint8_t, 4>> out;
  for (size_t i = 0; i < kAddresses; ++i) {
    out.push_back(RandomBytes<std::array<uint8_t, 4>>(rng));
  }
  return out;
}

TokenIssuer MakeIssuer() {
  auto rng = std::make_shared<Rng>(44);
  return TokenIssuer(
      [rng] { return RandomBytes<std::array<uint8_t, 16>>(*rng); }, kNow);
}

void BM_TokenIssue(benchmark::State& state) {
  const auto addresses = Addresses();
  TokenIssuer tokens = MakeIssuer();
  size_t i = 0;
  for (auto _ : state) {
    std::string token = tokens.Issue(ByteSpan(addresses[i++ % kAddresses]), kNow);
    benchmark::DoNotOptimize(token.data());
  }
}
BENCHMARK(BM_TokenIssue);

// Arg 1: the token is the one issued to the address (accepted under the
// current secret); 0: it was issued to another address (rejected after
// trying both the current and the previous secret).
void BM_TokenCheck(benchmark::State& state) {
  const bool valid = state.range(0) != 0;
  const auto addresses = Addresses();
  TokenIssuer tokens = MakeIssuer();
  std::vector<std::string> issued;
  for (const auto& a : addresses) issued.push_back(tokens.Issue(ByteSpan(a), kNow));
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % kAddresses;
    const std::string& token = issued[valid ? k : (k + 1) % kAddresses];
    if (tokens.Check(token, ByteSpan(addresses[k]), kNow) != valid) {
      state.SkipWithError("token check gave the wrong answer");
      return;
    }
  }
}
BENCHMARK(BM_TokenCheck)->ArgName("valid")->Arg(1)->Arg(0);

}  // namespace
}  // namespace bt::dht::bench
