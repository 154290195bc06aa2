// Client: btkit's BitTorrent client — Net::BitTorrent's API in C++. It owns
// the event loop, the listening socket, every peer connection, the disk
// pool and the torrents, and reports everything through the seed's events.
//
//   bt::client::ClientOptions options;
//   options.local_ports = {6881, 6882, 0};       // tried in turn
//   ASSIGN_OR_RETURN(std::unique_ptr<bt::client::Client> client,
//                    bt::client::Client::Create(options));
//   client->OnEvent(bt::client::EventType::kPieceHashPass,
//                   [](const bt::client::Event& e) { ...; return true; });
//   ASSIGN_OR_RETURN(bt::client::Torrent* t,
//                    client->AddTorrent({.torrent_path = "a.torrent",
//                                        .save_path = "/dl"}));
//   while (!t->complete()) RETURN_IF_ERROR(client->DoOneLoop(1.0));
//
// Connection slots: at most max_connections in all and
// max_connections_per_torrent per torrent (incoming ones included), at most
// max_half_open connects in progress and max_incoming_per_ip incoming
// connections from one address. When full, an incoming connection takes
// the place of the oldest one that has not finished its handshake, or that
// has sent nothing useful for a while; otherwise it is refused.
//
// Listening: on every ClientOptions::local_hosts address (0.0.0.0 and ::
// by default) at one port number, TCP and UDP (uTP, DHT) each. Outgoing
// connections to a peer use the sockets of its address family.
//
// DHT: one node per address family listened on (BEP 32). With the DHT on
// and no saved contacts (dht_state, dht6_state), the client bootstraps
// from ClientOptions::dht_bootstrap (the well-known routers by default;
// each name's IPv4 addresses feed the IPv4 node, its IPv6 ones the IPv6
// node), and pings the nodes each non-private torrent lists (BEP 5
// "nodes"); names are looked up off the event loop. Torrents announce
// themselves in it as their turns come, at most kMaxDhtAnnounces at once,
// so that thousands started together are all announced.
//
// LSD: with enable_lsd, the client announces its running non-private
// torrents on the local network (BEP 14) and adds the peers announcing
// them there (peer source kLsd).
//
// Single-threaded: call everything from the thread that runs DoOneLoop
// (the disk pool's threads hand their results back to it).
#ifndef CLIENT_CLIENT_H_
#define CLIENT_CLIENT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "client/client_context.h"
#include "client/client_options.h"
#include "client/dht_announce_queue.h"
#include "client/dht_bootstrap.h"
#include "client/disk_pool.h"
#include "client/events.h"
#include "client/ip_filter.h"
#include "client/net/dht_udp_node.h"
#include "client/net/event_loop.h"
#include "client/net/listen_sockets.h"
#include "client/net/lsd_node.h"
#include "client/net/resolver.h"
#include "client/net/tcp_transport.h"
#include "client/net/udp_socket.h"
#include "client/net/utp_host.h"
#include "client/rate_limiter.h"
#include "client/torrent.h"
#include "protocol/mse.h"

namespace bt::client {

class PeerConnection;
class TrackerClient;

class Client : public ClientContext {
 public:
  using Handler = std::function<bool(const Event&)>;

  // Create binds the listening sockets (trying local_ports in turn; see
  // ListenSockets::Bind). Errors: kUnavailable when no port binds,
  // kInvalidArgument for a bad local_hosts entry, kFailedPrecondition when
  // no local address can be bound on this machine.
  static absl::StatusOr<std::unique_ptr<Client>> Create(
      ClientOptions options = {});
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const PeerId& peer_id() const override { return options_.peer_id; }
  // port is the port number listened on (TCP and UDP, every address).
  uint16_t port() const override { return port_; }
  // listen_endpoints: the addresses listened on, with the port.
  std::vector<Endpoint> listen_endpoints() const;
  // skipped_addresses: a line per local_hosts address left out because
  // this machine lacks its family or address ("[::]:6881: Address family
  // not supported by protocol"); empty when all bound.
  const std::vector<std::string>& skipped_addresses() const {
    return listen_->skipped();
  }
  const ClientOptions& options() const override { return options_; }
  std::vector<Torrent*> torrents() const;
  Torrent* FindTorrent(const Sha1Hash& info_hash) const;

