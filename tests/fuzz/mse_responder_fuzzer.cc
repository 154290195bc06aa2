// Fuzzes MseResponder. The first byte picks the mode: raw bytes straight
// from an attacker, or a genuine initiator's stream (deterministic keys and
// pads) with the fuzz input XORed over it, which reaches the SKEY, VC,
// PadC and IA parsing. Chunk size and policy come from the same byte.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "protocol/mse.h"

namespace {

uint8_t counter = 0;
void FixedRandom(bt::MutableByteSpan out) {
  for (uint8_t& b : out) b = static_cast<uint8_t>(++counter * 31);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const absl::Time now = absl::FromUnixSeconds(1);
  bt::Sha1Hash skey;
  skey[0] = 1;
  bt::protocol::SkeyTable table;
  table.Add(skey);
  bt::protocol::MseOptions options;
  options.random_bytes = FixedRandom;
  options.policy = static_cast<bt::protocol::EncryptionPolicy>((mode >> 1) % 3);
  options.max_initial_payload = 1000;
  counter = 0;
  bt::protocol::MseResponder responder(&table, options, now);
  std::string stream(input);
  if (mode & 1) {
    // A genuine handshake: run the initiator against a twin responder with
    // the same (fixed) randomness, then corrupt its bytes with the input.
    bt::protocol::MseOptions ao;
    ao.random_bytes = FixedRandom;
    counter = 100;
    bt::protocol::MseInitiator initiator(skey, "initial payload", ao, now);
    std::string s1, s2, s3;
    if (!initiator.Start(&s1).ok()) return 0;
    counter = 0;
    bt::protocol::MseResponder twin(&table, options, now);
    if (!twin.Receive(s1, &s2).ok()) return 0;
    if (!initiator.Receive(s2, &s3).ok()) return 0;
    stream = s1 + s3 + "trailing payload";
    for (size_t i = 0; i < input.size(); ++i) {
      stream[i % stream.size()] ^= input[i];
    }
    counter = 0;
  }
  size_t chunk = 1 + (mode >> 3) * 13;
  std::string out;
  for (size_t i = 0; i < stream.size(); i += chunk) {
    if (!responder.Receive(std::string_view(stream).substr(i, chunk), &out)
             .ok()) {
      break;
    }
  }
  if (responder.done()) {
    std::string payload = responder.TakeReceivedPayload();
    if (!responder.plaintext_handshake() && !responder.skey()) std::abort();
  }
  (void)responder.CheckDeadline(now + absl::Seconds(60));
  return 0;
}
