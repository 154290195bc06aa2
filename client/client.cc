#include "client/client.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/file_util.h"
#include "base/status_macros.h"
#include "client/client_state.h"
#include "client/net/fallback_transport.h"
#include "client/net/tracker_client.h"
#include "client/peer_connection.h"
#include "metainfo/peer_id.h"

namespace bt::client {
namespace {

constexpr std::chrono::seconds kTickInterval(1);
// A connection that has exchanged nothing useful for this long may give
// its slot to a newcomer when the client is full.
constexpr absl::Duration kUselessAfter = absl::Seconds(10);
constexpr size_t kMaxStateFile = 64 << 20;

}  // namespace

Client::Client(ClientOptions options, std::unique_ptr<EventLoop> loop)
    : options_(std::move(options)),
      loop_(std::move(loop)),
      handlers_(kEventTypeCount) {
  EventLoop* l = loop_.get();
  disk_ = std::make_unique<DiskPool>(
      DiskPool::Options{.threads = options_.disk_threads,
                        .max_queued_bytes = options_.disk_queue_bytes},
      [l](DiskPool::Task t) { l->PostFromAnyThread(std::move(t)); });
  disk_->OnDrained([this] { WakeDiskWaiters(); });
  resolver_ = std::make_unique<Resolver>(l, options_.host_lookup);
  dht_bootstrap_ = std::make_unique<DhtBootstrap>(
      resolver_.get(), [this](const Endpoint& e) { AddDhtNode(e); },
      [this](const Endpoint& e) { AddDhtHint(e); });
}

absl::StatusOr<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  if (options.peer_id.IsZero()) options.peer_id = metainfo::GeneratePeerId();
  if (options.local_ports.empty()) options.local_ports = {0};
  ASSIGN_OR_RETURN(std::unique_ptr<EventLoop> loop, EventLoop::Create());
  std::unique_ptr<Client> client(new Client(std::move(options), std::move(loop)));
  RETURN_IF_ERROR(client->Listen());
  if (client->options_.enable_lsd) client->StartLsd();
  client->SetRateLimits(client->options_.upload_rate_limit,
                        client->options_.download_rate_limit);
  ASSIGN_OR_RETURN(client->trackers_,
                   TrackerClient::Create(client->loop_.get(), {}));
  Client* self = client.get();
  client->tick_timer_ =
      client->loop_->AddTimer(kTickInterval, [self] { self->Tick(); });
  return client;
}

Client::~Client() {
  // No handler runs from the destructor: what handlers capture may already
  // be gone. (Stop torrents before destroying the client to see their last
  // events.)
  handlers_.assign(kEventTypeCount, {});
  for (auto& t : torrents_) {
    t->ClearHandlers();
    t->Stop().IgnoreError();
  }
  connections_.clear();
  by_info_hash_.clear();
  limited_torrents_.clear();
  ticking_.clear();
  torrents_.clear();
  // Queued disk work still runs (accepted writes reach the disk); its
  // completions are dropped.
  disk_.reset();
  trackers_.reset();
  dht_bootstrap_.reset();
  resolver_.reset();
  lsd_.clear();
  dht_.reset();
  dht6_.reset();
  utp_.clear();
  listen_.reset();
}

absl::Status Client::Listen() {
  const bool utp = options_.transport != PeerTransport::kTcp;
  ListenSockets::Options listen;
  listen.hosts = options_.local_hosts;
  listen.ports = options_.local_ports;
  listen.tcp = options_.transport != PeerTransport::kUtp;
  listen.udp = options_.enable_dht || utp;
  ASSIGN_OR_RETURN(listen_, ListenSockets::Bind(loop_.get(), listen));
  port_ = listen_->port();
  for (ListenSockets::Socket& s : listen_->sockets()) {
    if (utp) utp_.push_back(StartUtp(s.udp.get()));
    if (s.tcp) {
      RETURN_IF_ERROR(s.tcp->Start(
          [this](std::unique_ptr<TcpTransport> t) { OnAccept(std::move(t)); }));
    }
  }
  if (options_.enable_dht) StartDht();
  return absl::OkStatus();
}

