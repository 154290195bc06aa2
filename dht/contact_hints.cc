#include "dht/contact_hints.h"

#include <algorithm>

namespace bt::dht {

ContactHints::ContactHints(ContactHintOptions options)
    : options_(options),
      pings_(options.pings_per_second, options.ping_burst, options.ping_burst) {}

void ContactHints::Expire(absl::Time now) {
  while (!entries_.empty() &&
         now - entries_.front().added >= options_.lifetime) {
    entries_.pop_front();
  }
}

bool ContactHints::Add(const Endpoint& endpoint, absl::Time now) {
  Expire(now);
  auto same = [&](const Entry& e) { return e.endpoint == endpoint; };
  if (std::any_of(entries_.begin(), entries_.end(), same)) return false;
  if (entries_.size() >= options_.max_hints) {
    auto pinged = std::find_if(entries_.begin(), entries_.end(),
                               [](const Entry& e) { return e.pinged; });
    if (pinged == entries_.end()) return false;
    entries_.erase(pinged);
  }
  entries_.push_back(Entry{endpoint, now});
  return true;
}

std::vector<Endpoint> ContactHints::Due(absl::Time now, size_t max) {
  Expire(now);
  pings_.Refill(now);
  std::vector<Endpoint> out;
  for (Entry& e : entries_) {
    if (out.size() >= max || pings_.tokens() < 1) break;
    if (e.pinged) continue;
    e.pinged = true;
    pings_.Take(1);
    out.push_back(e.endpoint);
  }
  return out;
}

size_t ContactHints::waiting() const {
  return static_cast<size_t>(
      std::count_if(entries_.begin(), entries_.end(),
                    [](const Entry& e) { return !e.pinged; }));
}

}  // namespace bt::dht
