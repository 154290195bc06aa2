#include "tracker/announce.h"

namespace bt::tracker {

const char* AnnounceEventName(AnnounceEvent e) {
  switch (e) {
    case AnnounceEvent::kNone:
      return "";
    case AnnounceEvent::kCompleted:
      return "completed";
    case AnnounceEvent::kStarted:
      return "started";
    case AnnounceEvent::kStopped:
      return "stopped";
  }
  return "";
}

}  // namespace bt::tracker
