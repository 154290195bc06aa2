#include "client/session/pex_tracker.h"

#include "absl/container/flat_hash_set.h"

namespace bt::client {

std::optional<protocol::PexMessage> PexTracker::Update(
    const std::vector<std::pair<Endpoint, uint8_t>>& current,
    const std::optional<Endpoint>& self) {
  protocol::PexMessage pex;
  absl::flat_hash_set<Endpoint> now_known;
  for (const auto& [e, flags] : current) {
    if (self && e == *self) continue;
    now_known.insert(e);
    if (told_.contains(e) ||
        pex.added.size() + pex.added6.size() >= kMaxPerMessage) {
      continue;
    }
    (e.is_v4() ? pex.added : pex.added6).push_back(e);
    (e.is_v4() ? pex.added_flags : pex.added6_flags).push_back(flags);
    told_.insert(e);
  }
  for (auto it = told_.begin(); it != told_.end();) {
    if (!now_known.contains(*it) &&
        pex.dropped.size() + pex.dropped6.size() < kMaxPerMessage) {
      (it->is_v4() ? pex.dropped : pex.dropped6).push_back(*it);
      it = told_.erase(it);
    } else {
      ++it;
    }
  }
  if (pex.added.empty() && pex.added6.empty() && pex.dropped.empty() &&
      pex.dropped6.empty()) {
    return std::nullopt;
  }
  return pex;
}

}  // namespace bt::client
