// `bt dht get-peers INFOHASH --bootstrap HOST:PORT [--port N]` and
// `bt dht announce INFOHASH --port P --bootstrap HOST:PORT [--dht-port N]`:
// join the DHT from the given nodes (and/or a .torrent's nodes, and/or a
// saved state file), run one lookup, print what was found.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "client/net/dht_udp_node.h"
#include "client/net/event_loop.h"
#include "client/net/socket_address.h"
#include "dht/node.h"
#include "metainfo/torrent_info.h"

namespace bt::client {
namespace {

constexpr const char kUsage[] =
    "usage: bt dht get-peers INFOHASH --bootstrap HOST:PORT [--port N]\n"
    "       bt dht announce INFOHASH --port P --bootstrap HOST:PORT "
    "[--dht-port N] [--implied-port]\n"
    "options: --bootstrap HOST:PORT (repeatable), --torrent FILE (use its "
    "nodes),\n"
    "         --state FILE (load and save node id and contacts), --bind ADDR,\n"
    "         --timeout SECONDS (default 60), --read-only (BEP 43)\n";

bool ParsePort(const std::string& s, uint16_t* out) {
  uint32_t v;
  if (!absl::SimpleAtoi(s, &v) || v > 65535) return false;
  *out = static_cast<uint16_t>(v);
  return true;
}

// SplitHostPort splits "host:port" or "[v6]:port".
bool SplitHostPort(const std::string& s, std::string* host, uint16_t* port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = s.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return ParsePort(s.substr(colon + 1), port) && *port != 0;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

absl::StatusOr<Sha1Hash> ParseInfoHash(const std::string& s) {
  if (s.size() == 32) return Sha1Hash::FromBase32(s);
  return Sha1Hash::FromHex(s);
}

}  // namespace

int RunDhtCommand(const std::vector<std::string>& args) {
  if (args.empty() || (args[0] != "get-peers" && args[0] != "announce")) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  const bool announce = args[0] == "announce";
  std::optional<Sha1Hash> info_hash;
  std::vector<std::string> bootstrap;
  std::string torrent_path, state_path;
  std::string bind_address = "0.0.0.0";
  uint16_t port = 0, dht_port = 0;
  bool have_port = false, implied_port = false, read_only = false;
  double timeout_seconds = 60;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string* {
      return i + 1 < args.size() ? &args[++i] : nullptr;
    };
    const std::string* v = nullptr;
    if (a == "--bootstrap" && (v = value())) {
      bootstrap.push_back(*v);
    } else if (a == "--torrent" && (v = value())) {
      torrent_path = *v;
    } else if (a == "--state" && (v = value())) {
      state_path = *v;
    } else if (a == "--bind" && (v = value())) {
      bind_address = *v;
    } else if (a == "--port" && (v = value())) {
      if (!ParsePort(*v, &port)) {
        std::fprintf(stderr, "bt dht: bad port '%s'\n", v->c_str());
        return 2;
      }
      have_port = true;
    } else if (a == "--dht-port" && (v = value())) {
      if (!ParsePort(*v, &dht_port)) {
        std::fprintf(stderr, "bt dht: bad port '%s'\n", v->c_str());
        return 2;
      }
    } else if (a == "--timeout" && (v = value())) {
      if (!absl::SimpleAtod(*v, &timeout_seconds) || timeout_seconds <= 0) {
        std::fprintf(stderr, "bt dht: bad timeout '%s'\n", v->c_str());
        return 2;
      }
    } else if (a == "--implied-port") {
      implied_port = true;
    } else if (a == "--read-only") {
      read_only = true;
    } else if (!info_hash && !a.empty() && a[0] != '-') {
      absl::StatusOr<Sha1Hash> ih = ParseInfoHash(a);
      if (!ih.ok()) {
        std::fprintf(stderr, "bt dht: %s\n", ih.status().ToString().c_str());
        return 2;
      }
      info_hash = *ih;
    } else {
      std::fprintf(stderr, "bt dht: unexpected argument '%s'\n%s", a.c_str(),
                   kUsage);
      return 2;
    }
  }
  if (!info_hash || (announce && !have_port && !implied_port)) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  // In get-peers, --port is our own UDP port; in announce, the peer port.
  if (!announce) dht_port = port;

