#include "tests/client/testing/sim_client.h"

#include <algorithm>

#include "base/status_macros.h"

namespace bt::client::testing {
namespace {

// A connection owns its transport; this handle lets the SimClient keep
// owning the SimPeer behind it.
class TransportHandle : public Transport {
 public:
  explicit TransportHandle(Transport* t) : t_(t) {}
  ~TransportHandle() override { t_->Close(); }
  absl::Status Start(Observer* o) override { return t_->Start(o); }
  absl::StatusOr<size_t> Read(absl::Span<char> b) override {
    return t_->Read(b);
  }
  absl::StatusOr<size_t> Write(std::string_view d) override {
    return t_->Write(d);
  }
  void SetReading(bool on) override { t_->SetReading(on); }
  void SetWantWrite(bool on) override { t_->SetWantWrite(on); }
  void Close() override { t_->Close(); }
  bool connected() const override { return t_->connected(); }
  const Endpoint& remote() const override { return t_->remote(); }

 private:
  Transport* t_;
};

}  // namespace

// --- SimPeer -------------------------------------------------------------------

absl::Status SimPeer::Start(Observer* observer) {
  observer_ = observer;
  return absl::OkStatus();
}

void SimPeer::Deliver(std::string_view bytes) {
  input_.append(bytes);
  Notify();
}

void SimPeer::DeliverEof() {
  eof_ = true;
  Notify();
}

void SimPeer::CompleteConnect() {
  if (connected_ || closed_ || !observer_) return;
  connected_ = true;
  observer_->OnTransportConnected();
}

void SimPeer::Notify() {
  // Level-triggered, as epoll is for the TCP transport: a connection that
  // stops after a few reads (so other peers get a turn) is told again
  // while input is left and it keeps taking some.
  while (!closed_ && connected_ && reading_ && observer_ &&
         (!input_.empty() || eof_)) {
    const size_t before = input_.size();
    observer_->OnTransportReadable();
    if (input_.size() == before) break;
  }
}

absl::StatusOr<size_t> SimPeer::Read(absl::Span<char> buf) {
  if (closed_) return absl::UnavailableError("transport closed");
  if (input_.empty()) {
    if (eof_) return absl::UnavailableError("connection closed by peer");
    return size_t{0};
  }
  const size_t n = std::min(buf.size(), input_.size());
  std::copy_n(input_.data(), n, buf.data());
  input_.erase(0, n);
  return n;
}

absl::StatusOr<size_t> SimPeer::Write(std::string_view data) {
  if (closed_) return absl::UnavailableError("transport closed");
  const size_t room = write_capacity_ > written_.size()
                          ? write_capacity_ - written_.size()
                          : 0;
  const size_t n = std::min(room, data.size());
  written_.append(data.substr(0, n));
  return n;
}

void SimPeer::SetReading(bool on) {
  reading_ = on;
  if (on) Notify();
}

void SimPeer::Close() {
  closed_ = true;
  observer_ = nullptr;
}

// --- SimClient -----------------------------------------------------------------

ClientOptions SimClient::DefaultOptions() {
  ClientOptions o;
  o.local_hosts = {"127.0.0.1"};
  o.encryption = protocol::EncryptionPolicy::kDisabled;
  o.enable_dht = false;
  o.peer_id = PeerId::FromBytes(AsBytes(std::string_view("-BK0100-simsimsimsim")));
  return o;
}

SimClient::SimClient(ClientOptions options) : options_(std::move(options)) {
  if (!options_.file_backend) options_.file_backend = &disk_backend_;
  pool_ = std::make_unique<DiskPool>(
      DiskPool::Options{.threads = 0,
                        .max_queued_bytes = options_.disk_queue_bytes},
      [this](DiskPool::Task t) { pending_.push_back(std::move(t)); });
  pool_->OnDrained([this] {
    std::vector<uint64_t> ids;
    ids.swap(waiting_disk_);
    for (uint64_t id : ids) {
      if (PeerConnection* c = connection(id)) c->OnDiskDrained();
    }
  });
}

SimClient::~SimClient() {
  on_event = nullptr;
  for (auto& t : torrents_) {
    t->ClearHandlers();
    t->Stop().IgnoreError();
  }
  connections_.clear();
  torrents_.clear();
  // Work still queued refers to the pool and the torrents: drop it.
  pending_.clear();
}

absl::StatusOr<Torrent*> SimClient::AddTorrent(TorrentParams params) {
  const bool start = params.start;
  // Storage is set up before Attach (when the metadata is known): name the
  // in-memory disk now, or the torrent falls back to the real one.
  if (!params.backend) params.backend = options_.file_backend;
  ASSIGN_OR_RETURN(std::unique_ptr<Torrent> t, Torrent::Open(std::move(params)));
  t->Attach(this);
  Torrent* raw = t.get();
  torrents_.push_back(std::move(t));
  skeys_.Add(raw->info_hash());
  for (const Endpoint& p : raw->params().peers) raw->AddPeer(p);
  if (start) {
    RETURN_IF_ERROR(raw->LoadState());
    RETURN_IF_ERROR(raw->Start());
  }
  return raw;
}

PeerSessionOptions SimClient::SessionOptions(bool encrypt) const {
  PeerSessionOptions o;
  o.peer_id = options_.peer_id;
  o.listen_port = port();
  o.encryption = options_.encryption;
  o.encrypt = encrypt;
  o.skeys = &skeys_;
  o.limits = options_.session_limits;
  return o;
}

SimPeer* SimClient::Incoming(const Endpoint& from) {
  peers_.push_back(std::make_unique<SimPeer>(from, /*connected=*/true));
  SimPeer* peer = peers_.back().get();
  auto c = std::make_unique<PeerConnection>(
      this, next_id_++, std::make_unique<TransportHandle>(peer),
      SessionOptions(false), nullptr);
  PeerConnection* raw = c.get();
  connections_[raw->id()] = std::move(c);
  if (absl::Status s = raw->Start(); !s.ok()) raw->Close(s);
  return peer;
}

bool SimClient::Connect(Torrent& t, const Endpoint& peer, bool encrypt,
                        bool utp_first) {
  peers_.push_back(std::make_unique<SimPeer>(peer, /*connected=*/false));
  SimPeer* sim = peers_.back().get();
  sim->set_utp_first(utp_first);
  outgoing_.push_back(sim);
  auto c = std::make_unique<PeerConnection>(
      this, next_id_++, std::make_unique<TransportHandle>(sim),
      SessionOptions(encrypt), &t);
  PeerConnection* raw = c.get();
  t.OnConnectionOpened(*raw);
  connections_[raw->id()] = std::move(c);
  if (absl::Status s = raw->Start(); !s.ok()) raw->Close(s);
  return true;
}

bool SimClient::CanConnect() const {
  return static_cast<int>(open_connections()) < options_.max_connections;
}

size_t SimClient::open_connections() const {
  size_t n = 0;
  for (const auto& [id, c] : connections_) n += !c->closed();
  return n;
}

PeerConnection* SimClient::connection(uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

Torrent* SimClient::FindTorrent(const Sha1Hash& info_hash) {
  for (const auto& t : torrents_) {
    if (t->info_hash() == info_hash && t->state() != TorrentState::kStopped) {
      return t.get();
    }
  }
  return nullptr;
}

bool SimClient::Wants(EventType) const { return on_event != nullptr; }

bool SimClient::Emit(const Event& e) {
  if (on_event) on_event(e);
  return true;
}

void SimClient::Defer(std::function<void()> task) {
  pending_.push_back(std::move(task));
}

void SimClient::Reap(uint64_t id) {
  pending_.push_back([this, id] { connections_.erase(id); });
}

void SimClient::WaitForDisk(uint64_t connection) {
  waiting_disk_.push_back(connection);
  if (!pool_->congested()) {
    pending_.push_back([this] {
      std::vector<uint64_t> ids;
      ids.swap(waiting_disk_);
      for (uint64_t id : ids) {
        if (PeerConnection* c = this->connection(id)) c->OnDiskDrained();
      }
    });
  }
}

size_t SimClient::RunPending(size_t max) {
  size_t ran = 0;
  while (!pending_.empty() && ran < max) {
    std::function<void()> task = std::move(pending_.front());
    pending_.pop_front();
    task();
    ++ran;
  }
  return ran;
}

void SimClient::Advance(absl::Duration d) {
  const absl::Time end = now_ + d;
  while (true) {
    RunPending();
    if (next_tick_ > end) break;
    now_ = next_tick_;
    for (const auto& t : torrents_) t->Tick(now_);
    // Incoming connections that have not named their torrent yet.
    for (const auto& [id, c] : connections_) {
      if (!c->torrent()) c->Tick(now_);
    }
    next_tick_ = now_ + absl::Seconds(1);
  }
  now_ = end;
  RunPending();
}

}  // namespace bt::client::testing
