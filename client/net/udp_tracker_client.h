// UdpTrackerClient: runs BEP 15 exchanges (tracker/udp_tracker.h) over real
// UDP sockets on the EventLoop. One socket per address family, shared by
// every request; connection ids are cached per tracker address and reused
// for their lifetime; replies are routed by source address and
// transaction id.
//
//   ASSIGN_OR_RETURN(auto udp, UdpTrackerClient::Create(loop, {}));
//   udp->Announce("udp://tracker.example:6969/announce", request, {},
//                 [](absl::StatusOr<bt::tracker::AnnounceResponse> r) {...});
#ifndef CLIENT_NET_UDP_TRACKER_CLIENT_H_
#define CLIENT_NET_UDP_TRACKER_CLIENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "base/liveness.h"
#include "client/net/event_loop.h"
#include "client/net/resolver.h"
#include "tracker/announce.h"
#include "tracker/udp_tracker.h"

namespace bt::client {

class UdpTrackerClient {
 public:
  // Hooks observe datagram sizes (optional).
  struct Hooks {
    std::function<void(size_t)> on_read;
    std::function<void(size_t)> on_write;
  };
  using AnnounceDone =
      std::function<void(absl::StatusOr<tracker::AnnounceResponse>)>;
  using ScrapeDone = std::function<void(absl::StatusOr<tracker::ScrapeResponse>)>;

  // Create makes a client; sockets are opened on first use. Host names go
  // through `resolver` when given (it must outlive the client), otherwise
  // getaddrinfo blocks the loop.
  static absl::StatusOr<std::unique_ptr<UdpTrackerClient>> Create(
      EventLoop* loop, tracker::UdpTrackerOptions options,
      Resolver* resolver = nullptr);
  ~UdpTrackerClient();

  // Announce / Scrape start one exchange with the udp:// tracker `url` and
  // return its id. `done` runs exactly once, from the loop, unless the
  // request is cancelled or the client destroyed; it must not destroy the
  // client. Errors: kInvalidArgument (bad URL), kNotFound (name does not
  // resolve), kUnavailable (socket error or no answer in time), or a
  // malformed reply; a tracker error packet is a response with
  // failure_reason.
  uint64_t Announce(const std::string& url, tracker::AnnounceRequest request,
                    Hooks hooks, AnnounceDone done);
  uint64_t Scrape(const std::string& url, std::vector<Sha1Hash> info_hashes,
                  Hooks hooks, ScrapeDone done);
  // Cancel drops a request without calling its callback.
  void Cancel(uint64_t id);

  size_t active_requests() const { return requests_.size(); }

 private:
  struct Request {
    uint64_t id = 0;
    Endpoint tracker;
    std::unique_ptr<tracker::UdpTrackerExchange> exchange;
    Hooks hooks;
    AnnounceDone announce_done;
    ScrapeDone scrape_done;
    EventLoop::TimerId timer = 0;
    // Until the tracker's name resolves:
    uint64_t resolve_id = 0;
    bool is_announce = true;
    std::string url_data;
    tracker::AnnounceRequest announce;
    std::vector<Sha1Hash> hashes;
  };

  UdpTrackerClient(EventLoop* loop, tracker::UdpTrackerOptions options,
                   Resolver* resolver)
      : loop_(loop), options_(options), resolver_(resolver) {}
  void OnResolved(uint64_t id, absl::StatusOr<std::vector<Endpoint>> addrs);
  void Finish(uint64_t id, absl::Status status);
  uint64_t Begin(const std::string& url, std::unique_ptr<Request> request,
                 bool is_announce, tracker::AnnounceRequest announce,
                 std::vector<Sha1Hash> hashes);
  absl::StatusOr<int> SocketFor(const Endpoint& e);
  void OnReadable(int fd);
  void Pump(uint64_t id);
  void FailLater(std::unique_ptr<Request> request, absl::Status status);

  EventLoop* loop_;
  tracker::UdpTrackerOptions options_;
  Resolver* resolver_;
  int fd4_ = -1;
  int fd6_ = -1;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Request>> requests_;
  absl::flat_hash_map<Endpoint, std::unique_ptr<tracker::UdpConnectionId>>
      connections_;
  Liveness liveness_;
};

}  // namespace bt::client

#endif  // CLIENT_NET_UDP_TRACKER_CLIENT_H_