std::vector<Endpoint> Client::listen_endpoints() const {
  std::vector<Endpoint> out;
  for (const ListenSockets::Socket& s : listen_->sockets()) {
    out.push_back(s.local);
  }
  return out;
}

std::unique_ptr<UtpHost> Client::StartUtp(UdpSocket* socket) {
  protocol::utp::SocketTableOptions options;
  options.max_connections = static_cast<size_t>(options_.max_connections);
  // Peers without uTP answer the SYN with silence: fall back to TCP after
  // 3 s (1 s, then a retry waiting 2 s), as libtorrent does.
  options.connection.syn_retries = 1;
  // As deep as the TCP sockets' 4 MiB buffers, so a fast peer's window
  // does not run dry between disk reads.
  options.connection.send_buffer = 4 << 20;
  options.connection.receive_buffer = 4 << 20;
  // No packet-size probe (SocketTableOptions::loopback_probe_payload):
  // libtorrent acknowledges a 16 KB probe and then fails the transfer, so
  // an ack does not prove the peer took the whole datagram.
  auto host = std::make_unique<UtpHost>(loop_.get(), socket, options);
  host->SetAcceptHandler(
      [this](std::unique_ptr<Transport> t) { OnAccept(std::move(t)); });
  return host;
}

void Client::StartLsd() {
  // The group of each family peers can reach us on, announcing our port,
  // from the first address of that family.
  for (bool v6 : {false, true}) {
    const ListenSockets::Socket* s = listen_->Find(v6);
    if (!s) continue;
    absl::StatusOr<std::unique_ptr<LsdNode>> lsd = LsdNode::Create(
        loop_.get(), {.local = s->local},
        [this](const Sha1Hash& info_hash, const Endpoint& peer) {
          Torrent* t = FindTorrent(info_hash);
          if (t) t->AddPeer(peer, PeerSet::Source::kLsd);
        });
    if (lsd.ok()) {
      lsd_.push_back(*std::move(lsd));
    } else {
      lsd_errors_.push_back(lsd.status());
    }
  }
}

std::vector<LsdNode*> Client::lsd_nodes() const {
  std::vector<LsdNode*> out;
  for (const auto& n : lsd_) out.push_back(n.get());
  return out;
}

void Client::UpdateLsd() {
  if (lsd_.empty()) return;
  std::vector<Sha1Hash> announce;
  for (const auto& t : torrents_) {
    if (t->serving() && !t->is_private()) announce.push_back(t->info_hash());
  }
  for (const auto& lsd : lsd_) lsd->Update(announce, Now());
}

// --- torrents ------------------------------------------------------------------

std::vector<Torrent*> Client::torrents() const {
  std::vector<Torrent*> out;
  for (const auto& t : torrents_) out.push_back(t.get());
  return out;
}

Torrent* Client::FindTorrent(const Sha1Hash& info_hash) const {
  auto it = by_info_hash_.find(info_hash);
  return it == by_info_hash_.end() ? nullptr : it->second;
}

Torrent* Client::FindTorrent(const Sha1Hash& info_hash) {
  Torrent* t = static_cast<const Client*>(this)->FindTorrent(info_hash);
  return t && t->state() != TorrentState::kStopped ? t : nullptr;
}

absl::StatusOr<Torrent*> Client::AddTorrent(TorrentParams params) {
  const bool start = params.start;
  if (!params.backend) params.backend = options_.file_backend;
  ASSIGN_OR_RETURN(std::unique_ptr<Torrent> t, Torrent::Open(std::move(params)));
  if (static_cast<const Client*>(this)->FindTorrent(t->info_hash())) {
    return absl::AlreadyExistsError(absl::StrFormat(
        "torrent %s is already added", t->info_hash().ToHex()));
  }
  // Open may have added peers of its own (a magnet's x.pe).
  const std::vector<Endpoint> peers = t->params().peers;
  t->Attach(this);
  Torrent* raw = t.get();
  torrents_.push_back(std::move(t));
  by_info_hash_[raw->info_hash()] = raw;
  skeys_.Add(raw->info_hash());
  for (const Endpoint& p : peers) raw->AddPeer(p, PeerSet::Source::kUser);
  if ((dht_ || dht6_) && raw->has_metadata() && !raw->is_private()) {
    dht_bootstrap_->AddTorrentNodes(raw->info().nodes());
  }
  if (start) {
    RETURN_IF_ERROR(raw->LoadState());
    RETURN_IF_ERROR(raw->Start());
  }
  return raw;
}

