#include "client/piece_layer_fetcher.h"

#include <algorithm>
#include <map>

#include "bencode/encoder.h"
#include "protocol/merkle_hashes.h"

namespace bt::client {

PieceLayerFetcher::PieceLayerFetcher(const metainfo::TorrentInfo& info) {
  const int64_t plen = info.piece_length();
  for (const protocol::HashRange& r : protocol::PieceLayerRequests(info)) {
    Range range;
    range.range = r;
    const std::optional<size_t> file =
        protocol::FileWithPiecesRoot(info, r.pieces_root);
    // A .torrent file may carry some layers: only the missing are asked.
    if (file && !info.piece_layer(*file).empty()) continue;
    const int64_t size = file ? info.files()[*file].size : 0;
    range.file_pieces = static_cast<uint32_t>((size + plen - 1) / plen);
    ranges_.push_back(std::move(range));
  }
}

std::optional<protocol::HashRange> PieceLayerFetcher::NextRequest(
    uint64_t peer, absl::Time now) {
  for (Range& r : ranges_) {
    if (r.received) continue;
    if (r.asked && now - r.asked_at < kRequestTimeout) continue;
    if (std::find(r.refused_by.begin(), r.refused_by.end(), peer) !=
        r.refused_by.end()) {
      continue;
    }
    r.asked = true;
    r.asked_peer = peer;
    r.asked_at = now;
    return r.range;
  }
  return std::nullopt;
}

PieceLayerFetcher::Range* PieceLayerFetcher::Find(
    uint64_t peer, const protocol::HashRange& range) {
  for (Range& r : ranges_) {
    if (r.range == range && r.asked && r.asked_peer == peer) return &r;
  }
  return nullptr;
}

PieceLayerFetcher::Result PieceLayerFetcher::OnHashes(
    uint64_t peer, const protocol::Hashes& m) {
  Range* r = Find(peer, m.range);
  if (r == nullptr || r->received) return Result::kIgnored;
  r->asked = false;
  absl::StatusOr<std::vector<Sha256Hash>> hashes = protocol::VerifyHashes(m);
  if (!hashes.ok()) {
    r->refused_by.push_back(peer);
    return Result::kBad;
  }
  r->hashes = *std::move(hashes);
  r->received = true;
  ++received_;
  return done() ? Result::kComplete : Result::kStored;
}

void PieceLayerFetcher::OnReject(uint64_t peer,
                                 const protocol::HashRange& range) {
  Range* r = Find(peer, range);
  if (r == nullptr) return;
  r->asked = false;
  r->refused_by.push_back(peer);
}

void PieceLayerFetcher::OnPeerGone(uint64_t peer) {
  for (Range& r : ranges_) {
    if (r.asked && r.asked_peer == peer) r.asked = false;
  }
}

std::string PieceLayerFetcher::PieceLayers() const {
  std::map<std::string, std::string> layers;  // sorted keys, as bencode needs
  for (const Range& r : ranges_) {
    std::string& layer = layers[std::string(
        reinterpret_cast<const char*>(r.range.pieces_root.data()),
        Sha256Hash::kSize)];
    // Padding past the file's last piece is not part of its layer.
    const uint32_t keep = std::min<uint32_t>(
        r.range.length, r.file_pieces > r.range.index
                            ? r.file_pieces - r.range.index
                            : 0);
    for (uint32_t i = 0; i < keep; ++i) {
      layer.append(reinterpret_cast<const char*>(r.hashes[i].data()),
                   Sha256Hash::kSize);
    }
  }
  std::string out;
  bencode::Writer w(&out);
  w.BeginDict();
  for (const auto& [root, layer] : layers) w.Key(root).String(layer);
  w.End();
  return out;
}

}  // namespace bt::client
