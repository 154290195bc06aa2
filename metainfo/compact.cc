#include "metainfo/compact.h"

#include "absl/strings/str_format.h"
#include "base/byte_reader.h"
#include "base/byte_writer.h"

namespace bt::metainfo {
namespace {

absl::Status BadLength(std::string_view what, size_t length, size_t entry) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: length %d is not a multiple of %d bytes (%d trailing bytes at "
      "byte %d)",
      what, length, entry, length % entry, length - length % entry));
}

// ReadPeer reads an address of `address_size` bytes and a port.
Endpoint ReadPeer(ByteReader& r, size_t address_size) {
  ByteSpan address;
  uint16_t port = 0;
  r.ReadBytes(address_size, &address);  // callers checked the length
  r.ReadU16(&port);
  Endpoint e;
  Endpoint::FromBytes(address, port, &e);
  return e;
}

absl::StatusOr<std::vector<Endpoint>> ParsePeers(std::string_view data,
                                                 size_t address_size,
                                                 std::string_view what) {
  const size_t entry = address_size + 2;
  if (data.size() % entry != 0) return BadLength(what, data.size(), entry);
  std::vector<Endpoint> peers;
  peers.reserve(data.size() / entry);
  ByteReader r(data);
  while (!r.empty()) peers.push_back(ReadPeer(r, address_size));
  return peers;
}

absl::StatusOr<std::vector<NodeInfo>> ParseNodes(std::string_view data,
                                                 size_t address_size,
                                                 std::string_view what) {
  const size_t entry = NodeId::size() + address_size + 2;
  if (data.size() % entry != 0) return BadLength(what, data.size(), entry);
  std::vector<NodeInfo> nodes;
  nodes.reserve(data.size() / entry);
  ByteReader r(data);
  while (!r.empty()) {
    NodeInfo n;
    r.CopyBytes(NodeId::size(), n.id.data());
    n.endpoint = ReadPeer(r, address_size);
    nodes.push_back(n);
  }
  return nodes;
}

}  // namespace

absl::StatusOr<std::vector<Endpoint>> ParseCompactPeers4(std::string_view data) {
  return ParsePeers(data, 4, "compact IPv4 peers");
}

absl::StatusOr<std::vector<Endpoint>> ParseCompactPeers6(std::string_view data) {
  return ParsePeers(data, 16, "compact IPv6 peers");
}

absl::StatusOr<Endpoint> ParseCompactPeer(std::string_view data) {
  if (data.size() != kCompactPeer4Size && data.size() != kCompactPeer6Size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "compact peer: length %d, expected 6 (IPv4) or 18 (IPv6) bytes",
        data.size()));
  }
  ByteReader r(data);
  return ReadPeer(r, data.size() - 2);
}

absl::StatusOr<std::vector<NodeInfo>> ParseCompactNodes4(std::string_view data) {
  return ParseNodes(data, 4, "compact IPv4 node info");
}

absl::StatusOr<std::vector<NodeInfo>> ParseCompactNodes6(std::string_view data) {
  return ParseNodes(data, 16, "compact IPv6 node info");
}

void AppendCompactPeer(const Endpoint& peer, std::string* out) {
  ByteWriter(out).Bytes(peer.address_bytes()).U16(peer.port());
}

void AppendCompactNode(const NodeInfo& node, std::string* out) {
  ByteWriter(out).Bytes(node.id.span());
  AppendCompactPeer(node.endpoint, out);
}

}  // namespace bt::metainfo
