#include "client/cli/transfer_flags.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/host_port.h"
#include "protocol/mse.h"

namespace bt::client::cli {
namespace {

void DeclareWireFlags(FlagSet& flags, TransferArgs& a) {
  using protocol::EncryptionPolicy;
  std::vector<std::pair<std::string, EncryptionPolicy>> policies;
  for (EncryptionPolicy p :
       {EncryptionPolicy::kDisabled, EncryptionPolicy::kEnabled,
        EncryptionPolicy::kForced}) {
    policies.emplace_back(protocol::EncryptionPolicyName(p), p);
  }
  flags.Enum("--encryption", &a.options.encryption, policies,
             "protocol encryption (MSE): enabled prefers it, forced requires "
             "it");
  std::vector<std::pair<std::string, PeerTransport>> transports;
  for (PeerTransport t :
       {PeerTransport::kAuto, PeerTransport::kTcp, PeerTransport::kUtp}) {
    transports.emplace_back(PeerTransportName(t), t);
  }
  flags.Enum("--transport", &a.options.transport, transports,
             "peer connections over uTP and TCP (auto: uTP first, then "
             "TCP), or only one of them, in and out");
}

void DeclareLimitFlags(FlagSet& flags, TransferArgs& a) {
  flags
      .Int("--upload-rate BYTES", &a.upload_rate,
           "upload rate limit in bytes per second, all torrents together")
      .Min(0)
      .DefaultText("0, unlimited");
  flags
      .Int("--download-rate BYTES", &a.download_rate,
           "download rate limit in bytes per second, all torrents together")
      .Min(0)
      .DefaultText("0, unlimited");
  flags
      .Int("--max-connections N", &a.options.max_connections,
           "peer connections in all, incoming ones included")
      .Positive();
  flags
      .Int("--max-connections-per-torrent N",
           &a.options.max_connections_per_torrent,
           "peer connections per torrent, incoming ones included")
      .Positive();
  flags
      .Int("--max-incoming-per-ip N", &a.options.max_incoming_per_ip,
           "incoming peer connections from one IP address (more for many "
           "peers on one host)")
      .Positive();
  flags
      .Int("--upload-slots N", &a.options.upload_slots,
           "peers uploaded to at once per torrent, the optimistic unchoke "
           "included")
      .Positive();
  flags
      .Int("--seed-turn BYTES", &a.options.seed_turn_bytes,
           "seeding, the bytes a peer is sent before its upload slot passes "
           "to the peer that waited longest; 0: the fastest peers keep the "
           "slots")
      .Min(0);
  flags.Switch("--sendfile", &a.options.send_from_file, true,
               "serve plaintext TCP peers with sendfile(2) from the page "
               "cache, each block in two sends, instead of reading blocks "
               "into memory and sending many at once");
}

void DeclareDiscoveryFlags(FlagSet& flags, TransferArgs& a) {
  flags.Switch("--no-lsd", &a.options.enable_lsd, false,
               "no local service discovery (BEP 14): do not announce "
               "torrents to, nor take peers from, the local network's "
               "multicast groups");
}

void DeclareDhtFlags(FlagSet& flags, TransferArgs& a) {
  flags.Switch("--no-dht", &a.options.enable_dht, false,
               "run no DHT node (BEP 5): peers come from trackers, --peer "
               "and peer exchange only");
  std::vector<std::string> routers;
  for (const HostPort& r : a.options.dht_bootstrap) {
    routers.push_back(r.ToString());
  }
  flags
      .Parsed<std::vector<HostPort>>(
          "--dht-bootstrap ROUTERS", &a.options.dht_bootstrap,
          ParseHostPortList,
          "DHT routers (HOST:PORT,HOST:PORT...) to start from when there "
          "are no saved DHT contacts, replacing the default ones; "
          "--dht-bootstrap= for none")
      .DefaultText(absl::StrJoin(routers, ", "));
}

// BindPort is the one port the --bind and --port flags give, if any.
absl::StatusOr<std::optional<uint16_t>> BindPort(const TransferArgs& a) {
  std::optional<uint16_t> port = a.port;
  for (const BindAddress& b : a.binds) {
    if (!b.port) continue;
    if (port && *port != *b.port) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--bind: port %d differs from port %d: the client listens on one "
          "port number on every address",
          *b.port, *port));
    }
    port = b.port;
  }
  return port;
}

}  // namespace

absl::StatusOr<BindAddress> ParseBindAddress(std::string_view text) {
  if (absl::StatusOr<Endpoint> e = Endpoint::ParseAddress(text, 0); e.ok()) {
    return BindAddress{e->AddressString(), std::nullopt};
  }
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    absl::StatusOr<Endpoint> e =
        Endpoint::ParseAddress(text.substr(1, text.size() - 2), 0);
    if (e.ok() && e->is_v6()) {
      return BindAddress{e->AddressString(), std::nullopt};
    }
  }
  if (absl::StatusOr<Endpoint> e = Endpoint::Parse(text); e.ok()) {
    return BindAddress{e->AddressString(), e->port()};
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "\"%s\" is not ADDR or ADDR:PORT (an IPv4 address, or an IPv6 one "
      "in brackets when a port follows)",
      text));
}

void DeclareClientFlags(FlagSet& flags, TransferArgs& a) {
  flags.Int("--port N", &a.port, "the port to listen on (default: any)");
  DeclareWireFlags(flags, a);
  std::vector<std::string> hosts;
  for (const std::string& h : a.options.local_hosts) {
    hosts.push_back(h.find(':') == std::string::npos ? h : "[" + h + "]");
  }
  flags
      .Parsed("--bind ADDR[:PORT]", &a.binds, ParseBindAddress,
              "a local address to listen and connect from, replacing the "
              "default ones; all share one port number")
      .DefaultText(absl::StrJoin(hosts, " and "));
  flags.Check([&a]() { return BindPort(a).status(); });
  DeclareLimitFlags(flags, a);
  DeclareDhtFlags(flags, a);
  DeclareDiscoveryFlags(flags, a);
}

void DeclareTransferFlags(FlagSet& flags, TransferArgs& a) {
  DeclareClientFlags(flags, a);
  flags.Parsed("--peer HOST:PORT", &a.peers, Endpoint::Parse,
               "a peer to connect to, besides the trackers' ones");
  flags.String("--resume FILE", &a.resume, "the resume data file")
      .DefaultText("DIR/.btkit/INFOHASH.resume");
  flags.String("--state FILE", &a.state,
               "save the whole client (torrents, DHT identity, settings) "
               "here on exit, and restore it at the next start");
}

ClientOptions TransferClientOptions(const TransferArgs& a) {
  ClientOptions options = a.options;
  if (!a.binds.empty()) {
    options.local_hosts.clear();
    for (const BindAddress& b : a.binds) options.local_hosts.push_back(b.host);
  }
  // Parse's check refused differing ports.
  if (std::optional<uint16_t> port = BindPort(a).value_or(std::nullopt)) {
    options.local_ports = {*port};
  }
  if (a.upload_rate) options.upload_rate_limit = *a.upload_rate;
  if (a.download_rate) options.download_rate_limit = *a.download_rate;
  return options;
}

}  // namespace bt::client::cli
