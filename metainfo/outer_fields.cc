// TorrentInfoParser: the outer .torrent keys (trackers, web seeds, DHT
// nodes, comment, BEP 38 hints).

#include "metainfo/torrent_info_parser.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "metainfo/merkle.h"

namespace bt::metainfo {

using bencode::Node;
using internal::Bad;
using internal::Contextualise;
using internal::OptInt;
using internal::OptString;
using internal::OptUtf8String;
using internal::StringList;
using internal::TooMany;

namespace {

// IsHostText: a host name or address a resolver can be asked for (the
// text goes to getaddrinfo as a C string).
bool IsHostText(std::string_view host) {
  if (host.empty() || host.size() > kMaxDhtNodeHost) return false;
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

absl::Status TorrentInfoParser::UrlList(const Node& n, std::string_view where,
                                        std::vector<std::string>* out) {
  std::vector<std::string> urls;
  if (n.is_string()) {
    urls.emplace_back(n.string_value());
  } else {
    RETURN_IF_ERROR(StringList(n, where, options_.max_list_entries, &urls));
  }
  for (std::string& u : urls) {
    if (!u.empty()) out->push_back(std::move(u));
  }
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::WebSeedList(const Node& n,
                                            std::string_view where,
                                            std::vector<std::string>* out) {
  // libtorrent skips what is not a URL here instead of refusing the file.
  if (n.is_string()) {
    if (!n.string_value().empty()) out->emplace_back(n.string_value());
    return absl::OkStatus();
  }
  if (!n.is_list()) {
    Warn(std::string(where),
         absl::StrFormat("a %s, not a string or list: ignored",
                         bencode::TypeName(n.type())));
    return absl::OkStatus();
  }
  if (n.size() > options_.max_list_entries) {
    return TooMany(where, options_.max_list_entries);
  }
  size_t index = 0;
  for (Node item : n.items()) {
    if (!item.is_string()) {
      Warn(absl::StrFormat("%s[%d]", where, index),
           absl::StrFormat("a %s, not a URL: skipped",
                           bencode::TypeName(item.type())));
    } else if (!item.string_value().empty()) {
      out->emplace_back(item.string_value());
    }
    ++index;
  }
  return absl::OkStatus();
}

absl::Status TorrentInfoParser::ParseOuter(const Node& root) {
  std::optional<std::string_view> s;
  RETURN_IF_ERROR(OptString(root, "announce", "torrent", &s));
  if (s) t_.announce_ = std::string(*s);
  if (std::optional<Node> list = root.Find("announce-list")) {
    if (!list->is_list()) {
      return Contextualise(
          "torrent", list->TypeError("announce-list", bencode::Type::kList));
    }
    if (list->size() > options_.max_list_entries) {
      return TooMany("announce-list", options_.max_list_entries);
    }
    size_t total = 0;
    size_t index = 0;
    for (Node tier : list->items()) {
      std::vector<std::string> urls;
      RETURN_IF_ERROR(
          UrlList(tier, absl::StrFormat("announce-list[%d]", index++), &urls));
      total += urls.size();
      if (total > options_.max_list_entries) {
        return TooMany("announce-list", options_.max_list_entries);
      }
      if (!urls.empty()) t_.trackers_.push_back(std::move(urls));
    }
  }
  if (t_.trackers_.empty() && !t_.announce_.empty()) {
    t_.trackers_.push_back({t_.announce_});
  }
  if (std::optional<Node> n = root.Find("url-list")) {
    RETURN_IF_ERROR(WebSeedList(*n, "url-list", &t_.web_seeds_));
  }
  if (std::optional<Node> n = root.Find("httpseeds")) {
    RETURN_IF_ERROR(WebSeedList(*n, "httpseeds", &t_.http_seeds_));
  }
  if (std::optional<Node> n = root.Find("nodes")) {
    if (!n->is_list()) {
      return Contextualise("torrent",
                           n->TypeError("nodes", bencode::Type::kList));
    }
    if (n->size() > options_.max_list_entries) {
      return TooMany("nodes", options_.max_list_entries);
    }
    for (Node pair : n->items()) {
      if (!pair.is_list() || pair.size() != 2) {
        return Bad("nodes", pair, "entry is not a [host, port] pair");
      }
      auto it = pair.items().begin();
      Node host = *it++;
      Node port = *it;
      if (!host.is_string() || !port.is_int() || port.int_value() < 1 ||
          port.int_value() > 65535) {
        return Bad("nodes", pair, "entry is not a [host, port] pair");
      }
      if (!IsHostText(host.string_value())) {
        return Bad("nodes", host,
                   absl::StrFormat("host is not 1 to %d bytes of printable "
                                   "text without spaces",
                                   kMaxDhtNodeHost));
      }
      t_.nodes_.push_back(DhtNode{std::string(host.string_value()),
                                  static_cast<int>(port.int_value())});
    }
  }
  s.reset();
  RETURN_IF_ERROR(OptUtf8String(root, "comment", "torrent", &s));
  if (s) t_.comment_ = std::string(*s);
  s.reset();
  RETURN_IF_ERROR(OptUtf8String(root, "created by", "torrent", &s));
  if (s) t_.created_by_ = std::string(*s);
  RETURN_IF_ERROR(OptInt(root, "creation date", "torrent", &t_.creation_date_));
  // BEP 38 hints may also sit in the outer dictionary.
  if (t_.similar_.empty()) {
    if (std::optional<Node> similar = root.Find("similar")) {
      std::vector<std::string> hashes;
      RETURN_IF_ERROR(
          StringList(*similar, "similar", options_.max_list_entries, &hashes));
      for (const std::string& h : hashes) {
        Sha1Hash ih;
        if (!Sha1Hash::FromSpan(AsBytes(h), &ih)) {
          return Bad("similar", *similar, "entry is not 20 bytes");
        }
        t_.similar_.push_back(ih);
      }
    }
  }
  if (t_.collections_.empty()) {
    if (std::optional<Node> coll = root.Find("collections")) {
      RETURN_IF_ERROR(StringList(*coll, "collections",
                                 options_.max_list_entries, &t_.collections_));
    }
  }
  return absl::OkStatus();
}

}  // namespace bt::metainfo
