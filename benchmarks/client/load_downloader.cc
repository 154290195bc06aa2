#include "benchmarks/client/load_downloader.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "base/bytes.h"
#include "base/status_macros.h"

namespace bt::benchmarks {
namespace {

using protocol::kBlockSize;

uint64_t Key(uint32_t piece, uint32_t begin) {
  return uint64_t{piece} << 32 | begin;
}

}  // namespace

absl::StatusOr<LoadTarget> LoadTarget::FromTorrent(
    const metainfo::TorrentInfo& info) {
  if (!info.has_v1() || !info.info_hash_v1()) {
    return absl::InvalidArgumentError(
        absl::StrCat("torrent '", info.name(), "' has no v1 piece hashes"));
  }
  LoadTarget t;
  t.info_hash = *info.info_hash_v1();
  t.total_size = info.total_size();
  t.piece_length = info.piece_length();
  t.piece_hashes.reserve(info.num_pieces());
  for (uint32_t i = 0; i < info.num_pieces(); ++i) {
    t.piece_hashes.push_back(info.piece_hash(i));
  }
  return t;
}

int64_t LoadTarget::PieceSize(uint32_t piece) const {
  return std::min(piece_length, total_size - int64_t{piece} * piece_length);
}

LoadDownloader::LoadDownloader(const LoadTarget* target,
                               const LoadDownloaderOptions& options)
    : target_(target),
      options_(options),
      parser_(protocol::ParserOptions{.expect_handshake = true,
                                      .num_pieces = target->num_pieces(),
                                      .fast_extension = false}),
      blocks_per_piece_((target->piece_length + kBlockSize - 1) / kBlockSize),
      blocks_(size_t{target->num_pieces()} * blocks_per_piece_, kNeeded) {
  // Blocks past the end of a short last piece never need fetching.
  if (uint32_t last = target->num_pieces(); last > 0) {
    --last;
    for (uint32_t b = BlocksIn(last); b < blocks_per_piece_; ++b) {
      blocks_[size_t{last} * blocks_per_piece_ + b] = kReceived;
    }
  }
}

void LoadDownloader::Start(std::string* out) {
  protocol::Handshake hs;
  hs.info_hash = target_->info_hash;
  hs.peer_id = options_.peer_id;
  protocol::AppendHandshake(hs, out);
  protocol::AppendMessage(protocol::Interested{}, out);
}

absl::Status LoadDownloader::OnReceived(std::string_view bytes,
                                        Clock::time_point now,
                                        std::string* out) {
  parser_.Feed(bytes);
  while (true) {
    ASSIGN_OR_RETURN(std::optional<protocol::Message> m, parser_.Next());
    if (!m) {
      break;
    }
    RETURN_IF_ERROR(Handle(*m, now));
  }
  FillPipeline(now, out);
  return absl::OkStatus();
}

absl::Status LoadDownloader::Handle(const protocol::Message& m,
                                    Clock::time_point now) {
  if (const auto* hs = std::get_if<protocol::Handshake>(&m)) {
    if (hs->info_hash != target_->info_hash) {
      return absl::FailedPreconditionError(
          "handshake: the peer answered for another info-hash");
    }
    handshaken_ = true;
  } else if (const auto* bf = std::get_if<protocol::Bitfield>(&m)) {
    for (uint32_t i = 0; i < target_->num_pieces(); ++i) {
      if (!(static_cast<uint8_t>(bf->bits[i / 8]) & (0x80 >> (i % 8)))) {
        return absl::FailedPreconditionError(
            absl::StrCat("bitfield: the peer lacks piece ", i,
                         "; the load generator needs a seed"));
      }
    }
    peer_is_seed_ = true;
  } else if (std::holds_alternative<protocol::Unchoke>(m)) {
    unchoked_ = true;
  } else if (std::holds_alternative<protocol::Choke>(m)) {
    if (unchoked_) {
      ++chokes_;
    }
    unchoked_ = false;
    DropOutstanding();
  } else if (const auto* p = std::get_if<protocol::Piece>(&m)) {
    return OnPiece(*p, now);
  }
  // Have, keep-alive, requests and anything else: nothing to do.
  return absl::OkStatus();
}

absl::Status LoadDownloader::OnPiece(const protocol::Piece& p,
                                     Clock::time_point now) {
  const uint32_t block = p.begin / kBlockSize;
  if (p.begin % kBlockSize != 0 || block >= BlocksIn(p.piece) ||
      p.data.size() != BlockSize(p.piece, block)) {
    return absl::InvalidArgumentError(
        absl::StrCat("piece message: block at ", p.begin, " of piece ", p.piece,
                     " with ", p.data.size(), " bytes"));
  }
  BlockState& state = blocks_[size_t{p.piece} * blocks_per_piece_ + block];
  if (state == kReceived) {
    ++duplicate_blocks_;
    return absl::OkStatus();
  }
  state = kReceived;
  if (auto it = outstanding_.find(Key(p.piece, p.begin));
      it != outstanding_.end()) {
    latencies_us_.push_back(
        std::chrono::duration_cast<std::chrono::microseconds>(now - it->second)
            .count());
    outstanding_.erase(it);
  }
  HashBlock(p.piece, block, p.data);
  return absl::OkStatus();
}

void LoadDownloader::HashBlock(uint32_t piece, uint32_t block,
                               std::string_view data) {
  PieceHash& ph = hashing_[piece];
  if (block != ph.next_block) {
    ph.early.emplace(block, std::string(data));
    return;
  }
  ph.hasher.Update(AsBytes(data));
  ++ph.next_block;
  for (auto it = ph.early.begin();
       it != ph.early.end() && it->first == ph.next_block;
       it = ph.early.erase(it)) {
    ph.hasher.Update(AsBytes(it->second));
    ++ph.next_block;
  }
  if (ph.next_block == BlocksIn(piece)) {
    FinishPiece(piece, ph);
  }
}

void LoadDownloader::FinishPiece(uint32_t piece, PieceHash& ph) {
  if (ph.hasher.Final() == target_->piece_hashes[piece]) {
    verified_bytes_ += target_->PieceSize(piece);
  } else {
    ++hash_failures_;
  }
  ++pieces_done_;
  hashing_.erase(piece);
}

void LoadDownloader::DropOutstanding() {
  for (const auto& [key, sent] : outstanding_) {
    const uint32_t piece = key >> 32;
    const uint32_t block = static_cast<uint32_t>(key) / kBlockSize;
    blocks_[size_t{piece} * blocks_per_piece_ + block] = kNeeded;
  }
  outstanding_.clear();
  cursor_ = 0;
}

void LoadDownloader::FillPipeline(Clock::time_point now, std::string* out) {
  if (!handshaken_ || !peer_is_seed_ || !unchoked_) {
    return;
  }
  const uint32_t n = target_->num_pieces();
  const uint64_t end = uint64_t{n} * blocks_per_piece_;
  while (outstanding_.size() < static_cast<size_t>(options_.pipeline) &&
         cursor_ < end) {
    const uint32_t piece =
        (options_.first_piece + cursor_ / blocks_per_piece_) % n;
    const uint32_t block = cursor_ % blocks_per_piece_;
    ++cursor_;
    BlockState& state = blocks_[size_t{piece} * blocks_per_piece_ + block];
    if (state != kNeeded) {
      continue;
    }
    state = kRequested;
    const uint32_t begin = block * kBlockSize;
    protocol::AppendRequest(piece, begin, BlockSize(piece, block), out);
    outstanding_.emplace(Key(piece, begin), now);
  }
}

uint32_t LoadDownloader::BlocksIn(uint32_t piece) const {
  return (target_->PieceSize(piece) + kBlockSize - 1) / kBlockSize;
}

uint32_t LoadDownloader::BlockSize(uint32_t piece, uint32_t block) const {
  return std::min<int64_t>(
      kBlockSize, target_->PieceSize(piece) - int64_t{block} * kBlockSize);
}

}  // namespace bt::benchmarks
