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

}  // namespace bt::client