absl::Status Client::RemoveTorrent(Torrent* t, bool delete_data) {
  for (auto it = torrents_.begin(); it != torrents_.end(); ++it) {
    if (it->get() != t) continue;
    RETURN_IF_ERROR(t->Stop());
    skeys_.Remove(t->info_hash());
    // Connections still pointing at it were closed by Stop(); reap them
    // before the torrent goes.
    std::vector<uint64_t> ids;
    for (const auto& [id, c] : connections_) {
      if (c->torrent() == t) ids.push_back(id);
    }
    for (uint64_t id : ids) connections_.erase(id);
    absl::Status deleted = delete_data ? t->DeleteData() : absl::OkStatus();
    by_info_hash_.erase(t->info_hash());
    limited_torrents_.erase(t);
    ticking_.erase(t);
    torrents_.erase(it);
    return deleted;
  }
  return absl::NotFoundError("torrent is not in this client");
}

absl::Status Client::DoOneLoop(double timeout_seconds) {
  return loop_->RunOnce(timeout_seconds).status();
}

absl::Status Client::FinishStopAnnounces(absl::Duration limit) {
  const absl::Time until = absl::Now() + limit;
  absl::Status status;
  auto announcing = [this] {
    for (const std::unique_ptr<Torrent>& t : torrents_) {
      if (t->announcing_stop()) return true;
    }
    return false;
  };
  while (status.ok() && announcing() && absl::Now() < until) {
    status = DoOneLoop(
        std::clamp(absl::ToDoubleSeconds(until - absl::Now()), 0.0, 0.05));
  }
  return status;
}

void Client::OnEvent(EventType type, Handler handler) {
  handlers_[static_cast<size_t>(type)].push_back(std::move(handler));
  for (const std::unique_ptr<Torrent>& t : torrents_) {
    t->RefreshWantedStorageEvents();
  }
}

bool Client::Emit(const Event& e) {
  bool allow = true;
  for (const Handler& h : handlers_[static_cast<size_t>(e.type)]) {
    allow = h(e) && allow;
  }
  return allow;
}

// --- connections -----------------------------------------------------------------

bool Client::AllowPeer(const Endpoint& address) {
  if (ip_filter_.Blocked(address)) return false;
  if (!Wants(EventType::kIpFilter)) return true;
  Event e;
  e.type = EventType::kIpFilter;
  e.address = address;
  return Emit(e);
}

size_t Client::connection_count() const {
  size_t n = 0;
  for (const auto& [id, c] : connections_) n += !c->closed();
  return n;
}

bool Client::CanConnect() const {
  int half_open = 0;
  for (const auto& [id, c] : connections_) half_open += c->connecting();
  return static_cast<int>(connection_count()) < options_.max_connections &&
         half_open < options_.max_half_open;
}

PeerSessionOptions Client::SessionOptions(bool encrypt) const {
  PeerSessionOptions o;
  o.peer_id = options_.peer_id;
  o.listen_port = port_;
  if (dht_ || dht6_) o.dht_port = port_;
  o.encryption = options_.encryption;
  o.encrypt = encrypt;
  o.skeys = &skeys_;
  o.block_buffers = &disk_->buffers();
  o.limits = options_.session_limits;
  return o;
}

void Client::AddConnection(std::unique_ptr<PeerConnection> c) {
  PeerConnection* raw = c.get();
  connections_[raw->id()] = std::move(c);
  if (absl::Status s = raw->Start(); !s.ok()) raw->Close(s);
}

