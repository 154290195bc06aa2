// Compact peer and node encodings shared by trackers, the DHT and PEX:
//   - compact peer: 4-byte IPv4 address + 2-byte port (6 bytes, BEP 23) or
//     16-byte IPv6 address + 2-byte port (18 bytes, BEP 7), network order;
//   - compact node info: 20-byte node id followed by a compact peer
//     (26 bytes for IPv4, BEP 5; 38 bytes for IPv6, BEP 32).
// A list is the plain concatenation of its entries; parsing is strict: a
// length that is not an exact multiple of the entry size is an error.
//
//   ASSIGN_OR_RETURN(std::vector<bt::Endpoint> peers,
//                    bt::metainfo::ParseCompactPeers4(peers_string));
//   std::string out;
//   for (const bt::Endpoint& p : peers) bt::metainfo::AppendCompactPeer(p, &out);
#ifndef METAINFO_COMPACT_H_
#define METAINFO_COMPACT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/endpoint.h"
#include "base/hash.h"

namespace bt::metainfo {

inline constexpr size_t kCompactPeer4Size = 6;
inline constexpr size_t kCompactPeer6Size = 18;
inline constexpr size_t kCompactNode4Size = 26;
inline constexpr size_t kCompactNode6Size = 38;

// NodeInfo is one DHT contact: its id and where it listens.
struct NodeInfo {
  NodeId id;
  Endpoint endpoint;

  friend bool operator==(const NodeInfo&, const NodeInfo&) = default;
};

// ParseCompactPeers4 / ParseCompactPeers6 decode a concatenation of 6-byte
// (IPv4) / 18-byte (IPv6) compact peers. An empty string is an empty list.
// Error: kInvalidArgument when the length is not a multiple of the entry
// size (the message gives the length and the size expected).
absl::StatusOr<std::vector<Endpoint>> ParseCompactPeers4(std::string_view data);
absl::StatusOr<std::vector<Endpoint>> ParseCompactPeers6(std::string_view data);

// ParseCompactPeer decodes exactly one compact peer of 6 or 18 bytes (as in
// the DHT's "values" list or PEX); kInvalidArgument for any other length.
absl::StatusOr<Endpoint> ParseCompactPeer(std::string_view data);

// ParseCompactNodes4 / ParseCompactNodes6 decode a concatenation of 26-byte
// (IPv4) / 38-byte (IPv6) compact node infos. Errors as for the peer lists.
absl::StatusOr<std::vector<NodeInfo>> ParseCompactNodes4(std::string_view data);
absl::StatusOr<std::vector<NodeInfo>> ParseCompactNodes6(std::string_view data);

// AppendCompactPeer appends the 6-byte (IPv4) or 18-byte (IPv6) form of
// `peer` to `*out`.
void AppendCompactPeer(const Endpoint& peer, std::string* out);

// AppendCompactNode appends the 26-byte (IPv4) or 38-byte (IPv6) form of
// `node` to `*out`.
void AppendCompactNode(const NodeInfo& node, std::string* out);

}  // namespace bt::metainfo

#endif  // METAINFO_COMPACT_H_
