#include "daemon/allowed_roots.h"

#include <limits.h>
#include <stdlib.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/status_macros.h"

namespace bt::daemon {
namespace {

constexpr size_t kMaxPath = 4096;

absl::Status CheckText(std::string_view path) {
  if (path.empty()) return absl::InvalidArgumentError("empty path");
  if (path.size() > kMaxPath) {
    return absl::InvalidArgumentError(
        absl::StrCat("path longer than ", kMaxPath, " bytes"));
  }
  if (path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(path), "' is not an absolute path"));
  }
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("path holds a control character");
    }
  }
  return absl::OkStatus();
}

// Fold removes ".", "..", and empty components of an absolute path.
std::vector<std::string> Fold(std::string_view path) {
  std::vector<std::string> parts;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(path.data(), path.size()), '/',
                      absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.emplace_back(part);
  }
  return parts;
}

bool Within(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path == root ||
         (absl::StartsWith(path, root) && path[root.size()] == '/');
}

}  // namespace

absl::StatusOr<std::string> ResolvePath(std::string_view path) {
  RETURN_IF_ERROR(CheckText(path));
  std::vector<std::string> parts = Fold(path);
  // The longest prefix that exists goes through realpath; the rest, which
  // does not exist yet, cannot hold a link.
  for (size_t n = parts.size() + 1; n-- > 0;) {
    std::string prefix =
        absl::StrCat("/", absl::StrJoin(parts.begin(), parts.begin() + n, "/"));
    char resolved[PATH_MAX];
    if (realpath(prefix.c_str(), resolved) == nullptr) continue;
    std::string out = resolved;
    for (size_t i = n; i < parts.size(); ++i) {
      if (out != "/") out += '/';
      out += parts[i];
    }
    return out;
  }
  return absl::NotFoundError(
      absl::StrCat("cannot resolve '", std::string(path), "'"));
}

absl::StatusOr<AllowedRoots> AllowedRoots::Make(
    const std::vector<std::string>& roots) {
  AllowedRoots out;
  for (const std::string& root : roots) {
    RETURN_IF_ERROR(CheckText(root));
    RETURN_IF_ERROR(MakeDirectories(root));
    ASSIGN_OR_RETURN(std::string resolved, ResolvePath(root));
    out.roots_.push_back(std::move(resolved));
  }
  return out;
}

absl::StatusOr<std::string> AllowedRoots::Check(std::string_view path) const {
  ASSIGN_OR_RETURN(std::string resolved, ResolvePath(path));
  for (const std::string& root : roots_) {
    if (Within(resolved, root)) return resolved;
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "'", std::string(path), "' is outside the allowed directories (",
      absl::StrJoin(roots_, ", "), ")"));
}

}  // namespace bt::daemon