absl::StatusOr<std::unique_ptr<Transport>> Client::ConnectTransport(
    const Endpoint& peer, bool utp_first) {
  // From the first local address of the peer's family.
  const ListenSockets::Socket* local = listen_->Find(peer.is_v6());
  if (local == nullptr) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "no local address of the family of %s", peer.ToString()));
  }
  std::optional<Endpoint> bind_to;
  if (!local->local.IsUnspecified()) {
    bind_to = local->local;
    bind_to->set_port(0);
  }
  auto tcp = [this, peer,
              bind_to]() -> absl::StatusOr<std::unique_ptr<Transport>> {
    ASSIGN_OR_RETURN(std::unique_ptr<TcpTransport> t,
                     TcpTransport::Connect(loop_.get(), peer, bind_to));
    return std::unique_ptr<Transport>(std::move(t));
  };
  UtpHost* host =
      utp_.empty() ? nullptr : utp_[local - listen_->sockets().data()].get();
  if (host == nullptr) return tcp();
  if (options_.transport == PeerTransport::kUtp) return host->Connect(peer);
  if (!utp_first) return tcp();
  absl::StatusOr<std::unique_ptr<Transport>> utp = host->Connect(peer);
  if (!utp.ok()) return tcp();
  return std::unique_ptr<Transport>(
      std::make_unique<FallbackTransport>(*std::move(utp), std::move(tcp)));
}

bool Client::Connect(Torrent& t, const Endpoint& peer, bool encrypt,
                     bool utp_first) {
  if (!AllowPeer(peer)) return false;
  absl::StatusOr<std::unique_ptr<Transport>> transport =
      ConnectTransport(peer, utp_first);
  if (!transport.ok()) return false;
  auto c = std::make_unique<PeerConnection>(
      this, next_connection_++, *std::move(transport), SessionOptions(encrypt),
      &t);
  t.OnConnectionOpened(*c);
  AddConnection(std::move(c));
  return true;
}

void Client::OnAccept(std::unique_ptr<Transport> transport) {
  const Endpoint from = transport->remote();
  if (!AllowPeer(from) || !MakeRoomForIncoming(from)) return;
  AddConnection(std::make_unique<PeerConnection>(
      this, next_connection_++, std::move(transport),
      SessionOptions(/*encrypt=*/false), nullptr));
}

bool Client::MakeRoomForIncoming(const Endpoint& from) {
  const absl::Time now = Now();
  Endpoint ip = from;
  ip.set_port(0);
  int open = 0, same_ip = 0;
  PeerConnection* unshaken = nullptr;  // oldest without a handshake
  PeerConnection* same_ip_unshaken = nullptr;
  PeerConnection* useless = nullptr;   // oldest that gave nothing
  for (const auto& [id, c] : connections_) {
    if (c->closed()) continue;
    ++open;
    Endpoint theirs = c->address();
    theirs.set_port(0);
    const bool mine = c->incoming() && theirs == ip;
    same_ip += mine;
    if (!c->active() && !c->connecting()) {
      if (!unshaken || c->opened_at() < unshaken->opened_at()) unshaken = c.get();
      if (mine && (!same_ip_unshaken ||
                   c->opened_at() < same_ip_unshaken->opened_at())) {
        same_ip_unshaken = c.get();
      }
    } else if (c->active() && !c->useful() &&
               now - c->opened_at() > kUselessAfter &&
               (!useless || c->opened_at() < useless->opened_at())) {
      useless = c.get();
    }
  }
  if (same_ip >= options_.max_incoming_per_ip) {
    if (!same_ip_unshaken) return false;
    same_ip_unshaken->Close(absl::ResourceExhaustedError(
        "replaced: too many connections from one address"));
    return true;
  }
  if (open < options_.max_connections) return true;
  PeerConnection* victim = unshaken ? unshaken : useless;
  if (!victim) return false;
  victim->Close(absl::ResourceExhaustedError(
      "replaced by a new connection: the client is full"));
  return true;
}

