// The BEP 10 extension handshake: the bencoded dictionary sent as extended
// message 0 right after the BitTorrent handshake, naming the extension
// messages a peer understands and the ids it wants them sent with.
//
//   bt::protocol::ExtensionHandshake mine;
//   mine.m["ut_metadata"] = 1;
//   mine.m["ut_pex"] = 2;
//   mine.v = "btkit 0.1";
//   mine.reqq = 500;
//   std::string payload;
//   bt::protocol::AppendExtensionHandshake(mine, &payload);
//   bt::protocol::AppendExtended(0, payload, &out);
//   ...
//   ASSIGN_OR_RETURN(bt::protocol::ExtensionHandshake theirs,
//                    bt::protocol::ParseExtensionHandshake(extended.payload));
//   uint8_t metadata_id = theirs.IdOf("ut_metadata");  // 0: unsupported
#ifndef PROTOCOL_EXTENSION_HANDSHAKE_H_
#define PROTOCOL_EXTENSION_HANDSHAKE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/endpoint.h"
#include "bencode/encoder.h"

namespace bt::protocol {

struct ExtensionHandshake {
  // m: extension name -> the id the sender wants to receive it with; 0
  // means the extension is disabled.
  std::map<std::string, uint8_t, std::less<>> m;
  // p: the sender's TCP listen port.
  std::optional<uint16_t> p;
  // v: client name and version (UTF-8).
  std::optional<std::string> v;
  // yourip: the address the sender sees the receiver at (port 0).
  std::optional<Endpoint> yourip;
  // ipv4 / ipv6: the sender's own addresses (port 0).
  std::optional<Endpoint> ipv4;
  std::optional<Endpoint> ipv6;
  // reqq: how many outstanding requests the sender accepts.
  std::optional<uint32_t> reqq;
  // metadata_size (BEP 9): size of the info dictionary in bytes.
  std::optional<uint64_t> metadata_size;
  // upload_only (BEP 21): the sender only uploads (a seed or partial seed).
  std::optional<bool> upload_only;
  // unknown: every other key, kept as decoded so it can be passed on or
  // re-encoded unchanged.
  bencode::Value::Dict unknown;

  // IdOf returns the id for extension `name`, 0 when absent or disabled.
  uint8_t IdOf(std::string_view name) const {
    auto it = m.find(name);
    return it == m.end() ? 0 : it->second;
  }

  friend bool operator==(const ExtensionHandshake&,
                         const ExtensionHandshake&) = default;
};

struct ExtensionLimits {
  // Largest metadata_size accepted (kResourceExhausted above it).
  uint64_t max_metadata_size = 32 << 20;
  // Largest number of entries in `m`.
  size_t max_extensions = 256;
};

// ParseExtensionHandshake parses the payload of extended message 0.
// Errors: kInvalidArgument for malformed bencode, a payload that is not a
// dict, a known key with the wrong type or out of range (an `m` id above
// 255, a port above 65535, an address that is not 4 or 16 bytes, ipv4 not
// 4 bytes, ipv6 not 16 bytes, a negative reqq or metadata_size); the
// message names the key. kResourceExhausted when a limit is hit.
// Dictionary keys may come in any order (the message is not hashed).
absl::StatusOr<ExtensionHandshake> ParseExtensionHandshake(
    std::string_view payload, const ExtensionLimits& limits = {});

// AppendExtensionHandshake appends the canonical bencoding of `hs`
// (unknown keys included; a known field overrides an unknown key of the
// same name) to `*out`.
void AppendExtensionHandshake(const ExtensionHandshake& hs, std::string* out);

}  // namespace bt::protocol

#endif  // PROTOCOL_EXTENSION_HANDSHAKE_H_
