#include "metainfo/torrent_info.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "metainfo/merkle.h"

namespace bt::metainfo {

using bencode::Node;

namespace {

// Where: a readable location ("info.files[3].path") for messages.
using Where = std::string;

// Contextualise prefixes an error with its location; a missing key
// (kNotFound from the decoder) is malformed input, so kInvalidArgument.
absl::Status Contextualise(std::string_view where, const absl::Status& s) {
  absl::StatusCode code = s.code() == absl::StatusCode::kNotFound
                              ? absl::StatusCode::kInvalidArgument
                              : s.code();
  return absl::Status(code, absl::StrFormat("%s: %s", where, s.message()));
}

absl::Status Bad(std::string_view where, const Node& at,
                 std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: %s (at byte %d)", where, what, at.offset()));
}

absl::Status TooMany(std::string_view where, size_t limit) {
  return absl::ResourceExhaustedError(
      absl::StrFormat("%s: more than %d entries", where, limit));
}

// Looks `key` up; if present checks the type. `*out` stays nullopt if absent.
absl::Status OptString(const Node& dict, std::string_view key,
                       std::string_view where,
                       std::optional<std::string_view>* out) {
  std::optional<Node> n = dict.Find(key);
  if (!n) return absl::OkStatus();
  if (!n->is_string()) {
    return Contextualise(where, n->TypeError(key, bencode::Type::kString));
  }
  *out = n->string_value();
  return absl::OkStatus();
}

// Like OptString, preferring `key`.utf-8 when it is present.
absl::Status OptUtf8String(const Node& dict, std::string_view key,
                           std::string_view where,
                           std::optional<std::string_view>* out) {
  std::string utf8_key = std::string(key) + ".utf-8";
  RETURN_IF_ERROR(OptString(dict, utf8_key, where, out));
  if (*out) return absl::OkStatus();
  return OptString(dict, key, where, out);
}

absl::Status OptInt(const Node& dict, std::string_view key,
                    std::string_view where, std::optional<int64_t>* out) {
  std::optional<Node> n = dict.Find(key);
  if (!n) return absl::OkStatus();
  if (!n->is_int()) {
    return Contextualise(where, n->TypeError(key, bencode::Type::kInt));
  }
  *out = n->int_value();
  return absl::OkStatus();
}

// Parses a list of strings (a path) into owned components.
absl::Status StringList(const Node& list, std::string_view where,
                        size_t max_entries, std::vector<std::string>* out) {
  if (!list.is_list()) {
    return Contextualise(where, list.TypeError("value", bencode::Type::kList));
  }
  if (list.size() > max_entries) return TooMany(where, max_entries);
  for (Node item : list.items()) {
    if (!item.is_string()) {
      return Contextualise(where,
                           item.TypeError("element", bencode::Type::kString));
    }
    out->emplace_back(item.string_value());
  }
  return absl::OkStatus();
}

absl::Status ParseAttributes(const Node& dict, std::string_view where,
                             uint8_t* attributes) {
  std::optional<std::string_view> attr;
  RETURN_IF_ERROR(OptString(dict, "attr", where, &attr));
  if (!attr) return absl::OkStatus();
  for (char c : *attr) {  // unknown letters are ignored (BEP 47)
    if (c == 'p') *attributes |= kAttrPad;
    if (c == 'x') *attributes |= kAttrExecutable;
    if (c == 'h') *attributes |= kAttrHidden;
    if (c == 'l') *attributes |= kAttrSymlink;
  }
  return absl::OkStatus();
}

bool IsBitCometPadName(std::string_view name) {
  return name.substr(0, 18) == "_____padding_file_";
}

}  // namespace

// TorrentInfoParser fills a TorrentInfo from decoded nodes.
class TorrentInfoParser {
 public:
  TorrentInfoParser(const ParseOptions& options, TorrentInfo* t)
      : options_(options), t_(*t) {}

