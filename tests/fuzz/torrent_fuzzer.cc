// Stateful fuzz target for the client core: one Torrent on a simulated
// client with several hostile or honest peers, driven by a script decoded
// from the input; the torrent's invariants are checked after every step and
// the pieces it has against the disk at the end. The harness, the input
// format and the checks are in torrent_fuzz_harness.h.
#include <openssl/rand.h>

#include <cstddef>
#include <cstdint>

#include "tests/fuzz/torrent_fuzz_harness.h"

// Deterministic "randomness" (piece order, choker, MSE keys) so that an
// input replays the same way every time: this definition interposes the
// shared BoringSSL's for every caller in this binary.
namespace {
uint64_t g_random_state = 1;
}  // namespace

extern "C" int RAND_bytes(uint8_t* buf, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    g_random_state += 0x9e3779b97f4a7c15ull;
    uint64_t z = g_random_state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    buf[i] = static_cast<uint8_t>(z ^ (z >> 31));
  }
  return 1;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using bt::client::torrent_fuzz::Harness;
  using bt::client::torrent_fuzz::Reader;
  g_random_state = 1;
  Reader in(data, size);
  Harness h;
  if (!h.Setup(in)) return 0;
  h.Run(in);
  return 0;
}
