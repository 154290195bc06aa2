// Path sanitising for file names that come from metainfo (an untrusted
// party). Every component of every file path in a torrent passes through
// this file before a path is formed, so a torrent can never name a file
// outside its download directory.
//
//   std::vector<std::string> reasons;
//   std::vector<std::string> safe = bt::metainfo::SanitizeRelativePath(
//       {"..", "etc", "pass\nwd"}, limits, &reasons);   // {"etc", "pass_wd"}
//   RETURN_IF_ERROR(bt::metainfo::ValidateRelativePath(safe, limits));  // OK
//   std::string rel = bt::metainfo::JoinPath(safe);       // "etc/pass_wd"
//
// Two policies share one definition of "safe":
//
// Validation (ValidatePathComponent, ValidateRelativePath; what strict
// parsing uses): a component is rejected when it is empty, "." or "..",
// contains '/' or '\\' (a separator would split it into several components
// or, on Windows, escape the directory), a NUL or any other control
// character (bytes 0x00-0x1f and 0x7f), starts with a Windows drive ("C:"),
// or is longer than PathLimits::max_component_bytes. A path is rejected when
// it has no components or more than PathLimits::max_depth, or when its
// joined length exceeds PathLimits::max_path_bytes.
//
// Sanitising (SanitizePathComponent, SanitizeRelativePath; the default when
// parsing, as libtorrent does it so files land where other clients put
// them): "." and ".." are dropped; '/', '\\', NUL and DEL are removed (a
// component left empty by that is dropped); other control characters become
// '_'; an empty component becomes "_"; a drive letter's ':' becomes '_'; an
// over-long component is cut to the limit, keeping a short extension and
// never splitting a UTF-8 sequence. A path left with no component becomes
// "_". Every sanitised component passes ValidatePathComponent.
//
// Names need not be UTF-8: they are bytes, as on POSIX file systems; bytes
// >= 0x80 are kept as given.
#ifndef METAINFO_PATH_SANITIZER_H_
#define METAINFO_PATH_SANITIZER_H_

#include <cstddef>
#include <optional>
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

// SanitizePathComponent returns `component` made safe (see the policy
// above), or nullopt when it is to be dropped. When the result differs from
// the input and `reason` is not null, `*reason` says what was done.
std::optional<std::string> SanitizePathComponent(std::string_view component,
                                                 const PathLimits& limits,
                                                 std::string* reason);

// SanitizeRelativePath sanitises each component, drops the dropped ones and
// returns {"_"} if none is left. Appends one reason per change to `*reasons`
// (may be null). The depth and total length limits are not applied: check
// the result with ValidateRelativePath.
std::vector<std::string> SanitizeRelativePath(
    const std::vector<std::string>& components, const PathLimits& limits,
    std::vector<std::string>* reasons);

// JoinPath joins components with '/'. Use only on validated paths.
std::string JoinPath(const std::vector<std::string>& components);

// EscapeForMessage renders untrusted bytes printable for an error message
// (C escapes, truncated to a readable length).
std::string EscapeForMessage(std::string_view bytes);

}  // namespace bt::metainfo

#endif  // METAINFO_PATH_SANITIZER_H_
