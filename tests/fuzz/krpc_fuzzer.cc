// Feeds arbitrary bytes to the KRPC parser; whatever parses must re-encode to
// a packet that parses to the same encoding.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dht/krpc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view packet(reinterpret_cast<const char*>(data), size);
  bt::dht::Message m;
  if (!bt::dht::ParseMessage(packet, &m).ok()) return 0;
  std::string once = bt::dht::EncodeMessage(m);
  bt::dht::Message again;
  if (!bt::dht::ParseMessage(once, &again).ok()) std::abort();
  if (bt::dht::EncodeMessage(again) != once) std::abort();
  return 0;
}
