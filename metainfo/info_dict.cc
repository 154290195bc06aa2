// TorrentInfoParser: the info dictionary, v1 file lists and the agreement
// of a hybrid torrent's v1 and v2 file lists.

#include "metainfo/torrent_info_parser.h"

#include <bit>
#include <utility>

#include "absl/strings/str_cat.h"
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
using internal::OptUtf8String;
using internal::ParseAttributes;
using internal::StringList;
using internal::TooMany;

namespace {

bool IsBitCometPadName(std::string_view name) {
  return name.substr(0, 18) == "_____padding_file_";
}

}  // namespace

absl::Status TorrentInfoParser::ParseFileExtras(const Node& dict,
                                                std::string_view where,
                                                FileEntry* f) {
  RETURN_IF_ERROR(ParseAttributes(dict, where, &f->attributes));
  std::optional<std::string_view> sha1;
  RETURN_IF_ERROR(OptString(dict, "sha1", where, &sha1));
  if (sha1) {
    Sha1Hash h;
    if (!Sha1Hash::FromSpan(AsBytes(*sha1), &h)) {
      return Bad(where, *dict.Find("sha1"), "'sha1' is not 20 bytes");
    }
    f->sha1 = h;
  }
  if (f->symlink()) {
    std::optional<Node> target = dict.Find("symlink path");
    if (!target) {
      return Bad(where, dict, "symlink without 'symlink path'");
    }
    std::string target_where = absl::StrFormat("%s.symlink path", where);
    RETURN_IF_ERROR(StringList(*target, target_where,
                               options_.path_limits.max_depth + 1,
                               &f->symlink_target));
    RETURN_IF_ERROR(SafePath(target_where, &f->symlink_target));
    f->size = 0;
  }
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::ParseV1Files(const Node& info,
                                             std::vector<FileEntry>* out) {
  std::optional<Node> files = info.Find("files");
  if (!files) {
    // Single-file torrent.
    FileEntry f;
    f.path = {t_.name_};
    std::optional<int64_t> length;
    RETURN_IF_ERROR(OptInt(info, "length", "info", &length));
    RETURN_IF_ERROR(ParseFileExtras(info, "info", &f));
    if (!length && !f.symlink()) {
      return Bad("info", info, "neither 'length' nor 'files' is present");
    }
    if (length && *length < 0) {
      return Bad("info", *info.Find("length"), "negative 'length'");
    }
    if (!f.symlink()) f.size = *length;
    out->push_back(std::move(f));
    return absl::OkStatus();
  }
  if (info.Find("length")) {
    return Bad("info", info, "both 'length' and 'files' are present");
  }
  if (!files->is_list()) {
    return Contextualise("info",
                         files->TypeError("files", bencode::Type::kList));
  }
  if (files->size() == 0) return Bad("info.files", *files, "empty list");
  if (files->size() > options_.max_files) {
    return TooMany("info.files", options_.max_files);
  }
  t_.multi_file_ = true;
  size_t index = 0;
  for (Node entry : files->items()) {
    std::string where = absl::StrCat("info.files[", index++, "]");
    if (!entry.is_dict()) {
      return Contextualise(where,
                           entry.TypeError("entry", bencode::Type::kDict));
    }
    FileEntry f;
    RETURN_IF_ERROR(ParseFileExtras(entry, where, &f));
    std::optional<int64_t> length;
    RETURN_IF_ERROR(OptInt(entry, "length", where, &length));
    if (!length && !f.symlink()) {
      return Bad(where, entry, "missing 'length'");
    }
    if (length && *length < 0) {
      return Bad(where, *entry.Find("length"), "negative 'length'");
    }
    if (!f.symlink()) f.size = *length;
    std::optional<Node> path = entry.Find("path.utf-8");
    if (!path || !path->is_list()) path = entry.Find("path");
    std::vector<std::string> components;
    if (path) {
      RETURN_IF_ERROR(StringList(*path, where + ".path",
                                 options_.path_limits.max_depth + 1,
                                 &components));
    }
    if (!components.empty() && IsBitCometPadName(components.back())) {
      f.attributes |= kAttrPad;
    }
    if (f.pad() && components.empty()) {
      components = {".pad", absl::StrFormat("%d", f.size)};
    }
    if (components.empty()) {
      return Bad(where, path ? *path : entry, "missing or empty 'path'");
    }
    f.path.reserve(components.size() + 1);
    f.path.push_back(t_.name_);
    for (std::string& c : components) f.path.push_back(std::move(c));
    out->push_back(std::move(f));
  }
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::ParseInfo(const Node& info) {
  if (!info.is_dict()) {
    return info.TypeError("info", bencode::Type::kDict);
  }
  t_.info_bytes_ = std::string(info.raw());

  // piece length
  std::optional<int64_t> piece_length;
  RETURN_IF_ERROR(OptInt(info, "piece length", "info", &piece_length));
  if (!piece_length) return Bad("info", info, "missing 'piece length'");
  if (*piece_length <= 0 || *piece_length > FileLayout::kMaxPieceLength) {
    return Bad("info", *info.Find("piece length"),
               absl::StrFormat("piece length %d is out of range [1, %d]",
                               *piece_length, FileLayout::kMaxPieceLength));
  }
  piece_length_ = *piece_length;

  // name
  std::optional<std::string_view> name;
  RETURN_IF_ERROR(OptUtf8String(info, "name", "info", &name));
  if (!name) return Bad("info", info, "missing 'name'");
  RETURN_IF_ERROR(SafeName(*name, info));

  // version
  std::optional<int64_t> meta_version;
  RETURN_IF_ERROR(OptInt(info, "meta version", "info", &meta_version));
  std::optional<Node> tree = info.Find("file tree");
  std::optional<Node> pieces = info.Find("pieces");
  if (meta_version && *meta_version != 2) {
    return Bad("info", *info.Find("meta version"),
               absl::StrFormat("unsupported meta version %d", *meta_version));
  }
  if (meta_version && !tree) {
    return Bad("info", info, "meta version 2 without 'file tree'");
  }
  if (tree && !meta_version) {
    return Bad("info", info, "'file tree' without 'meta version' 2");
  }
  bool v2 = tree.has_value();
  bool v1 = pieces.has_value();
  if (!v1 && !v2) {
    return Bad("info", info, "neither 'pieces' (v1) nor 'file tree' (v2)");
  }
  if (v2 && (piece_length_ < kMerkleBlockSize ||
             !std::has_single_bit(static_cast<uint64_t>(piece_length_)))) {
    return Bad("info", *info.Find("piece length"),
               absl::StrFormat("piece length %d of a v2 torrent is not a "
                               "power of two >= 16384",
                               piece_length_));
  }
  t_.version_ = v1 && v2 ? TorrentVersion::kHybrid
                : v2     ? TorrentVersion::kV2
                         : TorrentVersion::kV1;

  std::vector<FileEntry> v1_files;
  std::vector<FileEntry> v2_files;
  if (v1) RETURN_IF_ERROR(ParseV1Files(info, &v1_files));
  if (v2) {
    RETURN_IF_ERROR(
        ParseV2Tree(*tree, info.Find("files").has_value(), &v2_files));
  }

  std::vector<FileEntry> files;
  if (v2) {
    std::vector<FileEntry> aligned =
        FileLayout::AlignFiles(std::move(v2_files), piece_length_);
    if (!v1) {
      // Synthetic pads live in the torrent's directory, as v1 pads do.
      if (t_.multi_file_) {
        for (FileEntry& f : aligned) {
          if (f.pad()) f.path.insert(f.path.begin(), t_.name_);
        }
      }
      files = std::move(aligned);
    } else {
      // Hybrid: the v1 list (with its pad files) must describe the same
      // files, in the same order, at the same piece-aligned offsets.
      ASSIGN_OR_RETURN(
          FileLayout v1_layout,
          FileLayout::Create(v1_files, piece_length_, options_.max_pieces));
      ASSIGN_OR_RETURN(
          FileLayout v2_layout,
          FileLayout::Create(aligned, piece_length_, options_.max_pieces));
      std::vector<const FileEntry*> a, b;
      for (const FileEntry& f : v1_layout.files()) {
        if (!f.pad()) a.push_back(&f);
      }
      for (const FileEntry& f : v2_layout.files()) {
        if (!f.pad()) b.push_back(&f);
      }
      if (a.size() != b.size()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "hybrid torrent: v1 lists %d files, v2 file tree %d", a.size(),
            b.size()));
      }
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i]->path != b[i]->path || a[i]->size != b[i]->size ||
            a[i]->symlink() != b[i]->symlink() ||
            (a[i]->size > 0 && a[i]->offset != b[i]->offset)) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "hybrid torrent: file %d differs between v1 and v2 "
              "(\"%s\" %d bytes at %d vs \"%s\" %d bytes at %d)",
              i, EscapeForMessage(a[i]->PathString()), a[i]->size, a[i]->offset,
              EscapeForMessage(b[i]->PathString()), b[i]->size, b[i]->offset));
        }
      }
      if (v1_layout.num_pieces() != v2_layout.num_pieces()) {
        return absl::InvalidArgumentError(
            absl::StrFormat("hybrid torrent: v1 describes %d pieces, v2 %d",
                            v1_layout.num_pieces(), v2_layout.num_pieces()));
      }
      // Adopt the v1 list, enriched with the v2 roots and attributes.
      size_t j = 0;
      for (FileEntry& f : v1_files) {
        if (f.pad()) continue;
        f.pieces_root = b[j]->pieces_root;
        f.attributes |= b[j]->attributes;
        ++j;
      }
      files = std::move(v1_files);
    }
  } else {
    files = std::move(v1_files);
  }
  if (files.size() > options_.max_files) {
    return TooMany("info: files", options_.max_files);
  }
  RETURN_IF_ERROR(SafeFilePaths(&files));
  ASSIGN_OR_RETURN(
      t_.layout_,
      FileLayout::Create(std::move(files), piece_length_, options_.max_pieces));
  if (t_.layout_.content_size() == 0) {
    // Nothing to transfer: libtorrent refuses these ("invalid length").
    return Bad("info", info, "the torrent holds no data (total size 0)");
  }

  if (v1) {
    if (!pieces->is_string()) {
      return Contextualise("info",
                           pieces->TypeError("pieces", bencode::Type::kString));
    }
    std::string_view p = pieces->string_value();
    if (p.size() % 20 != 0) {
      return Bad("info", *pieces,
                 absl::StrFormat("'pieces' length %d is not a multiple of 20",
                                 p.size()));
    }
    if (p.size() / 20 != t_.layout_.num_pieces()) {
      return Bad("info", *pieces,
                 absl::StrFormat("'pieces' holds %d hashes but %d bytes in "
                                 "pieces of %d need %d",
                                 p.size() / 20, t_.layout_.total_size(),
                                 piece_length_, t_.layout_.num_pieces()));
    }
    t_.pieces_offset_ = p.data() - info.raw().data();
    t_.pieces_size_ = p.size();
    t_.ih_v1_ = Sha1(AsBytes(t_.info_bytes_));
  }
  if (v2) t_.ih_v2_ = Sha256(AsBytes(t_.info_bytes_));
  t_.piece_layers_.assign(t_.layout_.num_files(), {});
  // With no file larger than a piece, there are no layers to wait for.
  t_.has_piece_layers_ = v2;
  if (v2) {
    for (const FileEntry& f : t_.layout_.files()) {
      if (f.pieces_root && f.size > piece_length_) t_.has_piece_layers_ = false;
    }
  }

  // private, source, BEP 38 hints
  std::optional<int64_t> priv;
  RETURN_IF_ERROR(OptInt(info, "private", "info", &priv));
  t_.private_ = priv.value_or(0) != 0;
  std::optional<std::string_view> source;
  RETURN_IF_ERROR(OptString(info, "source", "info", &source));
  if (source) t_.source_ = std::string(*source);
  if (std::optional<Node> similar = info.Find("similar")) {
    std::vector<std::string> hashes;
    RETURN_IF_ERROR(StringList(*similar, "info.similar",
                               options_.max_list_entries, &hashes));
    for (const std::string& h : hashes) {
      Sha1Hash ih;
      if (!Sha1Hash::FromSpan(AsBytes(h), &ih)) {
        return Bad("info.similar", *similar, "entry is not 20 bytes");
      }
      t_.similar_.push_back(ih);
    }
  }
  if (std::optional<Node> coll = info.Find("collections")) {
    RETURN_IF_ERROR(StringList(*coll, "info.collections",
                               options_.max_list_entries, &t_.collections_));
  }
  return absl::OkStatus();
}

}  // namespace bt::metainfo
