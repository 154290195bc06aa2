#include "protocol/ut_pex.h"

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "bencode/encoder.h"
#include "metainfo/compact.h"

namespace bt::protocol {
namespace {

absl::Status Bad(std::string_view key, std::string_view what, size_t offset) {
  return absl::InvalidArgumentError(
      absl::StrFormat("ut_pex: \"%s\" %s (byte %d)", key, what, offset));
}

absl::Status ReadPeers(const bencode::Node& root, std::string_view key, bool v6,
                       const PexLimits& limits, std::vector<Endpoint>* out,
                       bool* present) {
  std::optional<bencode::Node> node = root.Find(key);
  if (!node) return absl::OkStatus();
  *present = true;
  if (!node->is_string()) return Bad(key, "is not a string", node->offset());
  std::string_view s = node->string_value();
  size_t entry = v6 ? metainfo::kCompactPeer6Size : metainfo::kCompactPeer4Size;
  if (s.size() / entry > limits.max_peers_per_list) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("ut_pex: \"%s\" lists %d peers, limit %d", key,
                        s.size() / entry, limits.max_peers_per_list));
  }
  absl::StatusOr<std::vector<Endpoint>> peers =
      v6 ? metainfo::ParseCompactPeers6(s) : metainfo::ParseCompactPeers4(s);
  if (!peers.ok())
    return Bad(key, std::string(peers.status().message()), node->offset());
  *out = *std::move(peers);
  return absl::OkStatus();
}

absl::Status ReadFlags(const bencode::Node& root, std::string_view key,
                       size_t count, std::vector<uint8_t>* out) {
  std::optional<bencode::Node> node = root.Find(key);
  if (!node) return absl::OkStatus();
  if (!node->is_string()) return Bad(key, "is not a string", node->offset());
  std::string_view s = node->string_value();
  if (s.size() != count) {
    return Bad(
        key, absl::StrFormat("has %d flag bytes for %d peers", s.size(), count),
        node->offset());
  }
  out->assign(s.begin(), s.end());
  return absl::OkStatus();
}

std::string Compact(const std::vector<Endpoint>& peers, bool v6,
                    size_t* written) {
  std::string out;
  *written = 0;
  for (const Endpoint& p : peers) {
    if (p.is_v6() != v6) continue;
    metainfo::AppendCompactPeer(p, &out);
    ++*written;
  }
  return out;
}

}  // namespace

absl::StatusOr<PexMessage> ParsePexMessage(std::string_view payload,
                                           const PexLimits& limits) {
  bencode::DecodeOptions options;
  options.allow_unsorted_keys = true;
  options.max_depth = 32;
  absl::StatusOr<bencode::Document> doc = bencode::Decode(payload, options);
  if (!doc.ok()) {
    return absl::Status(doc.status().code(),
                        absl::StrFormat("ut_pex: %s", doc.status().message()));
  }
  bencode::Node root = doc->root();
  if (!root.is_dict()) {
    return absl::InvalidArgumentError("ut_pex: payload is not a dictionary");
  }
  PexMessage m;
  bool any = false;
  RETURN_IF_ERROR(ReadPeers(root, "added", false, limits, &m.added, &any));
  RETURN_IF_ERROR(ReadPeers(root, "added6", true, limits, &m.added6, &any));
  RETURN_IF_ERROR(ReadPeers(root, "dropped", false, limits, &m.dropped, &any));
  RETURN_IF_ERROR(ReadPeers(root, "dropped6", true, limits, &m.dropped6, &any));
  if (!any) {
    return absl::InvalidArgumentError(
        "ut_pex: none of added, added6, dropped, dropped6 is present");
  }
  RETURN_IF_ERROR(ReadFlags(root, "added.f", m.added.size(), &m.added_flags));
  RETURN_IF_ERROR(
      ReadFlags(root, "added6.f", m.added6.size(), &m.added6_flags));
  return m;
}

void AppendPexMessage(const PexMessage& m, std::string* out) {
  size_t n4, n6, unused;
  std::string added = Compact(m.added, false, &n4);
  std::string added6 = Compact(m.added6, true, &n6);
  bencode::Writer w(out);
  w.BeginDict().Key("added").String(added);
  if (!m.added_flags.empty() && m.added_flags.size() == n4) {
    w.Key("added.f").String(
        std::string_view(reinterpret_cast<const char*>(m.added_flags.data()),
                         m.added_flags.size()));
  }
  w.Key("added6").String(added6);
  if (!m.added6_flags.empty() && m.added6_flags.size() == n6) {
    w.Key("added6.f")
        .String(std::string_view(
            reinterpret_cast<const char*>(m.added6_flags.data()),
            m.added6_flags.size()));
  }
  w.Key("dropped").String(Compact(m.dropped, false, &unused));
  w.Key("dropped6").String(Compact(m.dropped6, true, &unused));
  w.End();
}

}  // namespace bt::protocol
