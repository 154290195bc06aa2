// AllowedRoots: the directories a remote user of the daemon may name —
// as a download directory, a torrent's new location, or a .torrent file to
// add — so an RPC request cannot make the daemon read or write elsewhere.
//
//   ASSIGN_OR_RETURN(AllowedRoots roots, AllowedRoots::Make({"/srv/dl"}));
//   ASSIGN_OR_RETURN(std::string dir, roots.Check("/srv/dl/films"));  // ok
//   roots.Check("/srv/dl/../etc");     // kPermissionDenied
//   roots.Check("relative/path");      // kInvalidArgument
//
// A path is checked as the file system will see it: made absolute-only,
// "." and ".." folded, and the part of it that exists resolved through its
// symbolic links (so a link inside a root that points outside is refused).
#ifndef DAEMON_ALLOWED_ROOTS_H_
#define DAEMON_ALLOWED_ROOTS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace bt::daemon {

class AllowedRoots {
 public:
  // Make takes absolute directories (created if missing). Errors:
  // kInvalidArgument for a relative or empty one, the file system's for
  // one that cannot be made or resolved.
  static absl::StatusOr<AllowedRoots> Make(
      const std::vector<std::string>& roots);

  // Check returns `path` resolved (see above) when it lies inside a root
  // (or is one). Errors: kInvalidArgument for an empty, relative or
  // over-long path or one with a NUL or control character;
  // kPermissionDenied (naming the path) when it lies outside every root.
  absl::StatusOr<std::string> Check(std::string_view path) const;

  const std::vector<std::string>& roots() const { return roots_; }

 private:
  std::vector<std::string> roots_;  // resolved
};

// ResolvePath folds "." and ".." of an absolute `path` and resolves the
// longest existing prefix through symbolic links; the rest is appended.
absl::StatusOr<std::string> ResolvePath(std::string_view path);

}  // namespace bt::daemon

#endif  // DAEMON_ALLOWED_ROOTS_H_
