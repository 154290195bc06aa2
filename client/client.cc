#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "absl/strings/match.h"
#include "client/client_state.h"
#include "client/peer_connection.h"
#include "client/net/socket_address.h"
#include "client/net/tracker_client.h"
#include "metainfo/peer_id.h"

namespace bt::client {
namespace {

constexpr std::chrono::seconds kTickInterval(1);
// Socket buffers large enough for fast local transfers.
constexpr int kSocketBuffer = 4 << 20;

void TuneSocket(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int size = kSocketBuffer;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

}  // namespace

Client::Client(ClientOptions options, std::unique_ptr<EventLoop> loop)
    : options_(std::move(options)),
      loop_(std::move(loop)),
      handlers_(kEventTypeCount) {}

absl::StatusOr<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  if (options.peer_id.IsZero()) options.peer_id = metainfo::GeneratePeerId();
  if (options.local_ports.empty()) options.local_ports = {0};
  ASSIGN_OR_RETURN(std::unique_ptr<EventLoop> loop, EventLoop::Create());
  std::unique_ptr<Client> client(new Client(std::move(options), std::move(loop)));
  RETURN_IF_ERROR(client->Listen());
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
    t->handlers_.assign(kEventTypeCount, {});
    t->Stop().IgnoreError();
  }
  connections_.clear();
  torrents_.clear();
  trackers_.reset();
  dht_.reset();
  if (listen_fd_ >= 0) {
    loop_->Unwatch(listen_fd_);
    ::close(listen_fd_);
  }
}

absl::Status Client::Listen() {
  std::string last_error = "no port to try";
  for (uint16_t port : options_.local_ports) {
    absl::StatusOr<Endpoint> local =
        Endpoint::ParseAddress(options_.local_host, port);
    if (!local.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("LocalHost: %s", local.status().message()));
    }
    int fd = ::socket(local->is_v6() ? AF_INET6 : AF_INET,
                      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::InternalError(std::strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(*local, &ss);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
        ::listen(fd, 128) != 0) {
      last_error = absl::StrFormat("%s: %s", local->ToString(),
                                   std::strerror(errno));
      ::close(fd);
      continue;
    }
    len = sizeof ss;
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    std::optional<Endpoint> bound =
        FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    const uint16_t tcp_port = bound ? bound->port() : port;
    if (options_.enable_dht) {
      // The DHT's UDP socket takes the same port number; if that is not
      // free, the next LocalPort is tried.
      Endpoint udp = *local;
      udp.set_port(tcp_port);
      dht::NodeOptions node_options;
      std::vector<metainfo::NodeInfo> saved_nodes;
      if (!options_.dht_state.empty()) {
        absl::StatusOr<dht::SavedState> saved =
            dht::ParseSavedState(options_.dht_state);
        if (saved.ok()) {
          node_options.id = saved->id;
          saved_nodes = std::move(saved->nodes);
        }
      }
      absl::StatusOr<std::unique_ptr<DhtUdpNode>> dht =
          DhtUdpNode::Create(loop_.get(), udp, node_options);
      if (!dht.ok()) {
        last_error = std::string(dht.status().message());
        ::close(fd);
        continue;
      }
      dht_ = std::move(*dht);
      for (const metainfo::NodeInfo& n : saved_nodes) dht_->node().AddNode(n);
      if (!saved_nodes.empty()) dht_->Bootstrap([](const auto&) {});
      for (const Endpoint& node : options_.dht_bootstrap) {
        dht_->node().AddBootstrapNode(node);
      }
      if (!options_.dht_bootstrap.empty()) dht_->Bootstrap([](const auto&) {});
    }
    port_ = tcp_port;
    listen_fd_ = fd;
    return loop_->Watch(fd, EventLoop::kReadable,
                        [this](uint32_t) { OnAcceptable(); });
  }
  return absl::UnavailableError(
      absl::StrFormat("could not bind any LocalPort (last: %s)", last_error));
}

std::vector<Torrent*> Client::torrents() const {
  std::vector<Torrent*> out;
  for (const auto& t : torrents_) out.push_back(t.get());
  return out;
}

