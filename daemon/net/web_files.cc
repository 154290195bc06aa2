#include "daemon/net/web_files.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace bt::daemon {
namespace {

// RealPath is realpath(3) as a value; "" when the path does not resolve.
std::string RealPath(const std::string& path) {
  std::unique_ptr<char, decltype(&free)> real(realpath(path.c_str(), nullptr),
                                              &free);
  return real ? std::string(real.get()) : std::string();
}

// SafeComponent is false for components that could climb out of the root or
// that no web client file has.
bool SafeComponent(std::string_view c) {
  if (c == "." || c == "..") return false;
  for (char ch : c) {
    if (ch == '\\' || static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<WebRoot> WebRoot::Open(const std::string& dir) {
  std::string real = RealPath(dir);
  struct stat st;
  if (real.empty() || stat(real.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("web root ", dir, ": not a directory"));
  }
  return WebRoot(std::move(real));
}

bool WebRoot::Inside(const std::string& real) const {
  if (real == real_path_) return true;
  std::string prefix =
      real_path_ == "/" ? real_path_ : absl::StrCat(real_path_, "/");
  return absl::StartsWith(real, prefix);
}

absl::StatusOr<std::string> WebRoot::Resolve(std::string_view relative) const {
  std::string joined = real_path_;
  size_t start = 0;
  while (start <= relative.size()) {
    size_t end = std::min(relative.find('/', start), relative.size());
    std::string_view part = relative.substr(start, end - start);
    start = end + 1;
    if (part.empty()) continue;
    if (!SafeComponent(part)) {
      return absl::NotFoundError(absl::StrCat(
          "web path ", std::string(relative), ": unsafe component"));
    }
    joined.append("/").append(part);
  }
  std::string real = RealPath(joined);
  struct stat st;
  if (!real.empty() && Inside(real) && stat(real.c_str(), &st) == 0 &&
      S_ISDIR(st.st_mode)) {
    real = RealPath(absl::StrCat(real, "/index.html"));
  }
  if (real.empty() || !Inside(real) || stat(real.c_str(), &st) != 0 ||
      !S_ISREG(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat("web path ", std::string(relative),
                                            ": no such file in the web root"));
  }
  return real;
}

std::string_view WebContentType(std::string_view file_name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=UTF-8"},
      {".htm", "text/html; charset=UTF-8"},
      {".js", "application/javascript; charset=UTF-8"},
      {".css", "text/css; charset=UTF-8"},
      {".json", "application/json; charset=UTF-8"},
      {".png", "image/png"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".svg", "image/svg+xml"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (file_name.size() >= ext.size() &&
        absl::EqualsIgnoreCase(
            std::string(file_name.substr(file_name.size() - ext.size())),
            std::string(ext))) {
      return type;
    }
  }
  return "application/octet-stream";
}

}  // namespace bt::daemon