  absl::Status ParseInfo(const Node& info);
  absl::Status ParseOuter(const Node& root);
  absl::Status ParsePieceLayers(const Node& layers);

 private:
  absl::Status ParseFileExtras(const Node& dict, std::string_view where,
                               FileEntry* f);
  absl::Status ParseV1Files(const Node& info, std::vector<FileEntry>* out);
  absl::Status ParseV2Tree(const Node& tree, bool has_v1_files,
                           std::vector<FileEntry>* out);
  absl::Status WalkTree(const Node& dir, std::vector<std::string>* prefix,
                        std::vector<FileEntry>* out);
  absl::Status ParseV2File(const Node& file_dict, std::string_view where,
                           FileEntry* f);
  absl::Status CheckUniquePaths(const std::vector<FileEntry>& files);
  absl::Status UrlList(const Node& n, std::string_view where,
                       std::vector<std::string>* out);

  const ParseOptions& options_;
  TorrentInfo& t_;
  int64_t piece_length_ = 0;
};

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
    if (absl::Status s =
            ValidateRelativePath(f->symlink_target, options_.path_limits);
        !s.ok()) {
      return Contextualise(target_where, s);
    }
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
    std::string where = absl::StrFormat("info.files[%d]", index++);
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
    if (absl::Status s = ValidateRelativePath(f.path, options_.path_limits);
        !s.ok()) {
      return Contextualise(where + ".path", s);
    }
    out->push_back(std::move(f));
  }
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::ParseV2File(const Node& file_dict,
                                            std::string_view where,
                                            FileEntry* f) {
  if (!file_dict.is_dict()) {
    return Contextualise(where,
                         file_dict.TypeError("file", bencode::Type::kDict));
  }
  RETURN_IF_ERROR(ParseFileExtras(file_dict, where, f));
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
    f->pieces_root = h;
  }
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::WalkTree(const Node& dir,
                                         std::vector<std::string>* prefix,
                                         std::vector<FileEntry>* out) {
  for (auto [key, child] : dir.pairs()) {
    prefix->emplace_back(key);
    std::string where = absl::StrFormat("info.file tree/%s",
                                        EscapeForMessage(JoinPath(*prefix)));
    if (absl::Status s = ValidatePathComponent(key, options_.path_limits);
        !s.ok()) {
      return Contextualise(where, s);
    }
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
      if (absl::Status s = ValidateRelativePath(f.path, options_.path_limits);
          !s.ok()) {
        return Contextualise("info.file tree", s);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::CheckUniquePaths(
    const std::vector<FileEntry>& files) {
  absl::flat_hash_set<std::string> file_paths;
  absl::flat_hash_set<std::string> dir_paths;
  for (const FileEntry& f : files) {
    if (f.pad()) continue;
    std::string path = f.PathString();
    if (dir_paths.contains(path) || !file_paths.insert(path).second) {
      return absl::InvalidArgumentError(
          absl::StrFormat("file \"%s\" is listed twice or is also a directory",
                          EscapeForMessage(path)));
    }
    std::string dir;
    for (size_t i = 0; i + 1 < f.path.size(); ++i) {
      if (i) dir.push_back('/');
      dir += f.path[i];
      if (file_paths.contains(dir)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "directory \"%s\" is also a file", EscapeForMessage(dir)));
      }
      dir_paths.insert(dir);
    }
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
  if (absl::Status s = ValidatePathComponent(*name, options_.path_limits);
      !s.ok()) {
    return Contextualise("info.name", s);
  }
  t_.name_ = std::string(*name);

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
  RETURN_IF_ERROR(CheckUniquePaths(files));
  ASSIGN_OR_RETURN(
      t_.layout_,
      FileLayout::Create(std::move(files), piece_length_, options_.max_pieces));

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
    t_.pieces_ = std::string(p);
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

absl::Status TorrentInfoParser::UrlList(const Node& n, std::string_view where,
                                        std::vector<std::string>* out) {
  std::vector<std::string> urls;
  if (n.is_string()) {
    urls.emplace_back(n.string_value());
  } else {
    RETURN_IF_ERROR(StringList(n, where, options_.max_list_entries, &urls));
  }
  for (std::string& u : urls) {
    if (!u.empty()) out->push_back(std::move(u));
  }
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::ParseOuter(const Node& root) {
  std::optional<std::string_view> s;
  RETURN_IF_ERROR(OptString(root, "announce", "torrent", &s));
  if (s) t_.announce_ = std::string(*s);
  if (std::optional<Node> list = root.Find("announce-list")) {
    if (!list->is_list()) {
      return Contextualise(
          "torrent", list->TypeError("announce-list", bencode::Type::kList));
    }
    if (list->size() > options_.max_list_entries) {
      return TooMany("announce-list", options_.max_list_entries);
    }
    size_t total = 0;
    size_t index = 0;
    for (Node tier : list->items()) {
      std::vector<std::string> urls;
      RETURN_IF_ERROR(
          UrlList(tier, absl::StrFormat("announce-list[%d]", index++), &urls));
      total += urls.size();
      if (total > options_.max_list_entries) {
        return TooMany("announce-list", options_.max_list_entries);
      }
      if (!urls.empty()) t_.trackers_.push_back(std::move(urls));
    }
  }
  if (t_.trackers_.empty() && !t_.announce_.empty()) {
    t_.trackers_.push_back({t_.announce_});
  }
  if (std::optional<Node> n = root.Find("url-list")) {
    RETURN_IF_ERROR(UrlList(*n, "url-list", &t_.web_seeds_));
  }
  if (std::optional<Node> n = root.Find("httpseeds")) {
    RETURN_IF_ERROR(UrlList(*n, "httpseeds", &t_.http_seeds_));
  }
  if (std::optional<Node> n = root.Find("nodes")) {
    if (!n->is_list()) {
      return Contextualise("torrent",
                           n->TypeError("nodes", bencode::Type::kList));
    }
    if (n->size() > options_.max_list_entries) {
      return TooMany("nodes", options_.max_list_entries);
    }
    for (Node pair : n->items()) {
      if (!pair.is_list() || pair.size() != 2) {
        return Bad("nodes", pair, "entry is not a [host, port] pair");
      }
      auto it = pair.items().begin();
      Node host = *it++;
      Node port = *it;
      if (!host.is_string() || !port.is_int() || port.int_value() < 1 ||
          port.int_value() > 65535) {
        return Bad("nodes", pair, "entry is not a [host, port] pair");
      }
      t_.nodes_.push_back(DhtNode{std::string(host.string_value()),
                                  static_cast<int>(port.int_value())});
    }
  }
  s.reset();
  RETURN_IF_ERROR(OptUtf8String(root, "comment", "torrent", &s));
  if (s) t_.comment_ = std::string(*s);
  s.reset();
  RETURN_IF_ERROR(OptUtf8String(root, "created by", "torrent", &s));
  if (s) t_.created_by_ = std::string(*s);
  RETURN_IF_ERROR(OptInt(root, "creation date", "torrent", &t_.creation_date_));
  // BEP 38 hints may also sit in the outer dictionary.
  if (t_.similar_.empty()) {
    if (std::optional<Node> similar = root.Find("similar")) {
      std::vector<std::string> hashes;
      RETURN_IF_ERROR(
          StringList(*similar, "similar", options_.max_list_entries, &hashes));
      for (const std::string& h : hashes) {
        Sha1Hash ih;
        if (!Sha1Hash::FromSpan(AsBytes(h), &ih)) {
          return Bad("similar", *similar, "entry is not 20 bytes");
        }
        t_.similar_.push_back(ih);
      }
    }
  }
  if (t_.collections_.empty()) {
    if (std::optional<Node> coll = root.Find("collections")) {
      RETURN_IF_ERROR(StringList(*coll, "collections",
                                 options_.max_list_entries, &t_.collections_));
    }
  }
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::ParsePieceLayers(const Node& layers) {
  if (!layers.is_dict()) {
    return Contextualise(
        "torrent", layers.TypeError("piece layers", bencode::Type::kDict));
  }
  absl::flat_hash_map<std::string_view, Node> by_root;
  for (auto [key, value] : layers.pairs()) by_root.emplace(key, value);
  const int64_t piece_length = t_.layout_.piece_length();
  const size_t blocks_per_piece =
      static_cast<size_t>(piece_length / kMerkleBlockSize);
  std::vector<std::vector<Sha256Hash>> result(t_.layout_.num_files());
  for (size_t i = 0; i < t_.layout_.num_files(); ++i) {
    const FileEntry& f = t_.layout_.file(i);
    if (!f.pieces_root || f.size <= piece_length) continue;
    std::string where = absl::StrFormat("piece layers: file \"%s\"",
                                        EscapeForMessage(f.PathString()));
    auto it = by_root.find(AsChars(f.pieces_root->span()));
    if (it == by_root.end()) {
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
      return Bad(where, n, "layer does not hash to the file's pieces root");
    }
  }
  t_.piece_layers_ = std::move(result);
  t_.has_piece_layers_ = true;
  return absl::OkStatus();
}

namespace {

bencode::DecodeOptions DecodeOptionsFor(const ParseOptions& options) {
  bencode::DecodeOptions d;
  d.max_input_size = options.max_metadata_size;
  d.allow_unsorted_keys = true;  // see the header comment
  return d;
}

absl::Status CheckSize(std::string_view bytes, const ParseOptions& options) {
  if (bytes.size() > options.max_metadata_size) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("metadata of %d bytes exceeds the limit of %d",
                        bytes.size(), options.max_metadata_size));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TorrentInfo> TorrentInfo::Parse(std::string_view torrent_file,
                                               const ParseOptions& options) {
  RETURN_IF_ERROR(CheckSize(torrent_file, options));
  ASSIGN_OR_RETURN(bencode::Document doc,
                   bencode::Decode(torrent_file, DecodeOptionsFor(options)));
  Node root = doc.root();
  if (!root.is_dict()) {
    return root.TypeError("torrent", bencode::Type::kDict);
  }
  std::optional<Node> info = root.Find("info");
  if (!info) return Bad("torrent", root, "missing 'info'");
  TorrentInfo t;
  TorrentInfoParser parser(options, &t);
  RETURN_IF_ERROR(parser.ParseInfo(*info));
  RETURN_IF_ERROR(parser.ParseOuter(root));
  if (t.has_v2()) {
    std::optional<Node> layers = root.Find("piece layers");
    if (layers) {
      RETURN_IF_ERROR(parser.ParsePieceLayers(*layers));
    } else if (!t.has_piece_layers_) {
      return Bad("torrent", root,
                 "missing 'piece layers' (needed for v2 files larger than "
                 "one piece)");
    }
  }
  return t;
}

absl::StatusOr<TorrentInfo> TorrentInfo::ParseInfoDict(
    std::string_view info_bytes, const ParseOptions& options) {
  RETURN_IF_ERROR(CheckSize(info_bytes, options));
  ASSIGN_OR_RETURN(bencode::Document doc,
                   bencode::Decode(info_bytes, DecodeOptionsFor(options)));
  TorrentInfo t;
  TorrentInfoParser parser(options, &t);
  RETURN_IF_ERROR(parser.ParseInfo(doc.root()));
  return t;
}

absl::Status TorrentInfo::AddPieceLayers(std::string_view bencoded) {
  if (!has_v2()) {
    return absl::FailedPreconditionError("piece layers: not a v2 torrent");
  }
  ASSIGN_OR_RETURN(bencode::Document doc,
                   bencode::Decode(bencoded, DecodeOptionsFor({})));
  ParseOptions options;
  TorrentInfoParser parser(options, this);
  return parser.ParsePieceLayers(doc.root());
}

Sha1Hash TorrentInfo::TruncatedV2Hash() const {
  return Sha1Hash::FromBytes(ih_v2_->span());
}

Sha1Hash TorrentInfo::WireInfoHash() const {
  return ih_v1_ ? *ih_v1_ : TruncatedV2Hash();
}

size_t TorrentInfo::num_real_files() const {
  return std::count_if(files().begin(), files().end(),
                       [](const FileEntry& f) { return !f.pad(); });
}

Sha1Hash TorrentInfo::piece_hash(uint32_t i) const {
  return Sha1Hash::FromBytes(
      AsBytes(std::string_view(pieces_).substr(size_t{i} * 20, 20)));
}

absl::Span<const Sha256Hash> TorrentInfo::piece_layer(size_t file) const {
  if (file >= piece_layers_.size()) return {};
  return piece_layers_[file];
}

std::optional<TorrentInfo::V2PieceSpan> TorrentInfo::V2PieceSpanOf(
    uint32_t piece) const {
  if (!has_v2() || piece >= num_pieces()) return std::nullopt;
  const int64_t start = int64_t{piece} * piece_length();
  std::optional<size_t> fi = layout_.FileAtOffset(start);
  if (!fi) return std::nullopt;
  const FileEntry& f = layout_.file(*fi);
  if (f.pad()) return std::nullopt;
  V2PieceSpan span;
  span.file_index = *fi;
  span.file_offset = start - f.offset;
  span.length = std::min(piece_length(), f.size - span.file_offset);
  span.single_piece_file = f.size <= piece_length();
  return span;
}

absl::Status TorrentInfo::CheckV2Piece(uint32_t piece, ByteSpan data) const {
  std::optional<V2PieceSpan> span = V2PieceSpanOf(piece);
  if (!span || static_cast<int64_t>(data.size()) != span->length) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "v2 piece %d: no such piece or %d bytes given", piece, data.size()));
  }
  std::optional<Sha256Hash> expected = V2PieceHash(piece);
  if (!expected) {
    return absl::FailedPreconditionError(
        absl::StrFormat("v2 piece %d: its hash is not known yet", piece));
  }
  if (PieceRootFromData(data, piece_length(), span->single_piece_file) !=
      *expected) {
    return absl::DataLossError(
        absl::StrFormat("v2 piece %d: hash mismatch", piece));
  }
  return absl::OkStatus();
}

absl::Status TorrentInfo::CheckV1Piece(uint32_t piece, ByteSpan data) const {
  if (!has_v1() || piece >= num_pieces() ||
      static_cast<int64_t>(data.size()) != layout_.PieceSize(piece)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "v1 piece %d: no such piece or %d bytes given", piece, data.size()));
  }
  if (Sha1(data) != piece_hash(piece)) {
    return absl::DataLossError(
        absl::StrFormat("v1 piece %d: hash mismatch", piece));
  }
  return absl::OkStatus();
}

std::optional<Sha256Hash> TorrentInfo::V2PieceHash(uint32_t piece) const {
  if (!has_v2() || piece >= num_pieces()) return std::nullopt;
  std::optional<size_t> fi =
      layout_.FileAtOffset(int64_t{piece} * piece_length());
  if (!fi) return std::nullopt;
  const FileEntry& f = layout_.file(*fi);
  if (f.pad() || !f.pieces_root) return std::nullopt;
  if (f.size <= piece_length()) return f.pieces_root;
  const std::vector<Sha256Hash>& layer = piece_layers_[*fi];
  size_t k = piece - static_cast<size_t>(f.offset / piece_length());
  if (k >= layer.size()) return std::nullopt;
  return layer[k];
}

const char* TorrentVersionName(TorrentVersion version) {
  switch (version) {
    case TorrentVersion::kV1:
      return "v1";
    case TorrentVersion::kV2:
      return "v2";
    case TorrentVersion::kHybrid:
      return "hybrid";
  }
  return "?";
}

}  // namespace bt::metainfo