Torrent* Client::FindTorrent(const Sha1Hash& info_hash) const {
  for (const auto& t : torrents_) {
    if (t->info_hash() == info_hash) return t.get();
  }
  return nullptr;
}

absl::StatusOr<Torrent*> Client::AddTorrent(TorrentParams params) {
  const bool start = params.start;
  ASSIGN_OR_RETURN(std::unique_ptr<Torrent> t, Torrent::Open(std::move(params)));
  // Open may have added peers of its own (a magnet's x.pe).
  const std::vector<Endpoint> peers = t->params_.peers;
  if (FindTorrent(t->info_hash())) {
    return absl::AlreadyExistsError(absl::StrFormat(
        "torrent %s is already added", t->info_hash().ToHex()));
  }
  t->AttachClient(this);
  Torrent* raw = t.get();
  torrents_.push_back(std::move(t));
  skeys_.Add(raw->info_hash());
  for (const Endpoint& p : peers) raw->AddPeer(p);
  if (start) {
    RETURN_IF_ERROR(raw->LoadState());
    RETURN_IF_ERROR(raw->Start());
  }
  return raw;
}

absl::Status Client::RemoveTorrent(Torrent* t) {
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
    torrents_.erase(it);
    return absl::OkStatus();
  }
  return absl::NotFoundError("torrent is not in this client");
}

absl::Status Client::DoOneLoop(double timeout_seconds) {
  return loop_->RunOnce(timeout_seconds).status();
}

void Client::OnEvent(EventType type, Handler handler) {
  handlers_[static_cast<size_t>(type)].push_back(std::move(handler));
}

bool Client::Emit(const Event& e) {
  bool allow = true;
  for (const Handler& h : handlers_[static_cast<size_t>(e.type)]) {
    allow = h(e) && allow;
  }
  return allow;
}

bool Client::AllowPeer(const Endpoint& address) {
  if (ip_filter_.Blocked(address)) return false;
  if (!Wants(EventType::kIpFilter)) return true;
  Event e;
  e.type = EventType::kIpFilter;
  e.address = address;
  return Emit(e);
}

int Client::half_open() const {
  int n = 0;
  for (const auto& [id, c] : connections_) {
    n += !c->closed() && !c->active() && !c->incoming();
  }
  return n;
}

bool Client::Connect(Torrent* t, const Endpoint& peer, bool encrypt) {
  if (!AllowPeer(peer)) return false;
  int fd = ::socket(peer.is_v6() ? AF_INET6 : AF_INET,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  TuneSocket(fd);
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(peer, &ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 &&
      errno != EINPROGRESS) {
    ::close(fd);
    return false;
  }
  uint64_t id = next_connection_++;
  std::unique_ptr<PeerConnection> c =
      PeerConnection::Outgoing(this, id, fd, peer, t, encrypt);
  if (!c->Start().ok()) return false;  // the destructor closes fd
  t->connections_.insert(c.get());
  connections_[id] = std::move(c);
  return true;
}

void Client::OnAcceptable() {
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    std::optional<Endpoint> from =
        FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    if (!from || static_cast<int>(connections_.size()) >=
                     options_.max_connections ||
        !AllowPeer(*from)) {
      ::close(fd);
      continue;
    }
    TuneSocket(fd);
    uint64_t id = next_connection_++;
    std::unique_ptr<PeerConnection> c =
        PeerConnection::Incoming(this, id, fd, *from);
    if (!c->Start().ok()) continue;
    connections_[id] = std::move(c);
  }
}

void Client::Reap(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  if (Torrent* t = it->second->torrent()) t->connections_.erase(it->second.get());
  connections_.erase(it);
}

