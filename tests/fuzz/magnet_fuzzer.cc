// Fuzz target for the magnet URI parser: any input is refused or parsed,
// and what is parsed survives BuildMagnet -> ParseMagnet unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "metainfo/magnet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto m = bt::metainfo::ParseMagnet(input);
  if (!m.ok()) return 0;
  if (!m->info_hash_v1 && !m->info_hash_v2) std::abort();
  (void)m->WireInfoHash();
  auto again = bt::metainfo::ParseMagnet(bt::metainfo::BuildMagnet(*m));
  if (!again.ok() || !(*again == *m)) std::abort();
  return 0;
}
