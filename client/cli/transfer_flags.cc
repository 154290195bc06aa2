#include "client/cli/transfer_flags.h"

#include <utility>

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
      .Int("--upload-slots N", &a.options.upload_slots,
           "peers uploaded to at once per torrent, the optimistic unchoke "
           "included")
      .Positive();
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

}  // namespace

void DeclareTransferFlags(FlagSet& flags, TransferArgs& a) {
  flags.Int("--port N", &a.port, "the port to listen on (default: any)");
  flags.Parsed("--peer HOST:PORT", &a.peers, Endpoint::Parse,
               "a peer to connect to, besides the trackers' ones");
  DeclareWireFlags(flags, a);
  flags.String("--bind ADDR", &a.options.local_host,
               "the local address to listen and connect from");
  DeclareLimitFlags(flags, a);
  DeclareDhtFlags(flags, a);
  flags.String("--resume FILE", &a.resume, "the resume data file")
      .DefaultText("DIR/.btkit/INFOHASH.resume");
  flags.String("--state FILE", &a.state,
               "save the whole client (torrents, DHT identity, settings) "
               "here on exit, and restore it at the next start");
}

ClientOptions TransferClientOptions(const TransferArgs& a) {
  ClientOptions options = a.options;
  if (a.port) options.local_ports = {*a.port};
  if (a.upload_rate) options.upload_rate_limit = *a.upload_rate;
  if (a.download_rate) options.download_rate_limit = *a.download_rate;
  return options;
}

}  // namespace bt::client::cli
