// `bt dht get-peers INFOHASH --bootstrap HOST:PORT [--port N]` and
// `bt dht announce INFOHASH --port P --bootstrap HOST:PORT [--dht-port N]`:
// join the DHT from the given nodes (and/or a .torrent's nodes, and/or a
// saved state file), run one lookup, print what was found.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "base/endpoint.h"
#include "base/file_util.h"
#include "base/hash.h"
#include "base/host_port.h"
#include "client/cli/command.h"
#include "client/cli/common.h"
#include "client/net/dht_udp_node.h"
#include "client/net/event_loop.h"
#include "client/net/socket_address.h"
#include "client/net/udp_socket.h"
#include "dht/node.h"
#include "metainfo/torrent_info.h"

namespace bt::client::cli {
namespace {

struct DhtArgs {
  bool announce = false;  // else get-peers
  Sha1Hash info_hash;
  std::vector<HostPort> bootstrap;
  std::string torrent_path;
  std::string state_path;
  std::string bind = "0.0.0.0";
  std::optional<uint16_t> port;
  uint16_t dht_port = 0;
  bool implied_port = false;
  bool read_only = false;
  double timeout = 60;
};

void DeclareDht(FlagSet& flags, DhtArgs& a) {
  flags.Enum("get-peers|announce", &a.announce,
             {{"get-peers", false}, {"announce", true}},
             "find the torrent's peers, or also announce us as one");
  flags.Parsed("INFOHASH", &a.info_hash, ParseInfoHash,
               "the v1 info-hash (40 hex or 32 base32 characters)");
  flags.Parsed("--bootstrap HOST:PORT", &a.bootstrap, ParseHostPort,
               "a node to join the DHT through");
  flags.String("--torrent FILE", &a.torrent_path, "join through its nodes too");
  flags.String("--state FILE", &a.state_path,
               "load and save the node id and contacts");
  flags.String("--bind ADDR", &a.bind, "the local address of the UDP socket");
  flags.Int("--port N", &a.port,
            "get-peers: our UDP port; announce: the peer port to announce");
  flags.Int("--dht-port N", &a.dht_port, "announce: our UDP port")
      .DefaultText("any");
  flags.Bool("--implied-port", &a.implied_port,
             "announce: let nodes take the port from our UDP packets");
  flags.Bool("--read-only", &a.read_only, "a read-only node (BEP 43)");
  flags.Double("--timeout SECONDS", &a.timeout, "how long to look").Positive();
  flags.Check([&a] {
    return a.announce && !a.port && !a.implied_port
               ? absl::InvalidArgumentError(
                     "announce needs --port P or --implied-port")
               : absl::OkStatus();
  });
}

// LoadState reads a saved node state, if `path` names a readable one.
std::optional<dht::SavedState> LoadState(const std::string& path) {
  if (path.empty()) return std::nullopt;
  absl::StatusOr<std::string> bytes = ReadFileToString(path, kMaxFileSize);
  if (!bytes.ok()) return std::nullopt;
  absl::StatusOr<dht::SavedState> s = dht::ParseSavedState(*bytes);
  if (!s.ok()) {
    std::fprintf(stderr, "bt dht: ignoring state file %s: %s\n", path.c_str(),
                 std::string(s.status().message()).c_str());
    return std::nullopt;
  }
  return *s;
}

void AddHost(dht::Node& node, const std::string& host, uint16_t port) {
  absl::StatusOr<std::vector<Endpoint>> addrs = ResolveHost(host, port);
  if (!addrs.ok()) {
    Fail("dht", absl::StrFormat("%s: %s", host, addrs.status().message()));
    return;
  }
  for (const Endpoint& e : *addrs) node.AddBootstrapNode(e);
}

// AddTorrentNodes adds the nodes a .torrent lists.
absl::Status AddTorrentNodes(dht::Node& node, const std::string& path) {
  absl::StatusOr<metainfo::TorrentInfo> t = ReadTorrentFile(path);
  if (!t.ok()) return t.status();
  for (const metainfo::DhtNode& n : t->nodes()) {
    if (n.port > 0 && n.port <= 65535) {
      AddHost(node, n.host, static_cast<uint16_t>(n.port));
    }
  }
  return absl::OkStatus();
}

// PrintResult prints the peers found on stdout and a summary on stderr;
// returns the exit status: 0 when an announce reached a node, or a
// get-peers lookup reached the closest ones.
int PrintResult(const dht::LookupResult& r, bool announce) {
  for (const Endpoint& peer : r.peers)
    std::printf("%s\n", peer.ToString().c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "%s: %zu peers, %zu closest nodes answered, %zu queries, %zu "
               "responses, %.0f ms",
               announce ? "announce" : "get-peers", r.peers.size(),
               r.closest.size(), r.queries, r.responses,
               absl::ToDoubleMilliseconds(r.duration));
  if (announce) std::fprintf(stderr, ", announced to %zu nodes", r.announced);
  std::fprintf(stderr, "\n");
  return announce ? (r.announced > 0 ? 0 : 1) : (r.closest.empty() ? 1 : 0);
}

// Lookup bootstraps, runs the lookup and returns its exit status; 1 when
// the loop fails or time runs out first.
int Lookup(EventLoop& loop, DhtUdpNode& dht, const DhtArgs& a) {
  std::optional<int> exit_code;
  auto report = [&](const dht::LookupResult& r) {
    exit_code = PrintResult(r, a.announce);
  };
  dht.Bootstrap([&](const dht::LookupResult& r) {
    std::fprintf(stderr, "bootstrap: %zu nodes answered, table has %zu\n",
                 r.responses, dht.node().table().size());
    if (a.announce) {
      dht.Announce(a.info_hash, a.port.value_or(0), a.implied_port, report);
    } else {
      dht.GetPeers(a.info_hash, report);
    }
  });
  const absl::Time deadline = DhtUdpNode::Now() + absl::Seconds(a.timeout);
  while (!exit_code && DhtUdpNode::Now() < deadline) {
    if (absl::StatusOr<int> ran = loop.RunOnce(0.2); !ran.ok()) {
      Fail("dht", ran.status());
      break;
    }
  }
  if (!exit_code) Fail("dht", "timed out");
  return exit_code.value_or(1);
}

int RunDht(const DhtArgs& a) {
  // In get-peers, --port is our own UDP port; in announce, the peer port.
  const uint16_t udp_port = a.announce ? a.dht_port : a.port.value_or(0);
  absl::StatusOr<Endpoint> bind = Endpoint::ParseAddress(a.bind, udp_port);
  if (!bind.ok()) return Fail("dht", bind.status(), 2);
  dht::NodeOptions options;
  options.read_only = a.read_only;
  std::optional<dht::SavedState> saved = LoadState(a.state_path);
  if (saved) options.id = saved->id;
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) return Fail("dht", loop.status());
  absl::StatusOr<std::unique_ptr<UdpSocket>> udp =
      UdpSocket::Bind(loop->get(), *bind);
  if (!udp.ok()) return Fail("dht", udp.status());
  absl::StatusOr<std::unique_ptr<DhtUdpNode>> dht =
      DhtUdpNode::Create(loop->get(), udp->get(), options);
  if (!dht.ok()) return Fail("dht", dht.status());
  dht::Node& node = (*dht)->node();
  std::fprintf(stderr, "dht node %s listening on %s\n",
               node.id().ToHex().c_str(),
               (*dht)->local_endpoint().ToString().c_str());
  if (saved) {
    for (const metainfo::NodeInfo& n : saved->nodes) node.AddNode(n);
  }
  for (const HostPort& b : a.bootstrap) AddHost(node, b.host, b.port);
  if (!a.torrent_path.empty()) {
    if (absl::Status s = AddTorrentNodes(node, a.torrent_path); !s.ok()) {
      return Fail("dht", s);
    }
  }
  const int exit_code = Lookup(**loop, **dht, a);
  if (!a.state_path.empty()) {
    if (absl::Status s = WriteFileAtomically(a.state_path, node.SaveState());
        !s.ok()) {
      Fail("dht", s);
    }
  }
  return exit_code;
}

[[maybe_unused]] const bool kRegistered = RegisterCommand(MakeCommand<DhtArgs>(
    {"dht", "find or announce peers on the DHT",
     "Joins the DHT through the given nodes (--bootstrap, --torrent, "
     "--state),\n"
     "runs one lookup and prints the peers found, one per line.",
     DeclareDht, RunDht}));

}  // namespace
}  // namespace bt::client::cli
