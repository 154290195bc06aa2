// Announce and scrape as plain values, independent of the transport: what a
// client tells a tracker (AnnounceRequest) and what it learns back
// (AnnounceResponse, ScrapeResponse). http_tracker.h and udp_tracker.h
// encode and decode these for HTTP(S) and UDP trackers.
//
//   bt::tracker::AnnounceRequest req;
//   req.info_hash = ih;
//   req.peer_id = my_id;
//   req.port = 6881;
//   req.left = total_size;
//   req.event = bt::tracker::AnnounceEvent::kStarted;
#ifndef TRACKER_ANNOUNCE_H_
#define TRACKER_ANNOUNCE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/endpoint.h"
#include "base/hash.h"

namespace bt::tracker {

// Time in the tracker layer is a value passed in by the caller (client/
// passes EventLoop::Now()); nothing here reads a clock.
using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

// AnnounceEvent is the announce's `event`; the numbers are BEP 15's.
enum class AnnounceEvent : uint32_t {
  kNone = 0,
  kCompleted = 1,
  kStarted = 2,
  kStopped = 3,
};

// AnnounceEventName returns "", "completed", "started" or "stopped" (the
// HTTP parameter value; "" for kNone).
const char* AnnounceEventName(AnnounceEvent e);

struct AnnounceRequest {
  Sha1Hash info_hash;
  PeerId peer_id;
  uint16_t port = 0;
  int64_t uploaded = 0;
  int64_t downloaded = 0;
  int64_t left = 0;
  AnnounceEvent event = AnnounceEvent::kNone;
  // numwant: peers wanted; nullopt leaves it to the tracker (UDP sends -1).
  std::optional<int32_t> numwant;
  // key (BEP 7): stays the same for a torrent during a session.
  uint32_t key = 0;
  // tracker_id: the "tracker id" an HTTP tracker returned last time; sent
  // back as `trackerid` (HTTP only; empty = omitted).
  std::string tracker_id;
  // ip (BEP 3) / ipv6 (BEP 7): optional addresses to announce as text; empty
  // = omitted. UDP carries `ip` only when it is a dotted IPv4 address.
  std::string ip;
  std::string ipv6;
  bool compact = true;      // HTTP `compact=1`
  bool no_peer_id = false;  // HTTP `no_peer_id=1`
};

// A peer from a tracker; `peer_id` only when the tracker sent the
// dictionary form with a "peer id".
struct TrackerPeer {
  Endpoint endpoint;
  std::optional<PeerId> peer_id;

  friend bool operator==(const TrackerPeer&, const TrackerPeer&) = default;
};

struct AnnounceResponse {
  // failure_reason: set when the tracker refused the announce (HTTP
  // "failure reason" or a UDP error packet); the other fields are then
  // unset or empty, except retry hints.
  std::optional<std::string> failure_reason;
  std::optional<std::string> warning_message;
  // interval / min_interval in seconds, as the tracker sent them.
  std::optional<int64_t> interval;
  std::optional<int64_t> min_interval;
  std::optional<std::string> tracker_id;
  std::optional<int64_t> complete;    // seeders
  std::optional<int64_t> incomplete;  // leechers
  std::optional<int64_t> downloaded;  // snatches, when reported
  // peers: IPv4 then IPv6 ("peers" then "peers6"), in tracker order.
  std::vector<TrackerPeer> peers;
  // peers_skipped: dictionary-form peers given by host name (which would
  // need DNS) or with an unusable address/port; they are not in `peers`.
  int peers_skipped = 0;
  // external_ip (BEP 24): our address as the tracker saw it (port 0).
  std::optional<Endpoint> external_ip;
};

struct ScrapeEntry {
  Sha1Hash info_hash;
  int64_t complete = 0;    // seeders
  int64_t incomplete = 0;  // leechers
  int64_t downloaded = 0;  // completed downloads ever

  friend bool operator==(const ScrapeEntry&, const ScrapeEntry&) = default;
};

struct ScrapeResponse {
  std::optional<std::string> failure_reason;
  std::vector<ScrapeEntry> files;

  // Find returns the entry for `info_hash`, or nullptr.
  const ScrapeEntry* Find(const Sha1Hash& info_hash) const {
    for (const ScrapeEntry& e : files) {
      if (e.info_hash == info_hash) return &e;
    }
    return nullptr;
  }
};

}  // namespace bt::tracker

#endif  // TRACKER_ANNOUNCE_H_
