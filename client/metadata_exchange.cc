#include "client/metadata_exchange.h"

#include "absl/strings/str_format.h"

namespace bt::client {

MetadataExchange::MetadataExchange(std::optional<Sha1Hash> v1,
                                   std::optional<Sha256Hash> v2)
    : metadata_(v1, v2) {}

std::unique_ptr<MetadataExchange> MetadataExchange::ForPieceLayers(
    metainfo::TorrentInfo info) {
  auto exchange = std::make_unique<MetadataExchange>(info.info_hash_v1(),
                                                     info.info_hash_v2());
  exchange->info_known_ = true;
  exchange->layers_ = std::make_unique<PieceLayerFetcher>(info);
  exchange->layerless_ = std::move(info);
  return exchange;
}

void MetadataExchange::OnSizeOffered(uint64_t peer, uint64_t size) {
  metadata_.OnSizeOffered(peer, size);
}

MetadataExchange::Result MetadataExchange::OnPiece(
    uint64_t peer, const MetadataPieceArrived& m) {
  Result result;
  if (info_known_ || metadata_.done()) return result;
  switch (metadata_.OnData(peer, m.piece, m.total_size, m.data, &result.liars)) {
    case MetadataFetcher::Result::kComplete:
      return AdoptMetadata();
    default:
      return result;
  }
}

void MetadataExchange::OnPieceRejected(uint64_t peer, uint32_t piece) {
  metadata_.OnReject(peer, piece);
}

MetadataExchange::Result MetadataExchange::AdoptMetadata() {
  Result result;
  absl::StatusOr<metainfo::TorrentInfo> info =
      metainfo::TorrentInfo::ParseInfoDict(metadata_.metadata());
  if (!info.ok()) {
    result.error = absl::Status(
        info.status().code(),
        absl::StrFormat("metadata from peers: %s", info.status().message()));
    return result;
  }
  if (!info->has_piece_layers() && !info->has_v1()) {
    // v2 only: pieces can be checked once peers hand over the layers.
    layers_ = std::make_unique<PieceLayerFetcher>(*info);
    layerless_ = *std::move(info);
    if (layers_->done()) return OnHashes(0, {});
    return result;
  }
  result.info = *std::move(info);
  return result;
}

MetadataExchange::Result MetadataExchange::OnHashes(uint64_t peer,
                                                    const HashesArrived& m) {
  Result result;
  if (!layers_) return result;
  if (!layers_->done()) {
    const PieceLayerFetcher::Result r =
        layers_->OnHashes(peer, protocol::Hashes{m.range, m.hashes});
    // Hashes that do not prove out are made up, not a transfer error.
    if (r == PieceLayerFetcher::Result::kBad) result.liars.push_back(peer);
    if (r != PieceLayerFetcher::Result::kComplete) return result;
  }
  metainfo::TorrentInfo info = *std::move(layerless_);
  layerless_.reset();
  result.error = info.AddPieceLayers(layers_->PieceLayers());
  layers_.reset();
  if (result.error.ok()) result.info = std::move(info);
  return result;
}

void MetadataExchange::OnHashesRejected(uint64_t peer,
                                        const protocol::HashRange& range) {
  if (layers_) layers_->OnReject(peer, range);
}

void MetadataExchange::OnPeerGone(uint64_t peer) {
  metadata_.OnPeerGone(peer);
  if (layers_) layers_->OnPeerGone(peer);
}

void MetadataExchange::RequestFrom(PeerSession& s, uint64_t peer,
                                   absl::Time now) {
  if (!s.active()) return;
  if (!info_known_ && !metadata_.done() && s.offers_metadata()) {
    while (s.metadata_requests() < kRequestsPerPeer && !s.closed()) {
      std::optional<uint32_t> piece = metadata_.NextRequest(peer, now);
      if (!piece) break;
      s.RequestMetadataPiece(*piece, now);
    }
  }
  if (layers_) {
    while (s.hash_requests() < kRequestsPerPeer && !s.closed()) {
      std::optional<protocol::HashRange> r = layers_->NextRequest(peer, now);
      if (!r) break;
      s.RequestHashes(*r, now);
    }
  }
}

std::pair<uint32_t, uint32_t> MetadataExchange::metadata_progress() const {
  return {metadata_.pieces_received(), metadata_.pieces_total()};
}

std::pair<uint32_t, uint32_t> MetadataExchange::piece_layer_progress() const {
  if (!layers_) return {0, 0};
  return {static_cast<uint32_t>(layers_->ranges_received()),
          static_cast<uint32_t>(layers_->ranges_total())};
}

}  // namespace bt::client
