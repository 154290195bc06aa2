#include "dht/rate_limiter.h"

namespace bt::dht {

RateLimiter::RateLimiter(RateLimiterOptions options)
    : options_(options),
      global_(options.global_rate, options.global_burst, options.global_burst) {}

void RateLimiter::EvictIdle(absl::Time now) {
  // Sources whose buckets have refilled completely carry no information.
  for (auto it = sources_.begin(); it != sources_.end();) {
    TokenBucket b = it->second;
    b.Refill(now);
    if (b.full()) {
      sources_.erase(it++);
    } else {
      ++it;
    }
  }
}

bool RateLimiter::Allow(const Endpoint& source, absl::Time now) {
  global_.Refill(now);
  if (source.IsLoopback()) {
    if (global_.tokens() < 1) {
      ++dropped_;
      return false;
    }
    global_.Take(1);
    return true;
  }
  Endpoint key = source;
  key.set_port(0);
  auto it = sources_.find(key);
  if (it == sources_.end()) {
    // A full scan at most once a second, so a flood of new sources costs
    // constant work per packet.
    if (sources_.size() >= options_.max_sources &&
        now - last_eviction_ >= absl::Seconds(1)) {
      last_eviction_ = now;
      EvictIdle(now);
    }
    if (sources_.size() >= options_.max_sources) {
      ++dropped_;
      return false;
    }
    it = sources_
             .emplace(key, TokenBucket(options_.per_source_rate,
                                       options_.per_source_burst,
                                       options_.per_source_burst))
             .first;
  }
  TokenBucket& b = it->second;
  b.Refill(now);
  if (b.tokens() < 1 || global_.tokens() < 1) {
    ++dropped_;
    return false;
  }
  b.Take(1);
  global_.Take(1);
  return true;
}

}  // namespace bt::dht
