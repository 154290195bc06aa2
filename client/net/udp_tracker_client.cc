#include "client/net/udp_tracker_client.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_format.h"
#include "base/big_endian.h"
#include "client/net/socket_address.h"
#include "tracker/tracker_url.h"

namespace bt::client {

absl::StatusOr<std::unique_ptr<UdpTrackerClient>> UdpTrackerClient::Create(
    EventLoop* loop, tracker::UdpTrackerOptions options, Resolver* resolver) {
  return std::unique_ptr<UdpTrackerClient>(
      new UdpTrackerClient(loop, options, resolver));
}

UdpTrackerClient::~UdpTrackerClient() {
  for (auto& [id, r] : requests_) {
    if (r->timer != 0) loop_->CancelTimer(r->timer);
    if (r->resolve_id != 0) resolver_->Cancel(r->resolve_id);
  }
  for (int fd : {fd4_, fd6_}) {
    if (fd >= 0) {
      loop_->Unwatch(fd);
      close(fd);
    }
  }
}

absl::StatusOr<int> UdpTrackerClient::SocketFor(const Endpoint& e) {
  int& fd = e.is_v4() ? fd4_ : fd6_;
  if (fd >= 0) return fd;
  int s = socket(e.is_v4() ? AF_INET : AF_INET6,
                 SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) {
    return absl::UnavailableError(
        absl::StrFormat("UDP socket: %s", std::strerror(errno)));
  }
  Liveness::Token token = liveness_.token();
  absl::Status st = loop_->Watch(s, EventLoop::kReadable, [this, token, s](uint32_t) {
    if (token.alive()) OnReadable(s);
  });
  if (!st.ok()) {
    close(s);
    return st;
  }
  fd = s;
  return fd;
}

uint64_t UdpTrackerClient::Announce(const std::string& url,
                                    tracker::AnnounceRequest request,
                                    Hooks hooks, AnnounceDone done) {
  auto r = std::make_unique<Request>();
  r->hooks = std::move(hooks);
  r->announce_done = std::move(done);
  return Begin(url, std::move(r), true, std::move(request), {});
}

uint64_t UdpTrackerClient::Scrape(const std::string& url,
                                  std::vector<Sha1Hash> info_hashes,
                                  Hooks hooks, ScrapeDone done) {
  auto r = std::make_unique<Request>();
  r->hooks = std::move(hooks);
  r->scrape_done = std::move(done);
  return Begin(url, std::move(r), false, {}, std::move(info_hashes));
}

void UdpTrackerClient::FailLater(std::unique_ptr<Request> request,
                                 absl::Status status) {
  std::shared_ptr<Request> r(std::move(request));
  Liveness::Token token = liveness_.token();
  loop_->Post([r, status, token] {
    if (!token.alive()) return;
    if (r->announce_done) r->announce_done(status);
    if (r->scrape_done) r->scrape_done(status);
  });
}

uint64_t UdpTrackerClient::Begin(const std::string& url,
                                 std::unique_ptr<Request> request,
                                 bool is_announce,
                                 tracker::AnnounceRequest announce,
                                 std::vector<Sha1Hash> hashes) {
  uint64_t id = next_id_++;
  request->id = id;
  absl::StatusOr<tracker::TrackerUrl> parsed = tracker::TrackerUrl::Parse(url);
  if (parsed.ok() && !parsed->is_udp()) {
    parsed = absl::InvalidArgumentError(absl::StrFormat("not a udp:// URL: %s", url));
  }
  if (!parsed.ok()) {
    FailLater(std::move(request), parsed.status());
    return id;
  }
  request->is_announce = is_announce;
  request->url_data = parsed->path_query;
  request->announce = std::move(announce);
  request->hashes = std::move(hashes);
  requests_[id] = std::move(request);
  Liveness::Token token = liveness_.token();
  if (resolver_ != nullptr) {
    requests_[id]->resolve_id = resolver_->Resolve(
        parsed->host, parsed->port,
        [this, token, id](absl::StatusOr<std::vector<Endpoint>> addrs) {
          if (token.alive()) OnResolved(id, std::move(addrs));
        });
  } else {
    // Resolve now but continue from the loop, so `done` never runs inside
    // Announce/Scrape.
    absl::StatusOr<std::vector<Endpoint>> addrs =
        ResolveHost(parsed->host, parsed->port);
    loop_->Post([this, token, id, addrs] {
      if (token.alive()) OnResolved(id, addrs);
    });
  }
  return id;
}

void UdpTrackerClient::Finish(uint64_t id, absl::Status status) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  std::unique_ptr<Request> r = std::move(it->second);
  requests_.erase(it);
  if (r->timer != 0) loop_->CancelTimer(r->timer);
  if (r->announce_done) r->announce_done(status);
  if (r->scrape_done) r->scrape_done(status);
}