absl::Status Client::SaveState(const std::string& path) {
  ClientState state;
  state.timestamp = absl::ToUnixSeconds(absl::Now());
  if (dht_) state.dht = dht_->node().SaveState();
  state.local_host = options_.local_host;
  state.local_ports = {port_};  // the port in use, so peers find us again
  state.encryption =
      options_.encryption == protocol::EncryptionPolicy::kDisabled ? "disabled"
      : options_.encryption == protocol::EncryptionPolicy::kForced ? "forced"
                                                                   : "enabled";
  state.upload_rate_limit = options_.upload_rate_limit;
  state.download_rate_limit = options_.download_rate_limit;
  for (const auto& t : torrents_) {
    if (!t->params_.resume_path.empty()) RETURN_IF_ERROR(t->SaveResumeData());
    ClientState::Torrent entry;
    entry.info_hash = t->info_hash();
    entry.source = t->params_.torrent_path.empty() ? t->params_.magnet
                                                   : t->params_.torrent_path;
    entry.save_path = t->params_.save_path;
    entry.resume_path = t->params_.resume_path;
    entry.state = t->state() == TorrentState::kStopped  ? "stopped"
                  : t->state() == TorrentState::kPaused ? "paused"
                                                        : "started";
    state.torrents.push_back(std::move(entry));
  }
  return WriteFileAtomically(path, EncodeClientState(state));
}

absl::StatusOr<std::unique_ptr<Client>> Client::Restore(
    const std::string& path, const std::function<void(Client*)>& setup) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrFormat("cannot open %s", path));
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  absl::StatusOr<ClientState> state = DecodeClientState(bytes);
  if (!state.ok()) {
    return absl::Status(state.status().code(),
                        absl::StrFormat("%s: %s", path, state.status().message()));
  }
  ClientOptions options;
  options.local_host = state->local_host;
  options.local_ports = state->local_ports;
  options.local_ports.push_back(0);  // if the old port is taken now
  options.encryption = state->encryption == "disabled"
                           ? protocol::EncryptionPolicy::kDisabled
                       : state->encryption == "forced"
                           ? protocol::EncryptionPolicy::kForced
                           : protocol::EncryptionPolicy::kEnabled;
  options.upload_rate_limit = state->upload_rate_limit;
  options.download_rate_limit = state->download_rate_limit;
  options.dht_state = state->dht;
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

void Client::AddDhtNode(const Endpoint& node) {
  if (!dht_) return;
  dht_->node().AddBootstrapNode(node);
  if (dht_->node().table().size() < 8) dht_->Bootstrap([](const auto&) {});
}

void Client::SetRateLimits(int64_t upload, int64_t download) {
  options_.upload_rate_limit = upload;
  options_.download_rate_limit = download;
  upload_limit_.set_rate(upload);
  download_limit_.set_rate(download);
  RefillQuotas();
}

bool Client::AnyRateLimit() const {
  if (upload_limit_.limited() || download_limit_.limited()) return true;
  for (const auto& t : torrents_) {
    if (t->upload_limit_.limited() || t->download_limit_.limited()) return true;
  }
  return false;
}

void Client::WaitForQuota(uint64_t connection, bool upload) {
  std::deque<uint64_t>& q = upload ? waiting_upload_ : waiting_download_;
  if (std::find(q.begin(), q.end(), connection) == q.end()) {
    q.push_back(connection);
  }
}

void Client::RefillQuotas() {
  const absl::Time now = absl::Now();
  upload_limit_.Refill(now);
  download_limit_.Refill(now);
  for (const auto& t : torrents_) {
    t->upload_limit_.Refill(now);
    t->download_limit_.Refill(now);
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
      if (it != connections_.end() && !it->second->closed()) {
        it->second->OnQuota(upload);
      }
    }
  }
  if (quota_timer_) loop_->CancelTimer(quota_timer_);
  quota_timer_ = 0;
  if (AnyRateLimit()) {
    quota_timer_ = loop_->AddTimer(std::chrono::milliseconds(20),
                                   [this] {
                                     quota_timer_ = 0;
                                     RefillQuotas();
                                   });
  }
}

void Client::Tick() {
  const absl::Time now = absl::Now();
  // Incoming connections that never finished their handshake.
  std::vector<PeerConnection*> pending;
  for (const auto& [id, c] : connections_) {
    if (!c->closed() && !c->torrent()) pending.push_back(c.get());
  }
  for (PeerConnection* c : pending) c->Tick(now);
  for (const auto& t : torrents_) t->Tick(now);
  tick_timer_ = loop_->AddTimer(kTickInterval, [this] { Tick(); });
}

}  // namespace bt::client
