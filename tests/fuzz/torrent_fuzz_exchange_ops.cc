// The torrent fuzz harness's exchange operations: extension handshakes,
// ut_metadata requests and pieces, PEX, and BEP 52 hash requests and
// answers, rightly or not.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/merkle_hashes.h"
#include "protocol/message.h"
#include "protocol/ut_metadata.h"
#include "protocol/ut_pex.h"
#include "tests/fuzz/torrent_fuzz_harness.h"

namespace bt::client::torrent_fuzz {
namespace {

// InfoPiece is metadata piece `piece` of `info`; nullopt past its end.
std::optional<std::string_view> InfoPiece(const std::string& info,
                                          uint32_t piece) {
  const size_t off = size_t{piece} * protocol::kMetadataPieceSize;
  if (off >= info.size()) return std::nullopt;
  return std::string_view(info).substr(off, protocol::kMetadataPieceSize);
}

}  // namespace

// ExchangeOp performs an extension, metadata or hash operation; false if
// `op` is not one.
bool Harness::ExchangeOp(uint8_t op, Slot& s, Reader& in) {
  switch (op) {
    case kOpExtHandshake:
      Send(s, ExtHandshakeBytes(in.Byte()));
      return true;
    case kOpMetadataRequest:
      SendMetadataRequest(s, in.Byte());
      return true;
    case kOpMetadataData:
      SendMetadataData(s, in.Byte());
      return true;
    case kOpMetadataAll:
      AnswerMetadataAndHashes(s);
      return true;
    case kOpPex:
      SendPex(s, in.Byte());
      return true;
    case kOpHashRequest:
      SendHashRequest(s, in.Byte());
      return true;
    case kOpHashes:
    case kOpHashReject:
      SendHashes(op, s, in.Byte());
      return true;
    default:
      return false;
  }
}

void Harness::SendMetadataRequest(Slot& s, uint8_t arg) {
  Send(s, MetadataBytes(s, {protocol::MetadataMessageType::kRequest,
                            uint32_t(arg & 7)}));
}

// SendMetadataData answers one of our metadata requests (bits 0-1 which;
// or sends a piece unasked): bits 5-7 right, a liar, the wrong total size,
// or a reject.
void Harness::SendMetadataData(Slot& s, uint8_t arg) {
  protocol::MetadataMessage m;
  m.piece = arg & 3;
  if (!s.metadata_requests.empty()) {
    m.piece = TakeAt(s.metadata_requests, arg & 3);
  }
  std::string data;
  if ((arg >> 5) == 7) {
    m.type = protocol::MetadataMessageType::kReject;
  } else {
    m.type = protocol::MetadataMessageType::kData;
    m.total_size = full_->info_bytes().size();
    const std::optional<std::string_view> piece =
        InfoPiece(full_->info_bytes(), m.piece);
    data = piece ? std::string(*piece) : std::string("x");
    switch (arg >> 5) {
      case 4:
      case 5:
        data[data.size() / 2] ^= 0x01;  // a liar
        break;
      case 6:
        m.total_size += 1;  // another size
        break;
      default:
        break;
    }
    m.data = data;
  }
  Send(s, MetadataBytes(s, m));
}

// AnswerMetadataAndHashes answers every metadata and hash request seen,
// rightly, in one delivery.
void Harness::AnswerMetadataAndHashes(Slot& s) {
  std::string out;
  for (uint32_t piece : s.metadata_requests) {
    protocol::MetadataMessage m;
    m.piece = piece;
    if (std::optional<std::string_view> data =
            InfoPiece(full_->info_bytes(), piece)) {
      m.type = protocol::MetadataMessageType::kData;
      m.total_size = full_->info_bytes().size();
      m.data = *data;
    } else {
      m.type = protocol::MetadataMessageType::kReject;
    }
    out += MetadataBytes(s, m);
  }
  s.metadata_requests.clear();
  for (const protocol::HashRange& r : s.hash_requests) {
    if (std::optional<std::string> h = HashesFor(r)) {
      protocol::AppendMessage(protocol::Hashes{r, *h}, &out);
    } else {
      protocol::AppendMessage(protocol::HashReject{r}, &out);
    }
  }
  s.hash_requests.clear();
  Send(s, out);
}

// SendPex: bits 0-2 how many IPv4 peers added; bit 6 an IPv6 one; bit 7 one
// dropped.
void Harness::SendPex(Slot& s, uint8_t arg) {
  protocol::PexMessage pex;
  for (int i = 0; i < (arg & 7); ++i) {
    pex.added.push_back(AddressOf(static_cast<uint8_t>(arg + i * 9)));
  }
  if (arg & 0x80) pex.dropped.push_back(AddressOf(arg >> 3));
  if (arg & 0x40) {
    pex.added6.push_back(Endpoint::V6(
        {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, arg}, 6881));
  }
  std::string payload, out;
  protocol::AppendPexMessage(pex, &payload);
  protocol::AppendExtended(s.our_ut_pex, payload, &out);
  Send(s, out);
}

// SendHashRequest asks for one of the torrent's piece layers (bit 5 twice
// as long, bit 6 without proof), or (bit 7, or no layers) for block hashes
// within a piece of a file (bit 0: the first), perhaps (bit 1) under a
// made-up root.
void Harness::SendHashRequest(Slot& s, uint8_t arg) {
  std::vector<protocol::HashRange> ranges = protocol::PieceLayerRequests(*full_);
  protocol::HashRange r;
  if (!ranges.empty() && !(arg & 0x80)) {
    r = ranges[arg % ranges.size()];
    if (arg & 0x40) r.proof_layers = 0;
    if (arg & 0x20) r.length *= 2;
  } else {
    for (size_t f = 0; f < full_->files().size(); ++f) {
      if (full_->files()[f].pieces_root) {
        r.pieces_root = *full_->files()[f].pieces_root;
        if (arg & 1) break;
      }
    }
    if (arg & 2) r.pieces_root.mutable_span()[0] ^= 1;
    r.base_layer = 0;
    r.index = ((arg >> 2) & 3) * 2;
    r.length = 2;
    r.proof_layers = (arg >> 4) & 3;
  }
  SendMessage(s, protocol::HashRequest{r});
}

// SendHashes answers one of our hash requests (or a piece layer unasked):
// a reject for kOpHashReject, else the hashes, a liar's (bit 6) or short
// (bit 7).
void Harness::SendHashes(uint8_t op, Slot& s, uint8_t arg) {
  if (s.hash_requests.empty()) {
    std::vector<protocol::HashRange> ranges =
        protocol::PieceLayerRequests(*full_);
    if (ranges.empty()) return;
    s.hash_requests.push_back(ranges[arg % ranges.size()]);
  }
  const protocol::HashRange r = TakeAt(s.hash_requests, arg);
  std::optional<std::string> hashes = HashesFor(r);
  if (op == kOpHashReject || !hashes) {
    SendMessage(s, protocol::HashReject{r});
    return;
  }
  if (arg & 0x40) (*hashes)[(arg >> 3) % hashes->size()] ^= 1;  // a liar
  if (arg & 0x80) hashes->resize(hashes->size() - 32);           // short
  SendMessage(s, protocol::Hashes{r, *hashes});
}

}  // namespace bt::client::torrent_fuzz
