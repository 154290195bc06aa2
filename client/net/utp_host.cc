#include "client/net/utp_host.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/random.h"
#include "protocol/utp/packet.h"

namespace bt::client {

using protocol::utp::Connection;
using protocol::utp::ConnectionState;
using Id = protocol::utp::SocketTable::Id;

// UtpTransport: one table connection seen as a Transport. It holds only
// the id; the connection lives in the host's table.
class UtpTransport final : public Transport {
 public:
  UtpTransport(UtpHost* host, Id id, const Endpoint& remote, bool connected)
      : host_(host), id_(id), remote_(remote), connected_(connected) {
    host_->Attach(id_, this);
  }
  ~UtpTransport() override { Close(); }

  absl::Status Start(Observer* observer) override {
    observer_ = observer;
    if (host_) host_->WantDispatch(id_);
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> Read(absl::Span<char> buf) override {
    Connection* c = host_ ? host_->Find(id_) : nullptr;
    if (c == nullptr) return absl::UnavailableError("transport closed");
    const size_t n = c->Read(buf);
    if (n > 0) {
      host_->Activity(id_);  // the window may have reopened
      return n;
    }
    if (c->eof()) return absl::UnavailableError("connection closed by peer");
    if (c->state() == ConnectionState::kClosed) return Failure(*c);
    return size_t{0};
  }

  absl::StatusOr<size_t> Write(std::string_view data) override {
    Connection* c = host_ ? host_->Find(id_) : nullptr;
    if (c == nullptr) return absl::UnavailableError("transport closed");
    if (c->state() == ConnectionState::kClosed) return Failure(*c);
    const size_t n = c->Write(data);
    if (n > 0) host_->Activity(id_);
    return n;
  }

  void SetReading(bool on) override {
    reading_ = on;
    if (on && host_) host_->WantDispatch(id_);
  }
  void SetWantWrite(bool on) override {
    want_write_ = on;
    if (on && host_) host_->WantDispatch(id_);
  }
  void Close() override {
    if (host_ == nullptr) return;
    UtpHost* host = std::exchange(host_, nullptr);
    host->Detach(id_);
  }
  bool connected() const override { return connected_; }
  const Endpoint& remote() const override { return remote_; }
  bool is_utp() const override { return true; }

  // HostGone: the host is being destroyed; later calls fail.
  void HostGone() { host_ = nullptr; }

  // Dispatch runs the observer's callbacks for what the connection can do
  // now, as a level-triggered socket would. Returns whether it should run
  // again on the next loop turn (still readable or writable).
  bool Dispatch() {
    Connection* c = host_ ? host_->Find(id_) : nullptr;
    if (observer_ == nullptr || c == nullptr) return false;
    const bool closed = c->state() == ConnectionState::kClosed;
    if (!connected_) {
      if (c->connected()) {
        connected_ = true;
        observer_->OnTransportConnected();
        return host_ != nullptr;
      }
      if (closed) {
        observer_->OnTransportError(absl::UnavailableError(
            absl::StrFormat("uTP connect failed: %s", c->status().message())));
      }
      return false;
    }
    const bool readable = c->readable_bytes() > 0 || c->eof() || closed;
    if (reading_ && readable) {
      observer_->OnTransportReadable();
      if (host_ == nullptr) return false;
      c = host_->Find(id_);
      if (c == nullptr) return false;
    }
    if (want_write_ && c->connected() && c->writable_bytes() > 0) {
      observer_->OnTransportWritable();
      if (host_ == nullptr) return false;
      c = host_->Find(id_);
      if (c == nullptr) return false;
    }
    if (c->state() == ConnectionState::kClosed && !c->status().ok() &&
        !reading_) {
      observer_->OnTransportError(Failure(*c));
      return false;
    }
    return (reading_ && (c->readable_bytes() > 0 || c->eof())) ||
           (want_write_ && c->connected() && c->writable_bytes() > 0);
  }

 private:
  static absl::Status Failure(const Connection& c) {
    if (c.status().ok()) {
      return absl::UnavailableError("connection closed by peer");
    }
    return absl::UnavailableError(c.status().message());
  }

  UtpHost* host_;
  const Id id_;
  const Endpoint remote_;
  bool connected_;
  Observer* observer_ = nullptr;
  bool reading_ = true;
  bool want_write_ = false;
};

namespace {

EventLoop::TimePoint ToTimePoint(absl::Time t) {
  return EventLoop::TimePoint(std::chrono::duration_cast<EventLoop::Duration>(
      absl::ToChronoNanoseconds(t - absl::UnixEpoch())));
}

}  // namespace

UtpHost::UtpHost(EventLoop* loop, UdpSocket* socket,
                 protocol::utp::SocketTableOptions options)
    : loop_(loop),
      socket_(socket),
      table_(std::move(options), [] { return RandomU32(); }) {
  socket_->SetUtpHandler([this](std::string_view d, const Endpoint& from) {
    OnDatagram(d, from);
  });
  socket_->SetBatchDoneHandler([this] { AfterBatch(); });
  socket_->SetUnreachableHandler([this](const Endpoint& to) {
    table_.HandleUnreachable(to, Now());
    AfterBatch();
  });
}

UtpHost::~UtpHost() {
  socket_->SetUtpHandler(nullptr);
  socket_->SetBatchDoneHandler(nullptr);
  socket_->SetUnreachableHandler(nullptr);
  if (timer_ != 0) loop_->CancelTimer(timer_);
  for (auto& [id, t] : transports_) t->HostGone();
}

absl::Time UtpHost::Now() {
  return absl::UnixEpoch() +
         absl::FromChrono(EventLoop::Now().time_since_epoch());
}

absl::StatusOr<std::unique_ptr<Transport>> UtpHost::Connect(
    const Endpoint& peer) {
  if (peer.is_v6() != socket_->local_endpoint().is_v6()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "uTP: %s is not of the socket's address family", peer.ToString()));
  }
  absl::StatusOr<Id> id = table_.Connect(peer, Now());
  if (!id.ok()) return id.status();
  auto t = std::make_unique<UtpTransport>(this, *id, peer,
                                          /*connected=*/false);
  ScheduleFlush();
  return t;
}

