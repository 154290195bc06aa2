#include "protocol/merkle_hashes.h"

#include <algorithm>
#include <bit>

#include "absl/strings/str_format.h"
#include "metainfo/merkle.h"

namespace bt::protocol {

namespace {

using metainfo::kMerkleBlockSize;

int Log2(uint64_t power_of_two) { return std::countr_zero(power_of_two); }

// CheckRangeShape: the rules every request obeys whatever the tree.
absl::Status CheckRangeShape(const HashRange& r) {
  if (r.length < 2 || !std::has_single_bit(r.length) ||
      r.length > kMaxHashRequestLength) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "hash range length %d is not a power of two from 2 to %d", r.length,
        kMaxHashRequestLength));
  }
  if (r.index % r.length != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "hash range index %d is not a multiple of its length %d", r.index,
        r.length));
  }
  return absl::OkStatus();
}

// UncleCount: the proof layers not implied by `length` base hashes carry
// one hash each (the first log2(length) - 1 are implied).
uint32_t UncleCount(const HashRange& r) {
  const uint32_t implied = static_cast<uint32_t>(Log2(r.length)) - 1;
  return r.proof_layers > implied ? r.proof_layers - implied : 0;
}

// Levels returns `base` (a power of two long) and every level above it,
// up to the single root.
std::vector<std::vector<Sha256Hash>> Levels(std::vector<Sha256Hash> base) {
  std::vector<std::vector<Sha256Hash>> levels = {std::move(base)};
  while (levels.back().size() > 1) {
    const std::vector<Sha256Hash>& below = levels.back();
    std::vector<Sha256Hash> above(below.size() / 2);
    for (size_t i = 0; i < above.size(); ++i) {
      above[i] = metainfo::MerkleHashPair(below[2 * i], below[2 * i + 1]);
    }
    levels.push_back(std::move(above));
  }
  return levels;
}

void Append(const Sha256Hash& h, std::string* out) {
  out->append(reinterpret_cast<const char*>(h.data()), Sha256Hash::kSize);
}

}  // namespace

uint32_t PieceLayerBase(int64_t piece_length) {
  return static_cast<uint32_t>(
      Log2(static_cast<uint64_t>(piece_length / kMerkleBlockSize)));
}

std::optional<size_t> FileWithPiecesRoot(const metainfo::TorrentInfo& t,
                                         const Sha256Hash& root) {
  const std::vector<metainfo::FileEntry>& files = t.files();
  for (size_t i = 0; i < files.size(); ++i) {
    if (!files[i].pad() && files[i].pieces_root == root) return i;
  }
  return std::nullopt;
}

absl::StatusOr<PieceLayerTree> PieceLayerTree::ForFile(
    const metainfo::TorrentInfo& t, size_t file) {
  absl::Span<const Sha256Hash> layer = t.piece_layer(file);
  if (file >= t.files().size() || layer.empty()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "file %d has no known piece layer", file));
  }
  PieceLayerTree tree;
  tree.base_ = PieceLayerBase(t.piece_length());
  const size_t width = metainfo::MerkleTreeWidth(layer.size());
  std::vector<Sha256Hash> level(layer.begin(), layer.end());
  level.resize(width, metainfo::MerklePadHash(static_cast<int>(tree.base_)));
  tree.levels_ = Levels(std::move(level));
  return tree;
}

absl::StatusOr<std::string> PieceLayerTree::Answer(const HashRange& r) const {
  if (r.base_layer != base_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "hash request for layer %d; only the piece layer (%d) is served",
        r.base_layer, base_));
  }
  if (absl::Status s = CheckRangeShape(r); !s.ok()) return s;
  const uint64_t width = levels_[0].size();
  const uint32_t height = static_cast<uint32_t>(levels_.size() - 1);
  if (uint64_t{r.index} + r.length > width) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "hash range [%d, %d) is past the layer's %d hashes", r.index,
        uint64_t{r.index} + r.length, width));
  }
  if (r.proof_layers >= height) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%d proof layers asked of a tree %d layers high", r.proof_layers,
        height));
  }
  std::string out;
  out.reserve((r.length + UncleCount(r)) * Sha256Hash::kSize);
  for (uint32_t i = 0; i < r.length; ++i) Append(levels_[0][r.index + i], &out);
  // The uncle at level l is the sibling of the range's ancestor there.
  for (uint32_t l = static_cast<uint32_t>(Log2(r.length)); l <= r.proof_layers;
       ++l) {
    Append(levels_[l][(r.index >> l) ^ 1], &out);
  }
  return out;
}

