// TrackerAnnouncer: announces one torrent to its trackers on the EventLoop,
// following BEP 12 (tracker/multitracker.h decides whom and when;
// TrackerClient does the I/O). Peers and everything else arrive as the
// seed's tracker_* events.
//
//   TrackerAnnouncer announcer(loop, trackers.get(), info_hash, tiers,
//                              is_private, options,
//                              [&] { return TransferStats{up, down, left}; },
//                              [&](const bt::tracker::TrackerEvent& e) {...});
//   announcer.Start();
//   ... announcer.SetCompleted(); ...
//   announcer.Stop();                    // sends "stopped"
//   while (!announcer.stopped()) loop->RunOnce(0.1);
#ifndef CLIENT_TRACKER_ANNOUNCER_H_
#define CLIENT_TRACKER_ANNOUNCER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "base/hash.h"
#include "base/liveness.h"
#include "client/net/event_loop.h"
#include "client/net/tracker_client.h"
#include "tracker/multitracker.h"
#include "tracker/tracker_events.h"

namespace bt::client {

class TrackerAnnouncer {
 public:
  // TransferStats are the counters sent with each announce.
  struct TransferStats {
    int64_t uploaded = 0;
    int64_t downloaded = 0;
    int64_t left = 0;
  };
  struct Options {
    PeerId peer_id;
    uint16_t port = 0;
    // key (BEP 7): random per torrent session when left unset.
    std::optional<uint32_t> key;
    std::optional<int32_t> numwant = 200;
    tracker::MultitrackerOptions multitracker;
  };

  // `trackers` must outlive the announcer. `stats` is asked for counters
  // when each announce is built; `sink` receives every tracker event.
  TrackerAnnouncer(EventLoop* loop, TrackerClient* trackers,
                   Sha1Hash info_hash,
                   std::vector<std::vector<std::string>> tiers,
                   bool is_private, Options options,
                   std::function<TransferStats()> stats,
                   TrackerClient::EventSink sink);
  ~TrackerAnnouncer();

  void Start();
  void SetCompleted();
  void Stop();
  void Reannounce();
  // stopped: after Stop(), once every "stopped" announce finished.
  bool stopped() const { return multitracker_.stopped(); }
  const tracker::Multitracker& multitracker() const { return multitracker_; }
  // AddTracker: see Multitracker::AddTracker (refused for private torrents).
  absl::Status AddTracker(std::string url, size_t tier);

 private:
  void Pump();

  EventLoop* loop_;
  TrackerClient* trackers_;
  Sha1Hash info_hash_;
  Options options_;
  uint32_t key_;
  std::function<TransferStats()> stats_;
  TrackerClient::EventSink sink_;
  tracker::Multitracker multitracker_;
  absl::flat_hash_set<uint64_t> requests_;  // TrackerClient ids in flight
  EventLoop::TimerId timer_ = 0;
  Liveness liveness_;
};

}  // namespace bt::client

#endif  // CLIENT_TRACKER_ANNOUNCER_H_
