// TorrentInfoParser: the torrent's name and file paths made safe before any
// path is formed (or, with ParseOptions::strict_paths, checked), and files
// listed twice renamed (or refused).

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "metainfo/torrent_info_parser.h"

namespace bt::metainfo {

using internal::Contextualise;

void TorrentInfoParser::Warn(std::string where, std::string what) {
  std::vector<ParseWarning>& w = t_.warnings_;
  if (w.size() < options_.max_warnings) {
    w.push_back({std::move(where), std::move(what)});
    return;
  }
  if (w.empty()) return;
  // The last kept warning gives way to the count (and is counted).
  suppressed_warnings_ += suppressed_warnings_ == 0 ? 2 : 1;
  w.back() = {"metainfo",
              absl::StrFormat("%d more warnings", suppressed_warnings_)};
}

absl::Status TorrentInfoParser::SafeName(std::string_view name,
                                         const bencode::Node& info) {
  if (options_.strict_paths) {
    if (absl::Status s = ValidatePathComponent(name, options_.path_limits);
        !s.ok()) {
      return Contextualise("info.name", s);
    }
    t_.name_ = std::string(name);
    return absl::OkStatus();
  }
  // As libtorrent: a single file must be named by `name`; a directory
  // whose name leaves nothing usable is named by the SHA-1 of the info
  // dictionary in hex.
  const bool single_file = !info.Find("files") && !info.Find("file tree");
  std::string reason;
  std::optional<std::string> safe =
      SanitizePathComponent(name, options_.path_limits, &reason);
  if (single_file && (!safe || name.empty())) {
    return absl::InvalidArgumentError(
        absl::StrFormat("info.name: \"%s\" leaves no usable file name",
                        EscapeForMessage(name)));
  }
  if (!safe) {
    safe = Sha1(AsBytes(info.raw())).ToHex();
    reason = "nothing usable left: named by the info dictionary's SHA-1";
  }
  if (!reason.empty()) {
    Warn("info.name",
         absl::StrFormat("\"%s\": %s", EscapeForMessage(name), reason));
  }
  t_.name_ = *std::move(safe);
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::SafePath(std::string_view where,
                                         std::vector<std::string>* path) {
  if (!options_.strict_paths) {
    std::vector<std::string> reasons;
    *path = SanitizeRelativePath(*path, options_.path_limits, &reasons);
    if (!reasons.empty()) {
      Warn(std::string(where), absl::StrJoin(reasons, "; "));
    }
  }
  if (absl::Status s = ValidateRelativePath(*path, options_.path_limits);
      !s.ok()) {
    return Contextualise(where, s);
  }
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::SafeFilePaths(std::vector<FileEntry>* files) {
  // In a multi-file torrent every path starts with the (already safe) name.
  const size_t skip = t_.multi_file_ ? 1 : 0;
  for (FileEntry& f : *files) {
    if (f.path.size() <= skip) {
      return absl::InvalidArgumentError("file with an empty path");
    }
    // Most paths are safe as given: the path is copied, and its place
    // named, only when it needs repair or is refused.
    // (`where` names the path as the torrent gives it.)
    std::string where;
    auto name = [&f, &where]() -> const std::string& {
      if (where.empty()) {
        where = absl::StrFormat("file \"%s\"",
                                EscapeForMessage(JoinPath(f.path)));
      }
      return where;
    };
    const bool safe =
        std::all_of(f.path.begin() + skip, f.path.end(), [&](const auto& c) {
          return ValidatePathComponent(c, options_.path_limits).ok();
        });
    if (!safe) {
      std::vector<std::string> own(f.path.begin() + skip, f.path.end());
      RETURN_IF_ERROR(SafePath(name(), &own));
      f.path.resize(skip);
      for (std::string& c : own) f.path.push_back(std::move(c));
    }
    if (absl::Status s = ValidateRelativePath(f.path, options_.path_limits);
        !s.ok()) {
      return Contextualise(name(), s);
    }
  }
  if (options_.strict_paths) return CheckUniquePaths(*files);
  MakeUniquePaths(files);
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

namespace {

// WithSuffix is `name` with ".n" before its extension ("a.bin" -> "a.1.bin"
// as libtorrent names them), the stem shortened to stay within `limit`.
std::string WithSuffix(const std::string& name, int n, size_t limit) {
  size_t dot = name.rfind('.');
  if (dot == 0 || dot == std::string::npos) dot = name.size();
  std::string suffix = absl::StrFormat(".%d", n);
  std::string ext = name.substr(dot);
  std::string stem = name.substr(0, dot);
  if (stem.size() + suffix.size() + ext.size() > limit) {
    if (suffix.size() + ext.size() >= limit) ext.clear();
    stem.resize(limit > suffix.size() + ext.size()
                    ? limit - suffix.size() - ext.size()
                    : 1);
  }
  return stem + suffix + ext;
}

}  // namespace

void TorrentInfoParser::MakeUniquePaths(std::vector<FileEntry>* files) {
  // Directories are never renamed: a file that collides with one, or with
  // a file listed before it, gets the first free ".n" name.
  absl::flat_hash_set<std::string> dir_paths;
  for (const FileEntry& f : *files) {
    if (f.pad()) continue;
    std::string dir;
    for (size_t i = 0; i + 1 < f.path.size(); ++i) {
      if (i) dir.push_back('/');
      dir += f.path[i];
      dir_paths.insert(dir);
    }
  }
  absl::flat_hash_set<std::string> file_paths;
  file_paths.reserve(files->size());
  // Next suffix to try per colliding path, so n copies cost O(n) probes.
  absl::flat_hash_map<std::string, int> next_suffix;
  for (FileEntry& f : *files) {
    if (f.pad()) continue;
    std::string path = f.PathString();
    if (!dir_paths.contains(path) && file_paths.insert(path).second) continue;
    int& n = next_suffix[path];
    std::string last = f.path.back();
    std::string candidate;
    do {
      f.path.back() =
          WithSuffix(last, ++n, options_.path_limits.max_component_bytes);
      candidate = f.PathString();
    } while (dir_paths.contains(candidate) || file_paths.contains(candidate));
    file_paths.insert(candidate);
    Warn(absl::StrFormat("file \"%s\"", EscapeForMessage(path)),
         absl::StrFormat("listed twice or also a directory: renamed \"%s\"",
                         EscapeForMessage(f.path.back())));
  }
}

}  // namespace bt::metainfo
