// Tracker events with the fields of Net::BitTorrent's tracker_* callbacks,
// as owned values (nothing in them dangles after the callback returns).
// client/ emits them while it talks to trackers; `tracker` is the
// tracker's announce URL, which identifies it.
//
//   announcer.set_event_sink([](const bt::tracker::TrackerEvent& e) {
//     if (auto* s = std::get_if<bt::tracker::TrackerSuccessEvent>(&e))
//       printf("%zu peers from %s\n", s->peers.size(), s->tracker.c_str());
//   });
#ifndef TRACKER_TRACKER_EVENTS_H_
#define TRACKER_TRACKER_EVENTS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/endpoint.h"
#include "tracker/announce.h"

namespace bt::tracker {

// tracker_connect: a TCP connection to an HTTP(S) tracker was established
// for an announce with `event` (UDP trackers have no connection).
struct TrackerConnectEvent {
  std::string tracker;
  AnnounceEvent event = AnnounceEvent::kNone;
};

// tracker_disconnect: that connection was closed (after success or not).
struct TrackerDisconnectEvent {
  std::string tracker;
};

// tracker_success: an announce succeeded.
struct TrackerSuccessEvent {
  std::string tracker;
  AnnounceEvent event = AnnounceEvent::kNone;
  std::optional<int64_t> complete;
  std::optional<int64_t> incomplete;
  std::vector<Endpoint> peers;
  std::optional<int64_t> interval;
  std::optional<int64_t> min_interval;
  std::optional<std::string> warning_message;
  std::optional<Endpoint> external_ip;
};

// tracker_failure: an announce failed; `reason` is the tracker's failure
// reason ("tracker: ...") or what went wrong locally (DNS, connect,
// time-out, malformed reply, ...).
struct TrackerFailureEvent {
  std::string tracker;
  AnnounceEvent event = AnnounceEvent::kNone;
  std::string reason;
};

// tracker_read / tracker_write: bytes received from / sent to a tracker.
struct TrackerReadEvent {
  std::string tracker;
  size_t length = 0;
};
struct TrackerWriteEvent {
  std::string tracker;
  size_t length = 0;
};

using TrackerEvent =
    std::variant<TrackerConnectEvent, TrackerDisconnectEvent,
                 TrackerSuccessEvent, TrackerFailureEvent, TrackerReadEvent,
                 TrackerWriteEvent>;

// TrackerEventName returns the seed's name: "tracker_connect", ...
const char* TrackerEventName(const TrackerEvent& e);

// MakeSuccessEvent builds the tracker_success event for `response`.
TrackerSuccessEvent MakeSuccessEvent(std::string tracker, AnnounceEvent event,
                                     const AnnounceResponse& response);

}  // namespace bt::tracker

#endif  // TRACKER_TRACKER_EVENTS_H_