absl::StatusOr<std::string> PieceLayerTree::AnswerBlocks(
    const HashRange& r, const PieceLeaves& leaves) const {
  if (r.base_layer != 0 || base_ == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "block hash request for layer %d of a tree whose blocks are layer 0 "
        "and pieces layer %d", r.base_layer, base_));
  }
  if (absl::Status s = CheckRangeShape(r); !s.ok()) return s;
  const uint32_t per_piece = 1u << base_;
  if (r.length > per_piece) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "block hash request for %d blocks; at most one piece (%d) is served",
        r.length, per_piece));
  }
  const uint32_t height = static_cast<uint32_t>(levels_.size() - 1) + base_;
  const uint32_t piece = r.index >> base_;
  if (piece >= levels_[0].size() || r.proof_layers >= height) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "block hash request [%d, +%d) with %d proof layers is outside a tree "
        "of %d blocks, %d layers high", r.index, r.length, r.proof_layers,
        levels_[0].size() << base_, height));
  }
  absl::StatusOr<std::vector<Sha256Hash>> got = leaves(piece);
  if (!got.ok()) return got.status();
  if (got->size() != per_piece) {
    return absl::InternalError(absl::StrFormat(
        "%d block hashes for a piece of %d blocks", got->size(), per_piece));
  }
  // The piece's own levels, from its blocks up to its root.
  const std::vector<std::vector<Sha256Hash>> below = Levels(*std::move(got));
  if (below.back()[0] != levels_[0][piece]) {
    return absl::DataLossError(absl::StrFormat(
        "our data of piece %d of the file does not match its hash", piece));
  }
  const uint32_t first = piece << base_;  // the piece's first block
  std::string out;
  for (uint32_t i = 0; i < r.length; ++i) {
    Append(below[0][r.index - first + i], &out);
  }
  for (uint32_t l = static_cast<uint32_t>(Log2(r.length)); l <= r.proof_layers;
       ++l) {
    const uint32_t sibling = (r.index >> l) ^ 1;
    Append(l < base_ ? below[l][sibling - (first >> l)]
                     : levels_[l - base_][sibling],
           &out);
  }
  return out;
}

std::vector<HashRange> PieceLayerRequests(const metainfo::TorrentInfo& t) {
  std::vector<HashRange> out;
  const int64_t plen = t.piece_length();
  const uint32_t base = PieceLayerBase(plen);
  std::vector<Sha256Hash> planned;  // identical files share one layer
  for (const metainfo::FileEntry& f : t.files()) {
    if (f.pad() || !f.pieces_root || f.size <= plen) continue;
    if (std::find(planned.begin(), planned.end(), *f.pieces_root) !=
        planned.end()) {
      continue;
    }
    planned.push_back(*f.pieces_root);
    const uint64_t pieces = static_cast<uint64_t>((f.size + plen - 1) / plen);
    const uint64_t width = metainfo::MerkleTreeWidth(pieces);
    const uint32_t length = static_cast<uint32_t>(
        std::min<uint64_t>(width, kMaxHashRequestLength));
    const uint32_t height = static_cast<uint32_t>(Log2(width));
    for (uint64_t index = 0; index < pieces; index += length) {
      out.push_back(HashRange{*f.pieces_root, base,
                              static_cast<uint32_t>(index), length,
                              height - 1});
    }
  }
  return out;
}

absl::StatusOr<std::vector<Sha256Hash>> VerifyHashes(const Hashes& m) {
  const HashRange& r = m.range;
  if (absl::Status s = CheckRangeShape(r); !s.ok()) return s;
  const size_t expected = size_t{r.length} + UncleCount(r);
  if (m.hashes.size() != expected * Sha256Hash::kSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "hashes message carries %d bytes; its range needs %d hashes",
        m.hashes.size(), expected));
  }
  std::vector<Sha256Hash> all(expected);
  for (size_t i = 0; i < expected; ++i) {
    all[i] = Sha256Hash::FromBytes(
        AsBytes(m.hashes.substr(i * Sha256Hash::kSize, Sha256Hash::kSize)));
  }
  std::vector<Sha256Hash> base(all.begin(), all.begin() + r.length);
  Sha256Hash node = metainfo::MerkleRoot(base, base.size());
  uint64_t position = r.index >> Log2(r.length);
  for (size_t i = r.length; i < expected; ++i) {
    node = (position & 1) ? metainfo::MerkleHashPair(all[i], node)
                          : metainfo::MerkleHashPair(node, all[i]);
    position >>= 1;
  }
  if (position != 0 || node != r.pieces_root) {
    return absl::DataLossError(absl::StrFormat(
        "hashes [%d, %d) do not prove out to pieces root %s", r.index,
        uint64_t{r.index} + r.length, r.pieces_root.ToHex()));
  }
  return base;
}

}  // namespace bt::protocol
