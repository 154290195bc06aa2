#include "metainfo/path_sanitizer.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"

namespace bt::metainfo {

std::string EscapeForMessage(std::string_view bytes) {
  constexpr size_t kMax = 80;
  std::string s(bytes.substr(0, kMax));
  std::string out = absl::CHexEscape(s);
  if (bytes.size() > kMax) out += "...";
  return out;
}

absl::Status ValidatePathComponent(std::string_view c,
                                   const PathLimits& limits) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "unsafe path component \"%s\": %s", EscapeForMessage(c), why));
  };
  if (c.empty()) return bad("empty");
  if (c == ".") return bad("'.' names the parent directory's entry");
  if (c == "..") return bad("'..' would leave the download directory");
  if (c.size() > limits.max_component_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("path component of %d bytes exceeds the limit of %d",
                        c.size(), limits.max_component_bytes));
  }
  for (char ch : c) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (ch == '/' || ch == '\\') return bad("contains a path separator");
    if (u < 0x20 || u == 0x7f) return bad("contains a control character");
  }
  if (c.size() >= 2 && c[1] == ':' &&
      ((c[0] >= 'a' && c[0] <= 'z') || (c[0] >= 'A' && c[0] <= 'Z'))) {
    return bad("looks like a drive letter (absolute path)");
  }
  return absl::OkStatus();
}

absl::Status ValidateRelativePath(const std::vector<std::string>& components,
                                  const PathLimits& limits) {
  if (components.empty()) {
    return absl::InvalidArgumentError("empty file path");
  }
  if (components.size() > limits.max_depth) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("file path of %d components exceeds the depth limit "
                        "of %d",
                        components.size(), limits.max_depth));
  }
  size_t total = components.size() - 1;
  for (const std::string& c : components) {
    total += c.size();
    if (absl::Status s = ValidatePathComponent(c, limits); !s.ok()) return s;
  }
  if (total > limits.max_path_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("file path of %d bytes exceeds the limit of %d", total,
                        limits.max_path_bytes));
  }
  return absl::OkStatus();
}

std::string JoinPath(const std::vector<std::string>& components) {
  std::string out;
  for (size_t i = 0; i < components.size(); ++i) {
    if (i) out.push_back('/');
    out += components[i];
  }
  return out;
}

}  // namespace bt::metainfo
