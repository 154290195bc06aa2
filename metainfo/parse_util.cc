// Lookup helpers shared by the parts of TorrentInfoParser.

#include "metainfo/torrent_info_parser.h"

#include "absl/strings/str_format.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "metainfo/merkle.h"

namespace bt::metainfo {

using bencode::Node;

namespace internal {

// Where: a readable location ("info.files[3].path") for messages.

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

}  // namespace internal

}  // namespace bt::metainfo