  // AddTorrent loads a torrent and, if params.start, starts it.
  // kAlreadyExists if a torrent with the same info-hash is loaded.
  absl::StatusOr<Torrent*> AddTorrent(TorrentParams params);
  // SaveState saves the client-wide state to `path` atomically: settings,
  // DHT id and contacts, and every torrent (its source, directories and
  // state), after saving each torrent's resume data unless not
  // `with_resume_data` (a daemon saving its torrent list after each change
  // leaves that to the torrents' own periodic saves).
  absl::Status SaveState(const std::string& path, bool with_resume_data = true);
  // Restore makes a client from a file SaveState wrote: same settings and
  // DHT identity, every torrent added again and resumed from its resume
  // data (complete data is not re-checked). `setup`, if given, runs before
  // the torrents are added (to register event handlers). Errors: the state
  // file's (kDataLoss when damaged or tampered with, kFailedPrecondition
  // for a newer version, kInvalidArgument when malformed), and
  // kFailedPrecondition for a torrent whose source no longer has the
  // recorded info-hash. The settings the file does not hold (connection
  // limits, DHT routers, ...) are taken from `options`.
  static absl::StatusOr<std::unique_ptr<Client>> Restore(
      const std::string& path,
      const std::function<void(Client*)>& setup = nullptr,
      ClientOptions options = {});

  // RemoveTorrent stops and forgets a torrent; `t` is invalid afterwards.
  // With `delete_data` it also deletes what the torrent wrote (its files,
  // part file, resume data and the directories of its paths left empty;
  // never other files: Torrent::DeleteData). The torrent is removed even
  // if deleting fails; the status then names what could not be deleted.
  absl::Status RemoveTorrent(Torrent* t, bool delete_data = false);

  // DoOneLoop handles ready sockets, due timers and finished disk work,
  // waiting at most `timeout_seconds` (fractional; -1 waits indefinitely).
  absl::Status DoOneLoop(double timeout_seconds = 1.0);
  // FinishStopAnnounces runs the loop until no stopped torrent is still
  // announcing "stopped" (Torrent::announcing_stop) or `limit` passes:
  // what a program does between stopping its torrents and exiting, so
  // trackers hear of it without the program waiting on those that do not
  // answer.
  absl::Status FinishStopAnnounces(absl::Duration limit);

  // SetRateLimits changes the global limits (bytes per second, 0 for
  // unlimited) while running; every torrent's own limits apply as well.
  void SetRateLimits(int64_t upload, int64_t download);

  // SetEncryption changes the encryption policy of the connections made
  // or accepted from now on; open ones keep theirs.
  void SetEncryption(protocol::EncryptionPolicy policy) {
    options_.encryption = policy;
  }
  // SetConnectionLimits changes max_connections and
  // max_connections_per_torrent (at least 1 each) for new connections;
  // open ones above a lowered limit stay open.
  void SetConnectionLimits(int global, int per_torrent);

  // ip_filter is the set of blocked address ranges, checked before every
  // connection, incoming or outgoing (besides the ip_filter event).
  IpFilter& ip_filter() { return ip_filter_; }

  // OnEvent adds a client-wide handler for `type`. Handlers are never
  // called from the Client's destructor; stop torrents first to see their
  // last events (peer_disconnect, tracker_* for "stopped").
  void OnEvent(EventType type, Handler handler);

  // dht / dht6 are the client's IPv4 and IPv6 DHT nodes, or null when the
  // DHT is off or the client does not listen on that family.
  DhtUdpNode* dht() { return dht_.get(); }
  DhtUdpNode* dht6() { return dht6_.get(); }
  bool has_dht() const override;
  void QueueDhtAnnounce(const Sha1Hash& info_hash) override;
  // kMaxDhtAnnounces: the most DHT announces running at once (each a
  // lookup per family, within dht::NodeOptions::max_lookups).
  static constexpr size_t kMaxDhtAnnounces = 16;
  // dht_announces: the announces running and waiting their turn.
  const DhtAnnounceQueue& dht_announces() const { return dht_announces_; }
  // lsd_nodes are the client's Local Service Discovery nodes, one per
  // address family listened on whose group could be joined (none when
  // enable_lsd is off); lsd_errors says why a family has none.
  std::vector<LsdNode*> lsd_nodes() const;
  const std::vector<absl::Status>& lsd_errors() const { return lsd_errors_; }
  // AddDhtNode adds a DHT router the user trusts (a bootstrap node) to the
  // node of its family; ignored when there is none.
  void AddDhtNode(const Endpoint& node);
  void AddDhtHint(const Endpoint& node) override;
  // connection_count is the number of open peer connections.
  size_t connection_count() const;

  // ClientContext (for torrents and connections).
  absl::Time Now() const override { return absl::Now(); }
  bool Wants(EventType type) const override {
    return !handlers_[static_cast<size_t>(type)].empty();
  }
  bool Emit(const Event& e) override;
  bool Connect(Torrent& t, const Endpoint& peer, bool encrypt,
               bool utp_first) override;
  bool CanConnect() const override;
  Torrent* FindTorrent(const Sha1Hash& info_hash) override;
  void Defer(std::function<void()> task) override;
  void Reap(uint64_t connection) override;
  DiskPool& disk() override { return *disk_; }
  RateLimiter& rate_limit(bool upload) override {
    return upload ? upload_limit_ : download_limit_;
  }
  void WaitForQuota(uint64_t connection, bool upload) override;
  void WaitForDisk(uint64_t connection) override;
  void RateLimitsChanged(Torrent& t) override;
  void TickSoon(Torrent& t) override { ticking_.insert(&t); }
  EventLoop* loop() override { return loop_.get(); }
  TrackerClient* trackers() override { return trackers_.get(); }