void UdpTrackerClient::OnResolved(uint64_t id,
                                  absl::StatusOr<std::vector<Endpoint>> addrs) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  Request& request = *it->second;
  request.resolve_id = 0;
  if (!addrs.ok()) return Finish(id, addrs.status());
  request.tracker = (*addrs)[0];
  absl::StatusOr<int> fd = SocketFor(request.tracker);
  if (!fd.ok()) return Finish(id, fd.status());
  auto& conn = connections_[request.tracker];
  if (!conn) conn = std::make_unique<tracker::UdpConnectionId>();
  const bool v6 = request.tracker.is_v6();
  request.exchange = std::make_unique<tracker::UdpTrackerExchange>(
      request.is_announce
          ? tracker::UdpTrackerExchange::Announce(std::move(request.announce),
                                                  request.url_data, v6,
                                                  conn.get(), options_)
          : tracker::UdpTrackerExchange::Scrape(std::move(request.hashes), v6,
                                                conn.get(), options_));
  request.exchange->Start(EventLoop::Now());
  Pump(id);
}

void UdpTrackerClient::Cancel(uint64_t id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  if (it->second->timer != 0) loop_->CancelTimer(it->second->timer);
  if (it->second->resolve_id != 0) resolver_->Cancel(it->second->resolve_id);
  requests_.erase(it);
}

void UdpTrackerClient::Pump(uint64_t id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  Request& r = *it->second;
  tracker::UdpTrackerExchange& ex = *r.exchange;
  while (std::optional<std::string> packet = ex.TakePacket()) {
    absl::StatusOr<int> fd = SocketFor(r.tracker);
    if (fd.ok()) {
      sockaddr_storage ss;
      socklen_t len = ToSockaddr(r.tracker, &ss);
      ssize_t n = sendto(*fd, packet->data(), packet->size(), 0,
                         reinterpret_cast<sockaddr*>(&ss), len);
      if (n >= 0 && r.hooks.on_write) r.hooks.on_write(static_cast<size_t>(n));
      // A failed send is a lost datagram: the retransmission timer covers it.
    }
  }
  if (r.timer != 0) {
    loop_->CancelTimer(r.timer);
    r.timer = 0;
  }
  if (!ex.done()) {
    Liveness::Token token = liveness_.token();
    r.timer = loop_->AddTimerAt(ex.deadline(), [this, token, id] {
      if (!token.alive()) return;
      auto it = requests_.find(id);
      if (it == requests_.end()) return;
      it->second->timer = 0;
      it->second->exchange->OnTimeout(EventLoop::Now());
      Pump(id);
    });
    return;
  }
  std::unique_ptr<Request> done = std::move(it->second);
  requests_.erase(it);
  if (done->announce_done) done->announce_done(done->exchange->announce_result());
  if (done->scrape_done) done->scrape_done(done->exchange->scrape_result());
}

void UdpTrackerClient::OnReadable(int fd) {
  char buf[65536];
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
                         reinterpret_cast<sockaddr*>(&ss), &len);
    if (n < 0) return;  // EAGAIN, or an ICMP error surfaced: nothing to do
    std::optional<Endpoint> from =
        FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    if (!from) continue;
    std::string_view packet(buf, static_cast<size_t>(n));
    // Route by transaction id; a datagram matching no request goes to every
    // request with that tracker, which count it as ignored.
    std::vector<uint64_t> ids;
    uint32_t txid = packet.size() >= 8
                        ? LoadBigEndian32(reinterpret_cast<const uint8_t*>(buf) + 4)
                        : 0;
    for (auto& [id, r] : requests_) {
      if (r->exchange && r->tracker == *from && packet.size() >= 8 &&
          r->exchange->awaited_transaction_id() == txid) {
        ids.push_back(id);
      }
    }
    if (ids.empty()) {
      for (auto& [id, r] : requests_) {
        if (r->exchange && r->tracker == *from) ids.push_back(id);
      }
    }
    for (uint64_t id : ids) {
      auto it = requests_.find(id);
      if (it == requests_.end()) continue;
      if (it->second->hooks.on_read) it->second->hooks.on_read(packet.size());
      it->second->exchange->OnDatagram(packet, EventLoop::Now());
      Pump(id);
    }
  }
}

}  // namespace bt::client
