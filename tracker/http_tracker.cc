#include "tracker/http_tracker.h"

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "metainfo/compact.h"
#include "tracker/tracker_url.h"

namespace bt::tracker {
namespace {

using bencode::Node;

absl::Status FieldError(std::string_view field, const Node& n,
                        std::string_view why) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "tracker response: \"%s\" at byte %d %s", field, n.offset(), why));
}

// OptionalCount reads a non-negative integer field if present.
absl::Status OptionalCount(const Node& dict, std::string_view key,
                           std::optional<int64_t>* out) {
  std::optional<Node> n = dict.Find(key);
  if (!n) return absl::OkStatus();
  if (!n->is_int()) return n->TypeError(key, bencode::Type::kInt);
  if (n->int_value() < 0) return FieldError(key, *n, "is negative");
  *out = n->int_value();
  return absl::OkStatus();
}

absl::Status OptionalString(const Node& dict, std::string_view key,
                            std::optional<std::string>* out) {
  std::optional<Node> n = dict.Find(key);
  if (!n) return absl::OkStatus();
  if (!n->is_string()) return n->TypeError(key, bencode::Type::kString);
  *out = std::string(n->string_value());
  return absl::OkStatus();
}

absl::StatusOr<bencode::Document> DecodeBody(
    std::string_view body, const HttpTrackerParseOptions& options) {
  if (body.size() > options.max_body_size) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "tracker response: body of %d bytes exceeds the limit of %d",
        body.size(), options.max_body_size));
  }
  bencode::DecodeOptions dopt;
  dopt.max_input_size = options.max_body_size;
  dopt.max_depth = 16;
  dopt.allow_unsorted_keys = true;  // some trackers do not sort keys
  absl::StatusOr<bencode::Document> doc = bencode::Decode(body, dopt);
  if (!doc.ok()) {
    return absl::Status(
        doc.status().code(),
        absl::StrFormat("tracker response is not valid bencode: %s",
                        doc.status().message()));
  }
  if (!doc->root().is_dict()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tracker response: expected a dictionary, got %s",
        bencode::TypeName(doc->root().type())));
  }
  return doc;
}

absl::Status CheckPeerCount(size_t n, const HttpTrackerParseOptions& options) {
  if (n > options.max_peers) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "tracker response: more than %d peers", options.max_peers));
  }
  return absl::OkStatus();
}

absl::Status AddCompact(const Node& n, std::string_view key, bool v6,
                        const HttpTrackerParseOptions& options,
                        AnnounceResponse* out) {
  absl::StatusOr<std::vector<Endpoint>> peers =
      v6 ? metainfo::ParseCompactPeers6(n.string_value())
         : metainfo::ParseCompactPeers4(n.string_value());
  if (!peers.ok()) {
    return FieldError(key, n, std::string(peers.status().message()));
  }
  RETURN_IF_ERROR(CheckPeerCount(out->peers.size() + peers->size(), options));
  out->peers.reserve(out->peers.size() + peers->size());
  // Assigned in place: a temporary TrackerPeer per peer costs a
  // store-forwarding stall on each copy (see metainfo/compact.cc).
  for (const Endpoint& e : *peers) out->peers.emplace_back().endpoint = e;
  return absl::OkStatus();
}

absl::Status AddDictPeers(const Node& list,
                          const HttpTrackerParseOptions& options,
                          AnnounceResponse* out) {
  RETURN_IF_ERROR(CheckPeerCount(out->peers.size() + list.size(), options));
  for (Node p : list.items()) {
    if (!p.is_dict()) return p.TypeError("peers entry", bencode::Type::kDict);
    std::optional<Node> ipn = p.Find("ip");
    std::optional<Node> portn = p.Find("port");
    if (!ipn || !portn) return FieldError("peers entry", p, "lacks \"ip\" or \"port\"");
    if (!ipn->is_string()) return ipn->TypeError("ip", bencode::Type::kString);
    if (!portn->is_int()) return portn->TypeError("port", bencode::Type::kInt);
    std::string_view ip = ipn->string_value();
    int64_t port = portn->int_value();
    std::optional<PeerId> id;
    if (std::optional<Node> idn = p.Find("peer id")) {
      if (!idn->is_string()) return idn->TypeError("peer id", bencode::Type::kString);
      PeerId pid;
      if (!PeerId::FromSpan(AsBytes(idn->string_value()), &pid)) {
        return FieldError("peer id", *idn, "is not 20 bytes");
      }
      id = pid;
    }
    absl::StatusOr<Endpoint> ep =
        Endpoint::ParseAddress(ip, static_cast<uint16_t>(port));
    if (!ep.ok() || port <= 0 || port > 65535) {
      ++out->peers_skipped;  // host name or unusable port
      continue;
    }
    out->peers.push_back(TrackerPeer{*ep, id});
  }
  return absl::OkStatus();
}

}  // namespace

