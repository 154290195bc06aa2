#include "metainfo/path_sanitizer.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace bt::metainfo {

namespace {

bool IsDriveLetter(std::string_view c) {
  return c.size() >= 2 && c[1] == ':' &&
         ((c[0] >= 'a' && c[0] <= 'z') || (c[0] >= 'A' && c[0] <= 'Z'));
}

// Longest extension (".ext") kept when an over-long component is cut.
constexpr size_t kMaxKeptExtension = 16;

// CutToLimit shortens `s` to at most `limit` bytes, keeping a short
// extension and backing off so no UTF-8 sequence is split.
std::string CutToLimit(const std::string& s, size_t limit) {
  std::string ext;
  size_t dot = s.rfind('.');
  if (dot != std::string::npos && dot > 0 &&
      s.size() - dot <= kMaxKeptExtension && s.size() - dot < limit) {
    ext = s.substr(dot);
  }
  size_t keep = limit - ext.size();
  auto continuation = [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) == 0x80;
  };
  while (keep > 0 && keep < s.size() && continuation(s[keep])) --keep;
  return s.substr(0, keep) + ext;
}

}  // namespace

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
  if (IsDriveLetter(c)) {
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


std::optional<std::string> SanitizePathComponent(std::string_view c,
                                                 const PathLimits& limits,
                                                 std::string* reason) {
  // Most names are safe as given: no reasons to collect, nothing to build.
  if (ValidatePathComponent(c, limits).ok()) {
    if (reason) reason->clear();
    return std::string(c);
  }
  std::vector<std::string> done;
  auto finish = [&](std::optional<std::string> result) {
    if (reason) *reason = absl::StrJoin(done, ", ");
    return result;
  };
  if (c == "." || c == "..") {
    done.push_back(c == "." ? "'.' dropped" : "'..' dropped");
    return finish(std::nullopt);
  }
  if (c.empty()) {
    done.push_back("empty component named '_'");
    return finish("_");
  }
  std::string out;
  out.reserve(c.size());
  bool removed = false;
  bool replaced = false;
  for (char ch : c) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (ch == '/' || ch == '\\' || u == 0 || u == 0x7f) {
      removed = true;
    } else if (u < 0x20) {
      replaced = true;
      out.push_back('_');
    } else {
      out.push_back(ch);
    }
  }
  if (removed) done.push_back("separators, NUL or DEL removed");
  if (replaced) done.push_back("control characters replaced by '_'");
  if (out.empty() || out == "." || out == "..") {
    done.push_back("nothing safe left: dropped");
    return finish(std::nullopt);
  }
  if (IsDriveLetter(out)) {
    out[1] = '_';
    done.push_back("drive letter's ':' replaced by '_'");
  }
  if (out.size() > limits.max_component_bytes) {
    out = CutToLimit(out, limits.max_component_bytes);
    done.push_back("cut to the length limit");
    if (out.empty() || out == "." || out == "..") return finish(std::nullopt);
  }
  return finish(std::move(out));
}

std::vector<std::string> SanitizeRelativePath(
    const std::vector<std::string>& components, const PathLimits& limits,
    std::vector<std::string>* reasons) {
  std::vector<std::string> out;
  out.reserve(components.size());
  for (const std::string& c : components) {
    std::string reason;
    std::optional<std::string> safe = SanitizePathComponent(c, limits, &reason);
    if (!reason.empty() && reasons) {
      reasons->push_back(absl::StrFormat("component \"%s\": %s",
                                         EscapeForMessage(c), reason));
    }
    if (safe) out.push_back(*std::move(safe));
  }
  if (out.empty()) {
    if (reasons) reasons->push_back("no component left: named '_'");
    out.push_back("_");
  }
  return out;
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