 private:
  explicit Client(ClientOptions options, std::unique_ptr<EventLoop> loop);
  absl::Status Listen();
  // StartDht runs a DHT node of each family on the first UDP socket of
  // that family.
  void StartDht();
  // StartDhtNode makes the node on `socket` from its saved state, if
  // any; true when that state held contacts to start from.
  bool StartDhtNode(UdpSocket* socket, const std::string& saved,
                    std::unique_ptr<DhtUdpNode>* node);
  void OnAccept(std::unique_ptr<Transport> transport);
  // StartUtp runs uTP on `socket`.
  std::unique_ptr<UtpHost> StartUtp(UdpSocket* socket);
  // DhtFor is the DHT node of `node`'s family, or null.
  DhtUdpNode* DhtFor(const Endpoint& node);
  // StartDhtAnnounce announces a running torrent in each family's DHT
  // (dht_announces_'s Start; `done` once all its lookups have ended).
  bool StartDhtAnnounce(const Sha1Hash& info_hash, std::function<void()> done);
  // StartLsd joins the LSD group of each family listened on; a family
  // that cannot join runs without it (lsd_errors_ says why).
  void StartLsd();
  // UpdateLsd tells LSD which torrents to announce now.
  void UpdateLsd();
  // ConnectTransport: an outgoing stream to `peer` as options_.transport
  // says (auto: uTP first, falling back to TCP, unless not `utp_first`).
  absl::StatusOr<std::unique_ptr<Transport>> ConnectTransport(
      const Endpoint& peer, bool utp_first);
  // MakeRoomForIncoming frees a slot for an incoming connection from
  // `from` (closing a connection that is not worth its slot); false if
  // none can be freed.
  bool MakeRoomForIncoming(const Endpoint& from);
  PeerSessionOptions SessionOptions(bool encrypt) const;
  void AddConnection(std::unique_ptr<PeerConnection> c);
  void Tick();
  bool AllowPeer(const Endpoint& address);
  // Quota waits: a connection that ran out of rate-limit quota is woken,
  // in the order it started waiting, once its buckets have been refilled.
  void RefillQuotas();
  bool AnyRateLimit() const;
  void WakeDiskWaiters();

  ClientOptions options_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<DiskPool> disk_;
  uint16_t port_ = 0;
  std::vector<std::vector<Handler>> handlers_;
  std::vector<std::unique_ptr<Torrent>> torrents_;
  absl::flat_hash_map<Sha1Hash, Torrent*> by_info_hash_;  // of torrents_
  // The torrents with limits of their own: refills and the question
  // whether any limit is set walk these, not every torrent.
  absl::flat_hash_set<Torrent*> limited_torrents_;
  // Tick walks the busy torrents each second, and the others a tenth at a
  // time (from sweep_next_ on in torrents_), so that 10,000 idle torrents
  // cost next to nothing.
  absl::flat_hash_set<Torrent*> ticking_;
  size_t sweep_next_ = 0;
  protocol::SkeyTable skeys_;
  std::unique_ptr<TrackerClient> trackers_;
  // Host names for the DHT (routers, torrents' nodes); resolver_ outlives
  // dht_bootstrap_, which cancels its lookups.
  std::unique_ptr<Resolver> resolver_;
  std::unique_ptr<DhtBootstrap> dht_bootstrap_;
  // The TCP listeners and UDP sockets (uTP and the DHT), one of each per
  // local address; declared before the DHT nodes and uTP hosts so it
  // outlives them.
  std::unique_ptr<ListenSockets> listen_;
  std::unique_ptr<DhtUdpNode> dht_, dht6_;
  DhtAnnounceQueue dht_announces_{
      kMaxDhtAnnounces, [this](const Sha1Hash& ih, std::function<void()> done) {
        return StartDhtAnnounce(ih, std::move(done));
      }};
  // utp_[i] runs on listen_->sockets()[i]; empty when uTP is off.
  std::vector<std::unique_ptr<UtpHost>> utp_;
  // Local Service Discovery, per family listened on (when it could join).
  std::vector<std::unique_ptr<LsdNode>> lsd_;
  std::vector<absl::Status> lsd_errors_;
  absl::btree_map<uint64_t, std::unique_ptr<PeerConnection>> connections_;
  uint64_t next_connection_ = 1;
  EventLoop::TimerId tick_timer_ = 0;
  RateLimiter upload_limit_, download_limit_;
  IpFilter ip_filter_;
  std::deque<uint64_t> waiting_upload_, waiting_download_, waiting_disk_;
  EventLoop::TimerId quota_timer_ = 0;
  uint64_t quota_round_ = 0;
};

}  // namespace bt::client

#endif  // CLIENT_CLIENT_H_
