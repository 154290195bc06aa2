#include "tracker/tracker_events.h"

namespace bt::tracker {

const char* TrackerEventName(const TrackerEvent& e) {
  static constexpr const char* kNames[] = {
      "tracker_connect", "tracker_disconnect", "tracker_success",
      "tracker_failure", "tracker_read",       "tracker_write"};
  return kNames[e.index()];
}

TrackerSuccessEvent MakeSuccessEvent(std::string tracker, AnnounceEvent event,
                                     const AnnounceResponse& response) {
  TrackerSuccessEvent s;
  s.tracker = std::move(tracker);
  s.event = event;
  s.complete = response.complete;
  s.incomplete = response.incomplete;
  s.peers.reserve(response.peers.size());
  for (const TrackerPeer& p : response.peers) s.peers.push_back(p.endpoint);
  s.interval = response.interval;
  s.min_interval = response.min_interval;
  s.warning_message = response.warning_message;
  s.external_ip = response.external_ip;
  return s;
}

}  // namespace bt::tracker
