#include "client/events.h"

#include <array>

namespace bt::client {
namespace {

constexpr std::array<std::string_view, kEventTypeCount> kNames = {
#define BT_EVENT_NAME(name, text) text,
    BT_CLIENT_EVENTS(BT_EVENT_NAME)
#undef BT_EVENT_NAME
};

}  // namespace

std::string_view EventName(EventType type) {
  return kNames[static_cast<size_t>(type)];
}

std::optional<EventType> EventTypeFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

Event EventFromTracker(const tracker::TrackerEvent& te) {
  Event e;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        e.tracker = v.tracker;
        if constexpr (std::is_same_v<T, tracker::TrackerConnectEvent>) {
          e.type = EventType::kTrackerConnect;
          e.announce_event = tracker::AnnounceEventName(v.event);
        } else if constexpr (std::is_same_v<T,
                                            tracker::TrackerDisconnectEvent>) {
          e.type = EventType::kTrackerDisconnect;
        } else if constexpr (std::is_same_v<T, tracker::TrackerSuccessEvent>) {
          e.type = EventType::kTrackerSuccess;
          e.announce_event = tracker::AnnounceEventName(v.event);
          e.complete = v.complete;
          e.incomplete = v.incomplete;
          e.interval = v.interval;
          e.min_interval = v.min_interval;
          e.peers = v.peers;
        } else if constexpr (std::is_same_v<T, tracker::TrackerFailureEvent>) {
          e.type = EventType::kTrackerFailure;
          e.announce_event = tracker::AnnounceEventName(v.event);
          e.reason = v.reason;
        } else if constexpr (std::is_same_v<T, tracker::TrackerReadEvent>) {
          e.type = EventType::kTrackerRead;
          e.length = static_cast<int64_t>(v.length);
        } else {
          e.type = EventType::kTrackerWrite;
          e.length = static_cast<int64_t>(v.length);
        }
      },
      te);
  return e;
}

}  // namespace bt::client
