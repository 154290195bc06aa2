// Static files of the Transmission web client, served by the RPC's HTTP
// server under /transmission/web/: mapping a request path onto a file that
// is guaranteed to lie inside the web root, and the content type to send.
//
//   ASSIGN_OR_RETURN(bt::daemon::WebRoot root,
//                    bt::daemon::WebRoot::Open("/usr/share/transmission/web"));
//   absl::StatusOr<std::string> file = root.Resolve("javascript/main.js");
//   if (file.ok()) Send(*file, bt::daemon::WebContentType(*file));
#ifndef DAEMON_NET_WEB_FILES_H_
#define DAEMON_NET_WEB_FILES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bt::daemon {

// WebRoot is a directory whose files may be served; a plain value.
class WebRoot {
 public:
  // Open resolves `dir` (symlinks included) once. Error: kInvalidArgument
  // naming `dir` when it does not exist or is not a directory.
  static absl::StatusOr<WebRoot> Open(const std::string& dir);

  // Resolve maps `relative` (the already percent-decoded part of the URL
  // after the web prefix, e.g. "images/logo.png" or "" for the root) onto
  // the real path of a regular file inside the root; a directory maps to
  // its index.html. Error: kNotFound for anything else: a ".." or "."
  // component, a backslash or control character, a missing file, a path
  // that leaves the root through a symlink, a non-regular file.
  absl::StatusOr<std::string> Resolve(std::string_view relative) const;

  const std::string& path() const { return real_path_; }

 private:
  explicit WebRoot(std::string real_path) : real_path_(std::move(real_path)) {}
  // Inside is true when `real` is the root or below it.
  bool Inside(const std::string& real) const;

  std::string real_path_;
};

// WebContentType is the Content-Type for a file name by its extension
// (html, js, css, png, ico, svg, json, gif; application/octet-stream else).
std::string_view WebContentType(std::string_view file_name);

}  // namespace bt::daemon

#endif  // DAEMON_NET_WEB_FILES_H_
