#include "metainfo/compact.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "base/byte_writer.h"

namespace bt::metainfo {
namespace {

absl::Status BadLength(std::string_view what, size_t length, size_t entry) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: length %d is not a multiple of %d bytes (%d trailing bytes at "
      "byte %d)",
      what, length, entry, length % entry, length - length % entry));
}

// ReadPeer decodes one address of kAddressSize bytes and its port from `p`
// into `*out`; callers have checked the length. The size is a template
// argument so the copies compile to fixed-size moves: lists hold thousands.
template <size_t kAddressSize>
void ReadPeer(const uint8_t* p, Endpoint* out) {
  Endpoint::FromBytes(
      ByteSpan(p, kAddressSize),
      static_cast<uint16_t>(p[kAddressSize] << 8 | p[kAddressSize + 1]), out);
}

const uint8_t* Bytes(std::string_view data) {
  return reinterpret_cast<const uint8_t*>(data.data());
}

template <size_t kAddressSize>
absl::StatusOr<std::vector<Endpoint>> ParsePeers(std::string_view data,
                                                 std::string_view what) {
  constexpr size_t kEntry = kAddressSize + 2;
  if (data.size() % kEntry != 0) return BadLength(what, data.size(), kEntry);
  std::vector<Endpoint> peers(data.size() / kEntry);
  const uint8_t* p = Bytes(data);
  for (Endpoint& peer : peers) {
    ReadPeer<kAddressSize>(p, &peer);
    p += kEntry;
  }
  return peers;
}

template <size_t kAddressSize>
absl::StatusOr<std::vector<NodeInfo>> ParseNodes(std::string_view data,
                                                 std::string_view what) {
  constexpr size_t kEntry = NodeId::size() + kAddressSize + 2;
  if (data.size() % kEntry != 0) return BadLength(what, data.size(), kEntry);
  std::vector<NodeInfo> nodes(data.size() / kEntry);
  const uint8_t* p = Bytes(data);
  for (NodeInfo& n : nodes) {
    std::memcpy(n.id.data(), p, NodeId::size());
    ReadPeer<kAddressSize>(p + NodeId::size(), &n.endpoint);
    p += kEntry;
  }
  return nodes;
}

}  // namespace

absl::StatusOr<std::vector<Endpoint>> ParseCompactPeers4(std::string_view data) {
  return ParsePeers<4>(data, "compact IPv4 peers");
}

absl::StatusOr<std::vector<Endpoint>> ParseCompactPeers6(std::string_view data) {
  return ParsePeers<16>(data, "compact IPv6 peers");
}

absl::StatusOr<Endpoint> ParseCompactPeer(std::string_view data) {
  if (data.size() != kCompactPeer4Size && data.size() != kCompactPeer6Size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "compact peer: length %d, expected 6 (IPv4) or 18 (IPv6) bytes",
        data.size()));
  }
  Endpoint peer;
  if (data.size() == kCompactPeer4Size) {
    ReadPeer<4>(Bytes(data), &peer);
  } else {
    ReadPeer<16>(Bytes(data), &peer);
  }
  return peer;
}

absl::StatusOr<std::vector<NodeInfo>> ParseCompactNodes4(std::string_view data) {
  return ParseNodes<4>(data, "compact IPv4 node info");
}

absl::StatusOr<std::vector<NodeInfo>> ParseCompactNodes6(std::string_view data) {
  return ParseNodes<16>(data, "compact IPv6 node info");
}

void AppendCompactPeer(const Endpoint& peer, std::string* out) {
  ByteWriter(out).Bytes(peer.address_bytes()).U16(peer.port());
}

void AppendCompactNode(const NodeInfo& node, std::string* out) {
  ByteWriter(out).Bytes(node.id.span());
  AppendCompactPeer(node.endpoint, out);
}

}  // namespace bt::metainfo
