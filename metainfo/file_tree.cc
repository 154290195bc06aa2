// TorrentInfoParser: the v2 (BEP 52) `file tree` and `piece layers`.

#include "metainfo/torrent_info_parser.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "metainfo/merkle.h"

namespace bt::metainfo {

using bencode::Node;
using internal::Bad;
using internal::Contextualise;
using internal::OptInt;
using internal::OptString;
using internal::TooMany;

namespace {

// CheckSortedKeys refuses a dictionary of the file tree whose keys are not
// in sorted order: unsorted keys are accepted elsewhere (see
// torrent_info.h), but libtorrent refuses them here, so a tree it would not
// load is not one we load either.
absl::Status CheckSortedKeys(const Node& dict, std::string_view where) {
  if (!dict.is_dict()) return absl::OkStatus();
  std::optional<std::string_view> prev;
  for (auto [key, value] : dict.pairs()) {
    if (prev && !(*prev < key)) {
      return Bad(where, value,
                 absl::StrFormat("key \"%s\" is out of sorted order",
                                 EscapeForMessage(key)));
    }
    prev = key;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status TorrentInfoParser::ParseV2File(const Node& file_dict,
                                            std::string_view where,
                                            FileEntry* f) {
  if (!file_dict.is_dict()) {
    return Contextualise(where,
                         file_dict.TypeError("file", bencode::Type::kDict));
  }
  RETURN_IF_ERROR(CheckSortedKeys(file_dict, where));
  RETURN_IF_ERROR(ParseFileExtras(file_dict, where, f));
  if (f->pad()) {  // v2 aligns files itself; libtorrent refuses these too
    return Bad(where, *file_dict.Find("attr"),
               "a v2 file entry has the pad attribute ('p')");
  }
  std::optional<int64_t> length;
  RETURN_IF_ERROR(OptInt(file_dict, "length", where, &length));
  if (!length && !f->symlink())
    return Bad(where, file_dict, "missing 'length'");
  if (length && *length < 0) {
    return Bad(where, *file_dict.Find("length"), "negative 'length'");
  }
  if (!f->symlink()) f->size = *length;
  std::optional<std::string_view> root;
  RETURN_IF_ERROR(OptString(file_dict, "pieces root", where, &root));
  if (f->size > 0) {
    if (!root) return Bad(where, file_dict, "missing 'pieces root'");
    Sha256Hash h;
    if (!Sha256Hash::FromSpan(AsBytes(*root), &h)) {
      return Bad(where, *file_dict.Find("pieces root"),
                 "'pieces root' is not 32 bytes");
    }
    if (h == Sha256Hash()) {  // libtorrent's "no root hash"
      return Bad(where, *file_dict.Find("pieces root"),
                 "'pieces root' is all zeros");
    }
    f->pieces_root = h;
  }
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::WalkTree(const Node& dir,
                                         std::vector<std::string>* prefix,
                                         std::vector<FileEntry>* out) {
  RETURN_IF_ERROR(CheckSortedKeys(
      dir, prefix->empty() ? std::string("info.file tree")
                           : absl::StrFormat("info.file tree/%s",
                                             EscapeForMessage(
                                                 JoinPath(*prefix)))));
  for (auto [key, child] : dir.pairs()) {
    prefix->emplace_back(key);
    std::string where = absl::StrFormat("info.file tree/%s",
                                        EscapeForMessage(JoinPath(*prefix)));
    if (prefix->size() > options_.path_limits.max_depth) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("%s: deeper than %d directories", where,
                          options_.path_limits.max_depth));
    }
    if (!child.is_dict()) {
      return Contextualise(where,
                           child.TypeError("entry", bencode::Type::kDict));
    }
    if (std::optional<Node> file = child.Find("")) {
      if (child.size() != 1) {
        return Bad(where, child, "is both a file and a directory");
      }
      if (out->size() >= options_.max_files) {
        return TooMany("info.file tree", options_.max_files);
      }
      FileEntry f;
      f.path = *prefix;
      RETURN_IF_ERROR(ParseV2File(*file, where, &f));
      out->push_back(std::move(f));
    } else {
      if (child.size() == 0) return Bad(where, child, "empty directory");
      RETURN_IF_ERROR(WalkTree(child, prefix, out));
    }
    prefix->pop_back();
  }
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::ParseV2Tree(const Node& tree, bool has_v1_files,
                                            std::vector<FileEntry>* out) {
  if (!tree.is_dict()) {
    return Contextualise("info",
                         tree.TypeError("file tree", bencode::Type::kDict));
  }
  if (tree.size() == 0) return Bad("info.file tree", tree, "empty");
  std::vector<std::string> prefix;
  RETURN_IF_ERROR(WalkTree(tree, &prefix, out));
  // libtorrent's rule: a tree holding exactly one file at its top level is
  // a single-file torrent (unless a v1 `files` list says otherwise); the
  // file is then named by its key. Otherwise files live under `name`.
  bool single = !has_v1_files && tree.size() == 1 && out->size() == 1 &&
                out->front().path.size() == 1;
  if (!single) {
    t_.multi_file_ = true;
    for (FileEntry& f : *out) {
      f.path.insert(f.path.begin(), t_.name_);
    }
  }
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::ParsePieceLayers(const Node& layers,
                                                 bool allow_missing) {
  if (!layers.is_dict()) {
    return Contextualise(
        "torrent", layers.TypeError("piece layers", bencode::Type::kDict));
  }
  absl::flat_hash_map<std::string_view, Node> by_root;
  for (auto [key, value] : layers.pairs()) by_root.emplace(key, value);
  const int64_t piece_length = t_.layout_.piece_length();
  const size_t blocks_per_piece =
      static_cast<size_t>(piece_length / kMerkleBlockSize);
  // Layers already known are kept; only missing ones are looked for.
  std::vector<std::vector<Sha256Hash>> result = t_.piece_layers_;
  result.resize(t_.layout_.num_files());
  for (size_t i = 0; i < t_.layout_.num_files(); ++i) {
    const FileEntry& f = t_.layout_.file(i);
    if (!f.pieces_root || f.size <= piece_length || !result[i].empty()) {
      continue;
    }
    std::string where = absl::StrFormat("piece layers: file \"%s\"",
                                        EscapeForMessage(f.PathString()));
    auto it = by_root.find(AsChars(f.pieces_root->span()));
    if (it == by_root.end()) {
      // libtorrent loads such a file; the layer is then asked of peers.
      if (allow_missing) continue;
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: no layer for its pieces root %s", where,
                          f.pieces_root->ToHex()));
    }
    const Node& n = it->second;
    if (!n.is_string()) {
      return Contextualise(where, n.TypeError("layer", bencode::Type::kString));
    }
    std::string_view bytes = n.string_value();
    size_t expected =
        static_cast<size_t>((f.size + piece_length - 1) / piece_length);
    if (bytes.size() != expected * 32) {
      return Bad(where, n,
                 absl::StrFormat("layer of %d bytes, expected %d for %d "
                                 "pieces",
                                 bytes.size(), expected * 32, expected));
    }
    std::vector<Sha256Hash>& layer = result[i];
    layer.resize(expected);
    for (size_t k = 0; k < expected; ++k) {
      layer[k] = Sha256Hash::FromBytes(AsBytes(bytes.substr(k * 32, 32)));
    }
    if (RootFromPieceLayer(layer, blocks_per_piece) != *f.pieces_root) {
      if (!allow_missing) {
        return Bad(where, n, "layer does not hash to the file's pieces root");
      }
      // libtorrent loads such a file too: the layer is never used, and is
      // asked of peers like a missing one.
      layer.clear();
      Warn(where, "layer does not hash to the file's pieces root: ignored");
    }
  }
  t_.piece_layers_ = std::move(result);
  t_.has_piece_layers_ = t_.FilesMissingPieceLayers().empty();
  return absl::OkStatus();
}

}  // namespace bt::metainfo
