#include "protocol/ut_metadata.h"

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "bencode/encoder.h"

namespace bt::protocol {
namespace {

absl::Status Bad(std::string_view what, size_t offset) {
  return absl::InvalidArgumentError(
      absl::StrFormat("ut_metadata: %s (byte %d)", what, offset));
}

// DictEnd finds where the bencoded dict at the start of `s` ends, without
// validating more than needed to find it (Decode validates it afterwards).
// Depth is bounded so a hostile payload cannot make this expensive.
absl::StatusOr<size_t> DictEnd(std::string_view s) {
  if (s.empty() || s[0] != 'd') return Bad("payload is not a dictionary", 0);
  size_t pos = 0;
  int depth = 0;
  while (pos < s.size()) {
    char c = s[pos];
    if (c == 'd' || c == 'l') {
      if (++depth > 32) return Bad("nesting too deep", pos);
      ++pos;
    } else if (c == 'e') {
      ++pos;
      if (--depth == 0) return pos;
    } else if (c == 'i') {
      size_t e = s.find('e', pos);
      if (e == std::string_view::npos) break;
      pos = e + 1;
    } else if (c >= '0' && c <= '9') {
      size_t colon = s.find(':', pos);
      if (colon == std::string_view::npos || colon - pos > 10) {
        return Bad("bad string length", pos);
      }
      uint64_t n = 0;
      for (size_t i = pos; i < colon; ++i) {
        if (s[i] < '0' || s[i] > '9') return Bad("bad string length", pos);
        n = n * 10 + static_cast<uint64_t>(s[i] - '0');
      }
      if (n > s.size() - colon - 1) break;
      pos = colon + 1 + n;
    } else {
      return Bad("not bencode", pos);
    }
  }
  return Bad("dictionary is truncated", s.size());
}

}  // namespace

absl::StatusOr<MetadataMessage> ParseMetadataMessage(
    std::string_view payload, uint64_t max_metadata_size) {
  ASSIGN_OR_RETURN(size_t dict_size, DictEnd(payload));
  std::string_view dict = payload.substr(0, dict_size);
  std::string_view rest = payload.substr(dict_size);
  bencode::DecodeOptions options;
  options.allow_unsorted_keys = true;
  options.max_depth = 32;
  absl::StatusOr<bencode::Document> doc = bencode::Decode(dict, options);
  if (!doc.ok()) {
    return absl::Status(
        doc.status().code(),
        absl::StrFormat("ut_metadata: %s", doc.status().message()));
  }
  bencode::Node root = doc->root();
  auto get_int = [&](std::string_view key) -> absl::StatusOr<int64_t> {
    absl::StatusOr<int64_t> v = root.GetInt(key);
    if (!v.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("ut_metadata: %s", v.status().message()));
    }
    return *v;
  };
  ASSIGN_OR_RETURN(int64_t type, get_int("msg_type"));
  ASSIGN_OR_RETURN(int64_t piece, get_int("piece"));
  if (type < 0 || type > 2) {
    return absl::UnimplementedError(
        absl::StrFormat("ut_metadata: unknown msg_type %d", type));
  }
  MetadataMessage m;
  m.type = static_cast<MetadataMessageType>(type);
  if (piece < 0 ||
      static_cast<uint64_t>(piece) >= MetadataPieceCount(max_metadata_size)) {
    return Bad(absl::StrFormat("piece %d out of range", piece),
               root.Find("piece")->offset());
  }
  m.piece = static_cast<uint32_t>(piece);
  if (m.type != MetadataMessageType::kData) {
    if (!rest.empty()) {
      return Bad(absl::StrFormat("%d bytes after a %s message", rest.size(),
                                 type == 0 ? "request" : "reject"),
                 dict_size);
    }
    return m;
  }
  ASSIGN_OR_RETURN(int64_t total, get_int("total_size"));
  size_t total_offset = root.Find("total_size")->offset();
  if (total <= 0) {
    return Bad(absl::StrFormat("total_size %d is not positive", total),
               total_offset);
  }
  if (static_cast<uint64_t>(total) > max_metadata_size) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "ut_metadata: total_size %d exceeds the limit %d (byte %d)", total,
        max_metadata_size, total_offset));
  }
  m.total_size = static_cast<uint64_t>(total);
  uint64_t start = uint64_t{m.piece} * kMetadataPieceSize;
  if (start >= m.total_size) {
    return Bad(absl::StrFormat("piece %d starts past total_size %d", m.piece,
                               m.total_size),
               total_offset);
  }
  uint64_t want = std::min<uint64_t>(kMetadataPieceSize, m.total_size - start);
  if (rest.size() != want) {
    return Bad(absl::StrFormat("piece %d carries %d bytes, expected %d",
                               m.piece, rest.size(), want),
               dict_size);
  }
  m.data = rest;
  return m;
}

void AppendMetadataMessage(const MetadataMessage& m, std::string* out) {
  bencode::Writer w(out);
  w.BeginDict().Key("msg_type").Int(static_cast<int64_t>(m.type));
  w.Key("piece").Int(m.piece);
  if (m.type == MetadataMessageType::kData) {
    w.Key("total_size").Int(static_cast<int64_t>(m.total_size));
  }
  w.End();
  if (m.type == MetadataMessageType::kData) out->append(m.data);
}

}  // namespace bt::protocol