void UtpHost::SetAcceptHandler(
    std::function<void(std::unique_ptr<Transport>)> h) {
  on_accept_ = std::move(h);
}

void UtpHost::OnDatagram(std::string_view datagram, const Endpoint& from) {
  table_.HandleDatagram(datagram, from, Now());
}

void UtpHost::AfterBatch() {
  const absl::Time now = Now();
  for (Id id : table_.TakeAccepted()) {
    if (!on_accept_) {
      if (Connection* c = table_.Find(id)) c->Abort();
      table_.Release(id, now);
      continue;
    }
    on_accept_(std::make_unique<UtpTransport>(this, id, table_.peer(id),
                                              /*connected=*/true));
  }
  for (Id id : table_.TakeTouched()) dispatch_.insert(id);
  Dispatch();
  Flush();
}

void UtpHost::Activity(Id id) {
  table_.MarkActive(id);
  ScheduleFlush();
}

void UtpHost::Attach(Id id, UtpTransport* transport) {
  transports_[id] = transport;
}

void UtpHost::Detach(Id id) {
  transports_.erase(id);
  dispatch_.erase(id);
  table_.Release(id, Now());
  ScheduleFlush();
}

void UtpHost::WantDispatch(Id id) {
  dispatch_.insert(id);
  ScheduleFlush();
}

void UtpHost::ScheduleFlush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  loop_->Post([this, token = liveness_.token()] {
    if (!token.alive()) return;
    flush_posted_ = false;
    Dispatch();
    Flush();
  });
}

void UtpHost::Dispatch() {
  // Callbacks may close transports (and so change dispatch_): work on a
  // copy, and look each one up again.
  std::vector<Id> ids(dispatch_.begin(), dispatch_.end());
  dispatch_.clear();
  std::sort(ids.begin(), ids.end());
  for (Id id : ids) {
    auto it = transports_.find(id);
    if (it == transports_.end()) continue;
    if (it->second->Dispatch()) dispatch_.insert(id);
  }
  if (!dispatch_.empty()) ScheduleFlush();  // level-triggered: again
}

void UtpHost::Flush() {
  const absl::Time now = Now();
  // Datagrams go out in batches of one sendmmsg each; the buffers are
  // kept between flushes.
  size_t n = 0;
  auto send = [&] {
    std::vector<UdpSocket::Outgoing> batch;
    batch.reserve(n);
    for (size_t i = 0; i < n; ++i) batch.push_back({out_[i], to_[i]});
    socket_->SendMany(batch);
    n = 0;
  };
  while (true) {
    if (n == out_.size()) {
      out_.emplace_back();
      to_.emplace_back();
    }
    if (!table_.PollDatagram(now, out_[n], to_[n])) break;
    if (++n == UdpSocket::kBatchSize) send();
  }
  if (n > 0) send();
  // Sending may have changed what transports can do (buffers drained).
  for (Id id : table_.TakeTouched()) dispatch_.insert(id);
  if (!dispatch_.empty()) ScheduleFlush();
  ArmTimer();
}

void UtpHost::ArmTimer() {
  const absl::Time at = table_.next_deadline();
  if (at == timer_at_ && timer_ != 0) return;
  if (timer_ != 0) loop_->CancelTimer(timer_);
  timer_ = 0;
  timer_at_ = at;
  if (at == absl::InfiniteFuture()) return;
  const EventLoop::TimePoint when =
      at == absl::InfinitePast() ? EventLoop::Now() : ToTimePoint(at);
  timer_ = loop_->AddTimerAt(when, [this] {
    timer_ = 0;
    timer_at_ = absl::InfiniteFuture();
    table_.Tick(Now());
    for (Id id : table_.TakeTouched()) dispatch_.insert(id);
    Dispatch();
    Flush();
  });
}

}  // namespace bt::client
