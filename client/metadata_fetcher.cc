#include "client/metadata_fetcher.h"

#include <algorithm>

#include "base/sha.h"
#include "protocol/ut_metadata.h"

namespace bt::client {

MetadataFetcher::MetadataFetcher(std::optional<Sha1Hash> v1,
                                 std::optional<Sha256Hash> v2)
    : v1_(v1), v2_(v2) {}

bool MetadataFetcher::OnSizeOffered(uint64_t peer, uint64_t size) {
  if (size == 0 || size > kMaxMetadataSize) return false;
  if (size_ != 0) return size == size_;
  size_ = size;
  pieces_.assign(protocol::MetadataPieceCount(size), Piece());
  buffer_.assign(size, '\0');
  return true;
}

std::optional<uint32_t> MetadataFetcher::NextRequest(uint64_t peer,
                                                     absl::Time now) {
  if (done_ || pieces_.empty()) return std::nullopt;
  std::optional<uint32_t> stale;
  for (uint32_t i = 0; i < pieces_.size(); ++i) {
    Piece& p = pieces_[i];
    if (p.received) continue;
    if (!p.requested) {
      p.requested = true;
      p.from = peer;
      p.asked = now;
      return i;
    }
    if (!stale && p.from != peer && now - p.asked >= kRequestTimeout) stale = i;
  }
  if (stale) {
    pieces_[*stale].from = peer;
    pieces_[*stale].asked = now;
  }
  return stale;
}

void MetadataFetcher::OnReject(uint64_t peer, uint32_t piece) {
  if (piece < pieces_.size() && !pieces_[piece].received &&
      pieces_[piece].from == peer) {
    pieces_[piece].requested = false;
  }
}

void MetadataFetcher::OnPeerGone(uint64_t peer) {
  for (Piece& p : pieces_) {
    if (!p.received && p.from == peer) p.requested = false;
  }
}

MetadataFetcher::Result MetadataFetcher::OnData(uint64_t peer, uint32_t piece,
                                                std::string_view data,
                                                std::vector<uint64_t>* culprits) {
  if (done_ || piece >= pieces_.size() || pieces_[piece].received) {
    return Result::kIgnored;
  }
  const uint64_t offset = uint64_t{piece} * protocol::kMetadataPieceSize;
  const uint64_t expected =
      std::min<uint64_t>(protocol::kMetadataPieceSize, size_ - offset);
  if (data.size() != expected) return Result::kIgnored;
  std::copy(data.begin(), data.end(), buffer_.begin() + offset);
  pieces_[piece].received = true;
  pieces_[piece].from = peer;
  if (++received_ < pieces_.size()) return Result::kStored;
  if (Verify()) {
    done_ = true;
    return Result::kComplete;
  }
  if (culprits) {
    for (const Piece& p : pieces_) {
      if (std::find(culprits->begin(), culprits->end(), p.from) ==
          culprits->end()) {
        culprits->push_back(p.from);
      }
    }
  }
  pieces_.assign(pieces_.size(), Piece());
  received_ = 0;
  return Result::kHashFailed;
}

bool MetadataFetcher::Verify() const {
  if (v1_) return Sha1(AsBytes(buffer_)) == *v1_;
  return v2_ && Sha256(AsBytes(buffer_)) == *v2_;
}

}  // namespace bt::client