std::string BuildHttpAnnounceUrl(std::string_view announce_url,
                                 const AnnounceRequest& r) {
  std::string url(announce_url);
  AppendQuery(&url, "info_hash", UrlEncode(r.info_hash.span()));
  AppendQuery(&url, "peer_id", UrlEncode(r.peer_id.span()));
  AppendQuery(&url, "port", absl::StrFormat("%d", r.port));
  AppendQuery(&url, "uploaded", absl::StrFormat("%d", r.uploaded));
  AppendQuery(&url, "downloaded", absl::StrFormat("%d", r.downloaded));
  AppendQuery(&url, "left", absl::StrFormat("%d", r.left));
  if (r.compact) AppendQuery(&url, "compact", "1");
  if (r.no_peer_id) AppendQuery(&url, "no_peer_id", "1");
  if (r.event != AnnounceEvent::kNone) {
    AppendQuery(&url, "event", AnnounceEventName(r.event));
  }
  if (r.numwant) AppendQuery(&url, "numwant", absl::StrFormat("%d", *r.numwant));
  AppendQuery(&url, "key", absl::StrFormat("%08X", r.key));
  if (!r.tracker_id.empty()) {
    AppendQuery(&url, "trackerid", UrlEncode(r.tracker_id));
  }
  if (!r.ip.empty()) AppendQuery(&url, "ip", UrlEncode(r.ip));
  if (!r.ipv6.empty()) AppendQuery(&url, "ipv6", UrlEncode(r.ipv6));
  return url;
}

std::string BuildHttpScrapeUrl(std::string_view scrape_url,
                               absl::Span<const Sha1Hash> info_hashes) {
  std::string url(scrape_url);
  for (const Sha1Hash& h : info_hashes) {
    AppendQuery(&url, "info_hash", UrlEncode(h.span()));
  }
  return url;
}

absl::StatusOr<AnnounceResponse> ParseHttpAnnounceResponse(
    std::string_view body, const HttpTrackerParseOptions& options) {
  ASSIGN_OR_RETURN(bencode::Document doc, DecodeBody(body, options));
  Node root = doc.root();
  AnnounceResponse out;
  RETURN_IF_ERROR(OptionalString(root, "failure reason", &out.failure_reason));
  RETURN_IF_ERROR(OptionalCount(root, "min interval", &out.min_interval));
  if (out.failure_reason) return out;
  RETURN_IF_ERROR(OptionalString(root, "warning message", &out.warning_message));
  RETURN_IF_ERROR(OptionalCount(root, "interval", &out.interval));
  RETURN_IF_ERROR(OptionalString(root, "tracker id", &out.tracker_id));
  RETURN_IF_ERROR(OptionalCount(root, "complete", &out.complete));
  RETURN_IF_ERROR(OptionalCount(root, "incomplete", &out.incomplete));
  RETURN_IF_ERROR(OptionalCount(root, "downloaded", &out.downloaded));
  if (std::optional<Node> peers = root.Find("peers")) {
    if (peers->is_string()) {
      RETURN_IF_ERROR(AddCompact(*peers, "peers", false, options, &out));
    } else if (peers->is_list()) {
      RETURN_IF_ERROR(AddDictPeers(*peers, options, &out));
    } else {
      return FieldError("peers", *peers, "is neither a string nor a list");
    }
  }
  if (std::optional<Node> peers6 = root.Find("peers6")) {
    if (!peers6->is_string()) return peers6->TypeError("peers6", bencode::Type::kString);
    RETURN_IF_ERROR(AddCompact(*peers6, "peers6", true, options, &out));
  }
  if (std::optional<Node> ext = root.Find("external ip")) {
    if (!ext->is_string()) return ext->TypeError("external ip", bencode::Type::kString);
    Endpoint e;
    if (!Endpoint::FromBytes(AsBytes(ext->string_value()), 0, &e)) {
      return FieldError("external ip", *ext, "is not 4 or 16 bytes");
    }
    out.external_ip = e;
  }
  return out;
}

absl::StatusOr<ScrapeResponse> ParseHttpScrapeResponse(
    std::string_view body, const HttpTrackerParseOptions& options) {
  ASSIGN_OR_RETURN(bencode::Document doc, DecodeBody(body, options));
  Node root = doc.root();
  ScrapeResponse out;
  RETURN_IF_ERROR(OptionalString(root, "failure reason", &out.failure_reason));
  if (out.failure_reason) return out;
  std::optional<Node> files_node = root.Find("files");
  if (!files_node) {
    return absl::InvalidArgumentError(
        "scrape response: neither \"files\" nor \"failure reason\"");
  }
  if (!files_node->is_dict()) return files_node->TypeError("files", bencode::Type::kDict);
  Node files = *files_node;
  if (files.size() > options.max_scrape_files) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "scrape response: more than %d files", options.max_scrape_files));
  }
  for (auto [key, stats] : files.pairs()) {
    ScrapeEntry e;
    if (!Sha1Hash::FromSpan(AsBytes(key), &e.info_hash)) {
      return FieldError("files", stats, "has a key that is not a 20-byte info-hash");
    }
    if (!stats.is_dict()) return stats.TypeError("files entry", bencode::Type::kDict);
    std::optional<int64_t> complete, incomplete, downloaded;
    RETURN_IF_ERROR(OptionalCount(stats, "complete", &complete));
    RETURN_IF_ERROR(OptionalCount(stats, "incomplete", &incomplete));
    RETURN_IF_ERROR(OptionalCount(stats, "downloaded", &downloaded));
    e.complete = complete.value_or(0);
    e.incomplete = incomplete.value_or(0);
    e.downloaded = downloaded.value_or(0);
    out.files.push_back(e);
  }
  return out;
}

}  // namespace bt::tracker