void Client::SetConnectionLimits(int global, int per_torrent) {
  options_.max_connections = std::max(global, 1);
  options_.max_connections_per_torrent = std::max(per_torrent, 1);
}

void Client::Defer(std::function<void()> task) { loop_->Post(std::move(task)); }

void Client::Reap(uint64_t id) {
  loop_->Post([this, id] { connections_.erase(id); });
}

void Client::Tick() {
  const absl::Time now = Now();
  // Incoming connections that have not named their torrent yet.
  std::vector<PeerConnection*> pending;
  for (const auto& [id, c] : connections_) {
    if (!c->closed() && !c->torrent()) pending.push_back(c.get());
  }
  for (PeerConnection* c : pending) c->Tick(now);
  // Busy torrents every second, and once more when they fall idle (their
  // rates drop to zero then). A tick may make others busy: walk a copy.
  const std::vector<Torrent*> ticking(ticking_.begin(), ticking_.end());
  for (Torrent* t : ticking) {
    t->Tick(now);
    if (!t->busy()) ticking_.erase(t);
  }
  // Idle ones a tenth at a time: each is looked at every 10 s, and ticks
  // when its Torrent::kIdleTickInterval has passed.
  constexpr size_t kSweepSlices = 10;
  const size_t n = torrents_.size();
  for (size_t i = 0; i < (n + kSweepSlices - 1) / kSweepSlices; ++i) {
    if (sweep_next_ >= n) sweep_next_ = 0;
    Torrent* t = torrents_[sweep_next_++].get();
    if (!ticking_.contains(t) && t->WantsTick(now)) t->Tick(now);
  }
  UpdateLsd();
  tick_timer_ = loop_->AddTimer(kTickInterval, [this] { Tick(); });
}

// --- rate limits and disk back-pressure --------------------------------------------

void Client::SetRateLimits(int64_t upload, int64_t download) {
  options_.upload_rate_limit = upload;
  options_.download_rate_limit = download;
  upload_limit_.set_rate(upload);
  download_limit_.set_rate(download);
  RefillQuotas();
}

void Client::RateLimitsChanged(Torrent& t) {
  if (t.upload_rate_limit() > 0 || t.download_rate_limit() > 0) {
    limited_torrents_.insert(&t);
  } else {
    limited_torrents_.erase(&t);
  }
  RefillQuotas();
}

bool Client::AnyRateLimit() const {
  return upload_limit_.limited() || download_limit_.limited() ||
         !limited_torrents_.empty();
}

void Client::WaitForQuota(uint64_t connection, bool upload) {
  std::deque<uint64_t>& q = upload ? waiting_upload_ : waiting_download_;
  if (std::find(q.begin(), q.end(), connection) == q.end()) {
    q.push_back(connection);
  }
}

void Client::WaitForDisk(uint64_t connection) {
  if (std::find(waiting_disk_.begin(), waiting_disk_.end(), connection) ==
      waiting_disk_.end()) {
    waiting_disk_.push_back(connection);
  }
  // The pool may have drained between the check and now.
  if (!disk_->congested()) loop_->Post([this] { WakeDiskWaiters(); });
}

void Client::WakeDiskWaiters() {
  std::deque<uint64_t> q;
  q.swap(waiting_disk_);
  for (uint64_t id : q) {
    auto it = connections_.find(id);
    if (it != connections_.end()) it->second->OnDiskDrained();
  }
}

