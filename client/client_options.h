// ClientOptions: how a Client is set up — where it listens, its encryption
// policy, its connection, rate and disk limits — and what each peer session
// may hold. See client.h for the Client itself.
//
//   bt::client::ClientOptions options;
//   options.local_hosts = {"127.0.0.1", "::1"};  // default: 0.0.0.0 and ::
//   options.local_ports = {6881, 0};
//   options.max_connections = 100;
//   options.dht_bootstrap = {{"127.0.0.1", 6881}};  // instead of the routers
#ifndef CLIENT_CLIENT_OPTIONS_H_
#define CLIENT_CLIENT_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "base/host_port.h"
#include "client/session/peer_session.h"
#include "protocol/mse.h"
#include "storage/file_backend.h"

namespace bt::client {

// PeerTransport: how peer connections are carried. kAuto (libtorrent's
// default) accepts both TCP and uTP (BEP 29) and connects over uTP first,
// falling back to TCP when the peer does not answer; kTcp and kUtp use only
// that one, incoming and outgoing.
enum class PeerTransport { kAuto, kTcp, kUtp };

// DefaultDhtRouters: the well-known DHT routers a client bootstraps from
// when it has no saved contacts (libtorrent's and Transmission's list).
inline std::vector<HostPort> DefaultDhtRouters() {
  return {{"router.bittorrent.com", 6881},
          {"router.utorrent.com", 6881},
          {"dht.transmissionbt.com", 6881},
          {"dht.libtorrent.org", 25401}};
}

// PeerTransportName: "auto", "tcp" or "utp".
inline std::string_view PeerTransportName(PeerTransport transport) {
  switch (transport) {
    case PeerTransport::kTcp:
      return "tcp";
    case PeerTransport::kUtp:
      return "utp";
    case PeerTransport::kAuto:
      break;
  }
  return "auto";
}

struct ClientOptions {
  // LocalHost: the addresses to listen on, IPv4 or IPv6 literals without
  // brackets, all on one port number. The default, 0.0.0.0 and ::, takes
  // IPv4 and IPv6 peers at once (as libtorrent does); a single address
  // binds only that one. Outgoing connections to a peer go out from the
  // first address of its family (bound to it unless it is unspecified);
  // peers of a family with no address here are not connected to. An
  // address this machine cannot have (IPv6 turned off) is left out and
  // named in Client::skipped_addresses(); Create fails only when none of
  // them binds. A wildcard and a specific address of one family conflict
  // (both want the port on that address).
  std::vector<std::string> local_hosts = {"0.0.0.0", "::"};
  // LocalPort: port numbers to try in turn until every local address binds
  // at one of them (0: any free port).
  std::vector<uint16_t> local_ports = {0};
  // Peer transports; uTP shares the DHT's UDP socket (same port number as
  // the TCP listener).
  PeerTransport transport = PeerTransport::kAuto;
  // Protocol encryption (MSE/PE); enabled (preferred) by default.
  protocol::EncryptionPolicy encryption = protocol::EncryptionPolicy::kEnabled;
  // Connection limits: in all, per torrent (incoming ones included),
  // connects in progress, and incoming connections from one IP address.
  // When the client is full, a new incoming connection replaces the
  // oldest one that has not finished its handshake or has sent nothing
  // useful.
  int max_connections = 200;
  int max_connections_per_torrent = 50;
  int max_half_open = 20;
  int max_incoming_per_ip = 8;
  // Upload slots per torrent, the optimistic one included.
  int upload_slots = 4;
  // Seeding, upload slots are taken in turns: a peer keeps one until it
  // has been sent this many bytes, then the peer that waited longest gets
  // it (Choker). 0: the peers we upload to fastest keep the slots.
  int64_t seed_turn_bytes = 4 << 20;
  // Serve plaintext TCP peers with sendfile(2): a block goes from the page
  // cache to the socket without being read into memory, but each block
  // costs two sends (its header, then its bytes). Off: blocks are read
  // into memory and many go out in one send. Which is cheaper depends on
  // the machine's system calls (benchmarks/client/transfer_benchmark.py
  // --sendfile prints both).
  bool send_from_file = false;
  // Global rate limits in bytes per second (0: unlimited); see
  // Client::SetRateLimits and Torrent::SetRateLimits.
  int64_t upload_rate_limit = 0;
  int64_t download_rate_limit = 0;
  // Disk worker threads (reads, writes, hashing), and how many bytes of
  // disk work may be queued before the client stops reading from peers
  // (4 MiB: a 1 GiB loopback download is as fast as with 16 MiB, at 12
  // MiB less peak RSS).
  int disk_threads = 2;
  size_t disk_queue_bytes = 4 << 20;
  // The file system torrents live on (null: the real one). Must outlive
  // the client. Tests use a storage::MemoryFileBackend.
  storage::FileBackend* file_backend = nullptr;
  // What one peer session may hold and how long it may take.
  SessionLimits session_limits;
  // Leave zero to generate an Azureus-style id ("-BK0100-...").
  PeerId peer_id;
  // Run a DHT node (BEP 5) on the UDP port of the same number as the TCP
  // port, one per address family listened on (BEP 32: an IPv6 node beside
  // the IPv4 one, each with its own routing table); non-private torrents
  // find and announce peers through both.
  bool enable_dht = true;
  // DHT routers to bootstrap from, by name or address, when dht_state
  // holds no contacts or none of them answers. Names are looked up off the event loop (host_lookup)
  // and every address found becomes a bootstrap node. Empty: none (a node
  // then learns the DHT only from AddDhtNode, peers and torrents' "nodes").
  std::vector<HostPort> dht_bootstrap = DefaultDhtRouters();
  // How host names (DHT routers, torrents' "nodes") are looked up, on the
  // resolver's thread: see Resolver::Lookup in client/net/resolver.h. Null
  // is the system's resolver (getaddrinfo); tests answer names themselves.
  std::function<absl::StatusOr<std::vector<Endpoint>>(const std::string& host,
                                                      uint16_t port)>
      host_lookup;
  // Local Service Discovery (BEP 14): announce non-private torrents to
  // the local network's multicast group of each address family listened
  // on (port 6771) and connect to the peers announcing them there. On by
  // default, as in libtorrent; a family whose group cannot be joined (no
  // multicast route) runs without it (Client::lsd_errors says why).
  bool enable_lsd = true;
  // The DHT nodes' saved states (dht::Node::SaveState), IPv4 and IPv6:
  // id and contacts, so a restarted client keeps its identity and finds
  // the DHT at once.
  std::string dht_state;
  std::string dht6_state;
};

}  // namespace bt::client

#endif  // CLIENT_CLIENT_OPTIONS_H_