  absl::StatusOr<Endpoint> bind = Endpoint::ParseAddress(bind_address, dht_port);
  if (!bind.ok()) {
    std::fprintf(stderr, "bt dht: %s\n", bind.status().ToString().c_str());
    return 2;
  }
  dht::NodeOptions options;
  options.read_only = read_only;
  std::optional<dht::SavedState> saved;
  if (!state_path.empty()) {
    if (std::optional<std::string> bytes = ReadFile(state_path)) {
      absl::StatusOr<dht::SavedState> s = dht::ParseSavedState(*bytes);
      if (s.ok()) {
        saved = *s;
        options.id = s->id;
      } else {
        std::fprintf(stderr, "bt dht: ignoring state file %s: %s\n",
                     state_path.c_str(), s.status().ToString().c_str());
      }
    }
  }
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) {
    std::fprintf(stderr, "bt dht: %s\n", loop.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<DhtUdpNode>> dht =
      DhtUdpNode::Create(loop->get(), *bind, options);
  if (!dht.ok()) {
    std::fprintf(stderr, "bt dht: %s\n", dht.status().ToString().c_str());
    return 1;
  }
  dht::Node& node = (*dht)->node();
  std::fprintf(stderr, "dht node %s listening on %s\n",
               node.id().ToHex().c_str(),
               (*dht)->local_endpoint().ToString().c_str());
  if (saved) {
    for (const metainfo::NodeInfo& n : saved->nodes) node.AddNode(n);
  }
  auto add_host = [&](const std::string& host, uint16_t p) {
    absl::StatusOr<std::vector<Endpoint>> addrs = ResolveHost(host, p);
    if (!addrs.ok()) {
      std::fprintf(stderr, "bt dht: %s: %s\n", host.c_str(),
                   addrs.status().ToString().c_str());
      return;
    }
    for (const Endpoint& e : *addrs) node.AddBootstrapNode(e);
  };
  for (const std::string& b : bootstrap) {
    std::string host;
    uint16_t p;
    if (!SplitHostPort(b, &host, &p)) {
      std::fprintf(stderr, "bt dht: bad --bootstrap '%s' (want HOST:PORT)\n",
                   b.c_str());
      return 2;
    }
    add_host(host, p);
  }
  if (!torrent_path.empty()) {
    std::optional<std::string> bytes = ReadFile(torrent_path);
    absl::StatusOr<metainfo::TorrentInfo> t =
        bytes ? metainfo::TorrentInfo::Parse(*bytes)
              : absl::StatusOr<metainfo::TorrentInfo>(absl::NotFoundError(
                    absl::StrFormat("cannot read %s", torrent_path)));
    if (!t.ok()) {
      std::fprintf(stderr, "bt dht: %s\n", t.status().ToString().c_str());
      return 1;
    }
    for (const metainfo::DhtNode& n : t->nodes()) {
      if (n.port > 0 && n.port <= 65535) {
        add_host(n.host, static_cast<uint16_t>(n.port));
      }
    }
  }

  bool finished = false;
  int exit_code = 1;
  auto report = [&](const dht::LookupResult& r) {
    for (const Endpoint& peer : r.peers) std::printf("%s\n", peer.ToString().c_str());
    std::fflush(stdout);
    std::fprintf(stderr,
                 "%s: %zu peers, %zu closest nodes answered, %zu queries, %zu "
                 "responses, %.0f ms",
                 announce ? "announce" : "get-peers", r.peers.size(),
                 r.closest.size(), r.queries, r.responses,
                 absl::ToDoubleMilliseconds(r.duration));
    if (announce) std::fprintf(stderr, ", announced to %zu nodes", r.announced);
    std::fprintf(stderr, "\n");
    exit_code = announce ? (r.announced > 0 ? 0 : 1) : (r.closest.empty() ? 1 : 0);
    finished = true;
  };
  DhtUdpNode* d = dht->get();
  d->Bootstrap([&](const dht::LookupResult& r) {
    std::fprintf(stderr, "bootstrap: %zu nodes answered, table has %zu\n",
                 r.responses, node.table().size());
    if (announce) {
      d->Announce(*info_hash, port, implied_port, report);
    } else {
      d->GetPeers(*info_hash, report);
    }
  });
  absl::Time deadline = DhtUdpNode::Now() + absl::Seconds(timeout_seconds);
  while (!finished && DhtUdpNode::Now() < deadline) {
    absl::StatusOr<int> ran = (*loop)->RunOnce(0.2);
    if (!ran.ok()) {
      std::fprintf(stderr, "bt dht: %s\n", ran.status().ToString().c_str());
      break;
    }
  }
  if (!finished) std::fprintf(stderr, "bt dht: timed out\n");
  if (!state_path.empty()) {
    std::ofstream out(state_path, std::ios::binary | std::ios::trunc);
    out << node.SaveState();
  }
  return exit_code;
}

}  // namespace bt::client
