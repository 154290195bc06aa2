#include "dht/rate_limiter.h"

#include <algorithm>

namespace bt::dht {

RateLimiter::RateLimiter(RateLimiterOptions options)
    : options_(options),
      global_{options.global_burst, absl::InfinitePast()} {}

void RateLimiter::Refill(Bucket& b, double rate, double burst, absl::Time now) {
  if (b.updated == absl::InfinitePast()) {
    b.tokens = burst;
  } else if (now > b.updated) {
    b.tokens = std::min(burst,
                        b.tokens + absl::ToDoubleSeconds(now - b.updated) * rate);
  }
  b.updated = std::max(b.updated, now);
}

void RateLimiter::EvictIdle(absl::Time now) {
  // Sources whose buckets have refilled completely carry no information.
  for (auto it = sources_.begin(); it != sources_.end();) {
    Bucket b = it->second;
    Refill(b, options_.per_source_rate, options_.per_source_burst, now);
    if (b.tokens >= options_.per_source_burst) {
      sources_.erase(it++);
    } else {
      ++it;
    }
  }
}

bool RateLimiter::Allow(ByteSpan address, absl::Time now) {
  std::array<uint8_t, 17> key{};
  std::copy_n(address.begin(), std::min<size_t>(address.size(), 16), key.begin());
  key[16] = static_cast<uint8_t>(address.size());
  Refill(global_, options_.global_rate, options_.global_burst, now);
  bool loopback = address.size() == 4 && address[0] == 127;
  if (address.size() == 16) {
    loopback = address[15] == 1;
    for (size_t i = 0; i < 15; ++i) loopback = loopback && address[i] == 0;
  }
  if (loopback) {
    if (global_.tokens < 1) {
      ++dropped_;
      return false;
    }
    global_.tokens -= 1;
    return true;
  }
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
    it = sources_.emplace(key, Bucket{options_.per_source_burst, now}).first;
  }
  Bucket& b = it->second;
  Refill(b, options_.per_source_rate, options_.per_source_burst, now);
  if (b.tokens < 1 || global_.tokens < 1) {
    ++dropped_;
    return false;
  }
  b.tokens -= 1;
  global_.tokens -= 1;
  return true;
}

}  // namespace bt::dht