void Client::RefillQuotas() {
  const absl::Time now = Now();
  upload_limit_.Refill(now);
  download_limit_.Refill(now);
  for (Torrent* t : limited_torrents_) {
    t->rate_limit(true).Refill(now);
    t->rate_limit(false).Refill(now);
  }
  // Wake waiters, starting one further along the queue each round: the
  // first woken may take the whole refill, so peers take turns at it.
  ++quota_round_;
  for (bool upload : {false, true}) {
    std::deque<uint64_t> q;
    q.swap(upload ? waiting_upload_ : waiting_download_);
    if (!q.empty()) {
      std::rotate(q.begin(), q.begin() + quota_round_ % q.size(), q.end());
    }
    for (uint64_t id : q) {
      auto it = connections_.find(id);
      if (it != connections_.end()) it->second->OnQuota(upload);
    }
  }
  if (quota_timer_) loop_->CancelTimer(quota_timer_);
  quota_timer_ = 0;
  if (AnyRateLimit()) {
    quota_timer_ = loop_->AddTimer(std::chrono::milliseconds(20), [this] {
      quota_timer_ = 0;
      RefillQuotas();
    });
  }
}

// --- client-wide state ---------------------------------------------------------------

absl::Status Client::SaveState(const std::string& path, bool with_resume_data) {
  ClientState state;
  state.timestamp = absl::ToUnixSeconds(Now());
  if (dht_) state.dht = dht_->node().SaveState();
  if (dht6_) state.dht6 = dht6_->node().SaveState();
  state.local_hosts = options_.local_hosts;
  state.local_ports = {port_};  // the port in use, so peers find us again
  state.encryption =
      std::string(protocol::EncryptionPolicyName(options_.encryption));
  state.upload_rate_limit = options_.upload_rate_limit;
  state.download_rate_limit = options_.download_rate_limit;
  for (const auto& t : torrents_) {
    const TorrentParams& p = t->params();
    if (with_resume_data && !p.resume_path.empty()) {
      RETURN_IF_ERROR(t->SaveResumeData());
    }
    ClientState::Torrent entry;
    entry.info_hash = t->info_hash();
    entry.source = p.torrent_path.empty() ? p.magnet : p.torrent_path;
    entry.save_path = p.save_path;
    entry.resume_path = p.resume_path;
    entry.state = t->state() == TorrentState::kStopped  ? "stopped"
                  : t->state() == TorrentState::kPaused ? "paused"
                                                        : "started";
    state.torrents.push_back(std::move(entry));
  }
  return WriteFileAtomically(path, EncodeClientState(state));
}

absl::StatusOr<std::unique_ptr<Client>> Client::Restore(
    const std::string& path, const std::function<void(Client*)>& setup,
    ClientOptions options) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, kMaxStateFile));
  absl::StatusOr<ClientState> state = DecodeClientState(bytes);
  if (!state.ok()) {
    return absl::Status(state.status().code(),
                        absl::StrFormat("%s: %s", path, state.status().message()));
  }
  options.local_hosts = state->local_hosts;
  options.local_ports = state->local_ports;
  options.local_ports.push_back(0);  // if the old port is taken now
  options.encryption = protocol::ParseEncryptionPolicy(state->encryption)
                           .value_or(protocol::EncryptionPolicy::kEnabled);
  options.upload_rate_limit = state->upload_rate_limit;
  options.download_rate_limit = state->download_rate_limit;
  options.dht_state = state->dht;
  options.dht6_state = state->dht6;
  ASSIGN_OR_RETURN(std::unique_ptr<Client> client, Create(std::move(options)));
  if (setup) setup(client.get());
  for (const ClientState::Torrent& entry : state->torrents) {
    TorrentParams params;
    (absl::StartsWith(entry.source, "magnet:") ? params.magnet
                                               : params.torrent_path) =
        entry.source;
    params.save_path = entry.save_path;
    params.resume_path = entry.resume_path;
    params.start = false;
    ASSIGN_OR_RETURN(Torrent * t, client->AddTorrent(std::move(params)));
    if (t->info_hash() != entry.info_hash) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: %s now has info-hash %s, not %s as saved", path, entry.source,
          t->info_hash().ToHex(), entry.info_hash.ToHex()));
    }
    if (entry.state == "stopped") continue;
    RETURN_IF_ERROR(t->LoadState());
    RETURN_IF_ERROR(t->Start());
    if (entry.state == "paused") RETURN_IF_ERROR(t->Pause());
  }
  return client;
}

}  // namespace bt::client
