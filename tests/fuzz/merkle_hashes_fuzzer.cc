// Fuzz target for BEP 52 hash exchange: a request range (16 bytes: base
// layer, index, length, proof layers, big-endian) and a `hashes` payload
// (the rest), against one file of 600 pieces. Answering and verifying never
// crash, and whatever is answered with a full proof verifies.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "base/big_endian.h"
#include "metainfo/torrent_creator.h"
#include "metainfo/torrent_info.h"
#include "protocol/merkle_hashes.h"

namespace {

struct Fixture {
  bt::metainfo::TorrentInfo info;
  bt::protocol::PieceLayerTree tree;
};

const Fixture& Get() {
  static const Fixture* f = [] {
    bt::metainfo::CreateOptions options;
    options.version = bt::metainfo::TorrentVersion::kV2;
    options.piece_length = 16384;
    options.threads = 1;
    auto builder = bt::metainfo::TorrentBuilder::Create(
        "f", {{{"f"}, 600 * 16384 + 5}}, /*single_file=*/true, options);
    if (!builder.ok()) std::abort();
    absl::Status hashed = builder->HashAll(
        [](size_t, int64_t offset, bt::MutableByteSpan out) {
          for (size_t i = 0; i < out.size(); ++i) {
            out[i] = static_cast<uint8_t>((offset + i) * 2654435761u >> 13);
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
  absl::StatusOr<std::string> answer = f.tree.Answer(r);
  if (answer.ok() && r.proof_layers == 9 &&  // 1024 wide: 10 levels
      !bt::protocol::VerifyHashes(bt::protocol::Hashes{r, *answer}).ok()) {
    std::abort();
  }
  return 0;
}
