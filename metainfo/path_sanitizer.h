// Path sanitising for file names that come from metainfo (an untrusted
// party). Every component of every file path in a torrent passes through
// ValidatePathComponent before a path is formed, so a torrent can never name
// a file outside its download directory.
//
//   std::vector<std::string> parts = {"album", "01 - intro.flac"};
//   RETURN_IF_ERROR(bt::metainfo::ValidateRelativePath(parts, limits));
//   std::string rel = bt::metainfo::JoinPath(parts);   // "album/01 -
//   intro.flac"
//
// Policy (rejection, never silent rewriting, so what the user sees is what
// the torrent says): a component is rejected when it is empty, "." or "..",
// contains '/' or '\\' (a separator would split it into several components
// or, on Windows, escape the directory), a NUL or any other control
// character (bytes 0x00-0x1f and 0x7f), or is longer than
// PathLimits::max_component_bytes. A path is rejected when it has no
// components or more than PathLimits::max_depth, or when its joined length
// exceeds PathLimits::max_path_bytes. Names need not be UTF-8: they are
// bytes, as on POSIX file systems; bytes >= 0x80 are kept as given.
// Absolute paths cannot be formed: a leading '/' is a separator inside the
// first component, and a Windows drive ("C:") is rejected as a component
// containing ':' right after a single letter.
#ifndef METAINFO_PATH_SANITIZER_H_
#define METAINFO_PATH_SANITIZER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace bt::metainfo {

// PathLimits bounds the paths a torrent may name.
struct PathLimits {
  size_t max_depth = 64;             // components per path
  size_t max_component_bytes = 255;  // NAME_MAX on common file systems
  size_t max_path_bytes = 4096;      // PATH_MAX
};

// ValidatePathComponent returns OK if `component` is safe to use as one path
// element, else kInvalidArgument naming the problem and quoting the
// component (escaped).
absl::Status ValidatePathComponent(std::string_view component,
                                   const PathLimits& limits = {});

// ValidateRelativePath checks each component and the limits on the whole
// path. Errors: kInvalidArgument for a bad component or an empty path,
// kResourceExhausted when a depth or length limit is hit.
absl::Status ValidateRelativePath(const std::vector<std::string>& components,
                                  const PathLimits& limits = {});

// JoinPath joins components with '/'. Use only on validated paths.
std::string JoinPath(const std::vector<std::string>& components);

// EscapeForMessage renders untrusted bytes printable for an error message
// (C escapes, truncated to a readable length).
std::string EscapeForMessage(std::string_view bytes);

}  // namespace bt::metainfo

#endif  // METAINFO_PATH_SANITIZER_H_
