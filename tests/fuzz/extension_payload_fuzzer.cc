// Fuzzes the BEP 10 handshake, ut_metadata and ut_pex payload parsers (the
// first byte picks one). Whatever parses must re-encode to something that
// parses back to the same value.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/extension_handshake.h"
#include "protocol/ut_metadata.h"
#include "protocol/ut_pex.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string out;
  switch (data[0] % 3) {
    case 0: {
      auto hs = bt::protocol::ParseExtensionHandshake(payload);
      if (!hs.ok()) return 0;
      bt::protocol::AppendExtensionHandshake(*hs, &out);
      auto back = bt::protocol::ParseExtensionHandshake(out);
      if (!back.ok() || !(*back == *hs)) std::abort();
      break;
    }
    case 1: {
      auto m = bt::protocol::ParseMetadataMessage(payload);
      if (!m.ok()) return 0;
      bt::protocol::AppendMetadataMessage(*m, &out);
      auto back = bt::protocol::ParseMetadataMessage(out);
      if (!back.ok() || !(*back == *m)) std::abort();
      break;
    }
    case 2: {
      auto m = bt::protocol::ParsePexMessage(payload);
      if (!m.ok()) return 0;
      bt::protocol::AppendPexMessage(*m, &out);
      auto back = bt::protocol::ParsePexMessage(out);
      if (!back.ok() || !(*back == *m)) std::abort();
      break;
    }
  }
  return 0;
}
