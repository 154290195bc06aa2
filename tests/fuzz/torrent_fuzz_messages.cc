// What the torrent fuzz harness's peers send when they follow the rules:
// their addresses and ids, handshakes, blocks, metadata pieces and hashes
// of the torrent. The operations distort these.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "base/bytes.h"
#include "protocol/extension_handshake.h"
#include "protocol/handshake.h"
#include "storage/bitfield.h"
#include "tests/fuzz/torrent_fuzz_harness.h"

namespace bt::client::torrent_fuzz {

Endpoint AddressOf(uint8_t a) {
  return Endpoint::V4({10, 0, 0, static_cast<uint8_t>(1 + (a & 7))},
                      static_cast<uint16_t>(6000 + ((a >> 3) & 3)));
}

PeerId FuzzPeerId(char kind, size_t index) {
  std::string id = "-FZ000?-000000000000";
  id[6] = kind;
  id[19] = static_cast<char>('a' + index % 26);
  id[18] = static_cast<char>('a' + index / 26 % 26);
  return PeerId::FromBytes(AsBytes(id));
}

// HandshakeBytes: bit 0 another torrent's info hash; bits 1-2 no extension
// protocol, no fast extension; bit 3 DHT; bit 4 our own peer id.
std::string Harness::HandshakeBytes(const Slot& s, uint8_t flags) const {
  protocol::Handshake hs;
  if (!(flags & 0x02)) hs.reserved.Set(protocol::ReservedBit::kExtension);
  if (!(flags & 0x04)) hs.reserved.Set(protocol::ReservedBit::kFast);
  if (flags & 0x08) hs.reserved.Set(protocol::ReservedBit::kDht);
  hs.info_hash = t_->info_hash();
  if (flags & 0x01) hs.info_hash.mutable_span()[0] ^= 1;  // another torrent
  hs.peer_id = (flags & 0x10) ? sim_->peer_id() : s.peer_id;
  std::string out;
  protocol::AppendHandshake(hs, &out);
  return out;
}

// ExtHandshakeBytes: bits 0-1 no ut_metadata, no ut_pex; bits 2-3 the
// metadata size: right, none, too large (by bits 6-7 pieces), or absurd
// (bit 6: zero, else 1 TiB); bit 4 a small reqq; bit 5 no listen port.
std::string Harness::ExtHandshakeBytes(uint8_t flags) const {
  protocol::ExtensionHandshake hs;
  if (!(flags & 0x01)) hs.m["ut_metadata"] = kPeerUtMetadata;
  if (!(flags & 0x02)) hs.m["ut_pex"] = kPeerUtPex;
  switch ((flags >> 2) & 3) {
    case 0:
      hs.metadata_size = full_->info_bytes().size();
      break;
    case 1:
      break;
    case 2:
      hs.metadata_size = full_->info_bytes().size() + 1 + (flags >> 6) * 16384;
      break;
    case 3:
      hs.metadata_size = (flags & 0x40) ? 0 : uint64_t{1} << 40;
      break;
  }
  if (flags & 0x10) hs.reqq = 2;
  if (!(flags & 0x20)) hs.p = 6881;
  hs.v = "fuzz";
  std::string payload, out;
  protocol::AppendExtensionHandshake(hs, &payload);
  protocol::AppendExtended(0, payload, &out);
  return out;
}

std::string Harness::MetadataBytes(const Slot& s,
                                   const protocol::MetadataMessage& m) {
  std::string payload, out;
  protocol::AppendMetadataMessage(m, &payload);
  protocol::AppendExtended(s.our_ut_metadata, payload, &out);
  return out;
}

std::string Harness::BlockBytes(uint32_t piece, uint32_t begin,
                                uint32_t length) const {
  const uint64_t off = uint64_t{piece} * full_->piece_length() + begin;
  std::string data =
      off < space_.size() ? space_.substr(off, length) : std::string();
  data.resize(length, '\0');
  return data;
}

std::string Harness::AllPiecesBitfield() const {
  return storage::Bitfield(NumPieces(), true).ToBytes();
}

// HashesFor answers a BEP 52 hash request from the file's Merkle tree;
// nullopt if no file has that root or the range is not in it.
std::optional<std::string> Harness::HashesFor(const protocol::HashRange& r) {
  auto it = trees_.find(r.pieces_root);
  if (it == trees_.end()) {
    std::optional<size_t> file =
        protocol::FileWithPiecesRoot(*full_, r.pieces_root);
    if (!file) return std::nullopt;
    absl::StatusOr<protocol::PieceLayerTree> tree =
        protocol::PieceLayerTree::ForFile(*full_, *file);
    if (!tree.ok()) return std::nullopt;
    it = trees_.emplace(r.pieces_root, *std::move(tree)).first;
  }
  absl::StatusOr<std::string> answer = it->second.Answer(r);
  if (!answer.ok()) return std::nullopt;
  return *std::move(answer);
}

}  // namespace bt::client::torrent_fuzz
