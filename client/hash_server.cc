#include "client/hash_server.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_format.h"
#include "metainfo/merkle.h"

namespace bt::client {

HashServer::HashServer(std::shared_ptr<const metainfo::TorrentInfo> info,
                       Options options)
    : info_(std::move(info)),
      options_(options),
      reads_(options.reads_per_second, options.read_burst,
             options.read_burst) {}

const protocol::PieceLayerTree* HashServer::TreeFor(size_t file) {
  auto it = trees_.find(file);
  if (it == trees_.end()) {
    absl::StatusOr<protocol::PieceLayerTree> tree =
        protocol::PieceLayerTree::ForFile(*info_, file);
    if (!tree.ok()) return nullptr;
    it = trees_.emplace(file, *std::move(tree)).first;
  }
  return &it->second;
}

const std::vector<Sha256Hash>* HashServer::Cached(uint32_t piece) const {
  for (const auto& [p, leaves] : cache_) {
    if (p == piece) return &leaves;
  }
  return nullptr;
}

void HashServer::Cache(uint32_t piece, std::vector<Sha256Hash> leaves) {
  if (Cached(piece)) return;
  cache_.emplace_back(piece, std::move(leaves));
  while (cache_.size() > options_.cached_pieces) cache_.pop_front();
}

void HashServer::Answer(const protocol::HashRange& r,
                        const storage::Bitfield& have, bool may_read,
                        TorrentDisk& disk, absl::Time now, Reply reply) {
  const metainfo::TorrentInfo& info = *info_;
  const std::optional<size_t> file =
      info.has_v2() && info.has_piece_layers()
          ? protocol::FileWithPiecesRoot(info, r.pieces_root)
          : std::nullopt;
  const protocol::PieceLayerTree* tree = file ? TreeFor(*file) : nullptr;
  if (!tree) return reply(absl::NotFoundError("no piece layer for that root"));
  if (r.base_layer != 0 || info.piece_length() <= metainfo::kMerkleBlockSize) {
    return reply(tree->Answer(r));
  }
  if (!may_read) {
    return reply(absl::FailedPreconditionError(
        "block hashes only for peers we upload to"));
  }
  // Find which piece the range needs (AnswerBlocks asks for it), and answer
  // at once if its leaves are cached.
  const metainfo::FileEntry& f = info.files()[*file];
  const int64_t plen = info.piece_length();
  std::optional<uint32_t> needed;
  auto from_cache = [&](uint32_t file_piece)
      -> absl::StatusOr<std::vector<Sha256Hash>> {
    const uint32_t piece = static_cast<uint32_t>(f.offset / plen) + file_piece;
    if (const std::vector<Sha256Hash>* leaves = Cached(piece)) return *leaves;
    needed = file_piece;
    return absl::UnavailableError("not read yet");
  };
  absl::StatusOr<std::string> answer = tree->AnswerBlocks(r, from_cache);
  if (!needed) return reply(std::move(answer));
  const uint32_t file_piece = *needed;
  const uint32_t piece = static_cast<uint32_t>(f.offset / plen) + file_piece;
  const int64_t begin = int64_t{file_piece} * plen;
  if (begin >= f.size || piece >= have.size() || !have.Get(piece)) {
    return reply(absl::NotFoundError(
        absl::StrFormat("piece %d is not ours", piece)));
  }
  // The answer, once the piece's leaves are known.
  Waiter respond = [this, r, file = *file, file_piece,
                    reply = std::move(reply)](
                       const absl::StatusOr<std::vector<Sha256Hash>>& got) {
    if (!got.ok()) return reply(got.status());
    // (The map may have grown meanwhile: look the tree up again.)
    reply(TreeFor(file)->AnswerBlocks(
        r, [&](uint32_t p) -> absl::StatusOr<std::vector<Sha256Hash>> {
          if (p != file_piece) {
            return absl::InvalidArgumentError("range spans pieces");
          }
          return *got;
        }));
  };
  // A read of this piece is under way: its result answers this one too.
  if (auto it = reading_.find(piece); it != reading_.end()) {
    it->second.push_back(std::move(respond));
    return;
  }
  reads_.Refill(now);
  if (reads_.tokens() < 1) {
    return respond(
        absl::ResourceExhaustedError("block-hash reads rate-limited"));
  }
  reads_.Take(1);
  ++piece_reads_;
  reading_[piece].push_back(std::move(respond));
  const size_t leaves = static_cast<size_t>(plen / metainfo::kMerkleBlockSize);
  disk.Leaves(piece, std::min(plen, f.size - begin), leaves,
              [this, piece](absl::StatusOr<std::vector<Sha256Hash>> got) {
                if (got.ok()) Cache(piece, *got);
                auto waiting = reading_.extract(piece);
                if (waiting.empty()) return;
                for (Waiter& w : waiting.mapped()) w(got);
              });
}

}  // namespace bt::client
