// Fuzz target for BEP 52 hash exchange: a request range (16 bytes: base
// layer, index, length, proof layers, big-endian) and a `hashes` payload
// (the rest), against one file of 150 pieces of 4 blocks. Answering (piece
// layer and block layer) and verifying never crash, and whatever is
// answered with a full proof verifies.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>
#include <algorithm>

#include "base/big_endian.h"
#include "base/sha.h"
#include "metainfo/torrent_creator.h"
#include "metainfo/torrent_info.h"
#include "protocol/merkle_hashes.h"

namespace {

constexpr int64_t kPieceLength = 4 * 16384;
constexpr int64_t kFileSize = 150 * kPieceLength - 7;

uint8_t ByteAt(int64_t offset) {
  return static_cast<uint8_t>(offset * 2654435761u >> 13);
}

// Leaves: the block hashes of piece `piece`, padded to 4.
absl::StatusOr<std::vector<bt::Sha256Hash>> Leaves(uint32_t piece) {
  std::vector<bt::Sha256Hash> out;
  for (int64_t at = piece * kPieceLength;
       at < std::min(kFileSize, (piece + 1) * kPieceLength); at += 16384) {
    std::vector<uint8_t> block(std::min<int64_t>(16384, kFileSize - at));
    for (size_t i = 0; i < block.size(); ++i) block[i] = ByteAt(at + i);
    out.push_back(bt::Sha256(block));
  }
  out.resize(4);
  return out;
}

struct Fixture {
  bt::metainfo::TorrentInfo info;
  bt::protocol::PieceLayerTree tree;
};

const Fixture& Get() {
  static const Fixture* f = [] {
    bt::metainfo::CreateOptions options;
    options.version = bt::metainfo::TorrentVersion::kV2;
    options.piece_length = kPieceLength;
    options.threads = 1;
    auto builder = bt::metainfo::TorrentBuilder::Create(
        "f", {{{"f"}, kFileSize}}, /*single_file=*/true, options);
    if (!builder.ok()) std::abort();
    absl::Status hashed = builder->HashAll(
        [](size_t, int64_t offset, bt::MutableByteSpan out) {
          for (size_t i = 0; i < out.size(); ++i) {
            out[i] = ByteAt(offset + static_cast<int64_t>(i));
          }
          return absl::OkStatus();
        });
    if (!hashed.ok()) std::abort();
    auto info = bt::metainfo::TorrentInfo::Parse(builder->Encode());
    if (!info.ok()) std::abort();
    auto tree = bt::protocol::PieceLayerTree::ForFile(*info, 0);
    if (!tree.ok()) std::abort();
    return new Fixture{*std::move(info), *std::move(tree)};
  }();
  return *f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 16) return 0;
  const Fixture& f = Get();
  bt::protocol::HashRange r;
  r.pieces_root = f.tree.root();
  r.base_layer = bt::LoadBigEndian32(data);
  r.index = bt::LoadBigEndian32(data + 4);
  r.length = bt::LoadBigEndian32(data + 8);
  r.proof_layers = bt::LoadBigEndian32(data + 12);
  std::string rest(reinterpret_cast<const char*>(data + 16), size - 16);
  (void)bt::protocol::VerifyHashes(bt::protocol::Hashes{r, rest});
  // 256 pieces wide: 8 levels above the pieces, 10 above the blocks.
  absl::StatusOr<std::string> answer = f.tree.Answer(r);
  if (answer.ok() && r.proof_layers == 7 &&
      !bt::protocol::VerifyHashes(bt::protocol::Hashes{r, *answer}).ok()) {
    std::abort();
  }
  answer = f.tree.AnswerBlocks(r, Leaves);
  if (answer.ok() && r.proof_layers == 9 &&
      !bt::protocol::VerifyHashes(bt::protocol::Hashes{r, *answer}).ok()) {
    std::abort();
  }
  return 0;
}
