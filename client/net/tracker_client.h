// TrackerClient: one announce or scrape to any tracker URL (http, https,
// udp) on the EventLoop, reporting the seed's tracker_* events. It is the
// single place where the client talks to trackers; TrackerAnnouncer drives
// it for a torrent's tiers, `bt announce`/`bt scrape` use it directly.
//
//   ASSIGN_OR_RETURN(auto trackers, TrackerClient::Create(loop, {}));
//   trackers->Announce(url, request,
//       [](const bt::tracker::TrackerEvent& e) { ... },
//       [](absl::StatusOr<bt::tracker::AnnounceResponse> r) { ... });
//
// Every announce ends with exactly one tracker_success or tracker_failure
// event, then `done`. HTTP announces also report tracker_connect /
// tracker_disconnect; both transports report tracker_read / tracker_write.
#ifndef CLIENT_NET_TRACKER_CLIENT_H_
#define CLIENT_NET_TRACKER_CLIENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/hash.h"
#include "base/liveness.h"
#include "client/net/event_loop.h"
#include "client/net/http_fetch.h"
#include "client/net/resolver.h"
#include "client/net/udp_tracker_client.h"
#include "tracker/announce.h"
#include "tracker/http_tracker.h"
#include "tracker/tracker_events.h"
#include "tracker/udp_tracker.h"

namespace bt::client {

struct TrackerClientOptions {
  // http.resolver is ignored: the TrackerClient resolves names off the
  // loop's thread with its own Resolver.
  HttpFetchOptions http;
  tracker::UdpTrackerOptions udp;
  tracker::HttpTrackerParseOptions parse;
};

class TrackerClient {
 public:
  using EventSink = std::function<void(const tracker::TrackerEvent&)>;
  using AnnounceDone =
      std::function<void(absl::StatusOr<tracker::AnnounceResponse>)>;
  using ScrapeDone = std::function<void(absl::StatusOr<tracker::ScrapeResponse>)>;

  static absl::StatusOr<std::unique_ptr<TrackerClient>> Create(
      EventLoop* loop, TrackerClientOptions options);
  ~TrackerClient();

  // Announce sends `request` to `url`. `done` gets the tracker's response
  // (possibly with failure_reason: the tracker refused) or an error (DNS,
  // connect, TLS, time-out, non-200 HTTP status, malformed reply). `sink`
  // and `done` run from the loop and must not destroy the TrackerClient.
  uint64_t Announce(const std::string& url, const tracker::AnnounceRequest& request,
                    EventSink sink, AnnounceDone done);
  // Scrape asks `url` about `info_hashes` (HTTP: the BEP 48 scrape URL
  // derived from the announce URL; UDP: a BEP 15 scrape).
  uint64_t Scrape(const std::string& url, std::vector<Sha1Hash> info_hashes,
                  ScrapeDone done);
  // Cancel drops a request without further events or callbacks.
  void Cancel(uint64_t id);

 private:
  TrackerClient(EventLoop* loop, TrackerClientOptions options)
      : loop_(loop), options_(std::move(options)), resolver_(loop) {
    options_.http.resolver = &resolver_;
  }

  EventLoop* loop_;
  TrackerClientOptions options_;
  Resolver resolver_;
  std::unique_ptr<UdpTrackerClient> udp_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<HttpFetch>> http_;  // by our id
  std::map<uint64_t, uint64_t> udp_ids_;                 // our id -> udp id
  Liveness liveness_;
};

}  // namespace bt::client

#endif  // CLIENT_NET_TRACKER_CLIENT_H_
