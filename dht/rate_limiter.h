// RateLimiter: per-source token buckets that bound how many queries a DHT
// node answers for one IP address, plus one global bucket, so the node
// cannot be used to amplify traffic towards a victim (spoofed source
// addresses) nor be kept busy by one flooding host. Memory is bounded: at
// most `max_sources` addresses are tracked; when full, idle ones are
// evicted and, failing that, new sources are refused.
//
//   bt::dht::RateLimiter limiter;
//   if (!limiter.Allow(from, now)) return;  // drop silently
#ifndef DHT_RATE_LIMITER_H_
#define DHT_RATE_LIMITER_H_

#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/token_bucket.h"

namespace bt::dht {

struct RateLimiterOptions {
  double per_source_rate = 10;   // queries per second answered per address
  double per_source_burst = 40;  // bucket size per address
  double global_rate = 1000;     // queries per second answered in total
  double global_burst = 2000;
  size_t max_sources = 10000;    // addresses tracked at once
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimiterOptions options = {});

  // Allow consumes one token for the address of `source` (its port does
  // not count) and one of the global bucket; false (nothing consumed) if
  // either is empty or the source table is full of busy addresses.
  // Loopback sources (Endpoint::IsLoopback) share only the global bucket:
  // they cannot be spoofed from outside, and every node of a loopback test
  // network has the same address.
  bool Allow(const Endpoint& source, absl::Time now);

  size_t tracked_sources() const { return sources_.size(); }
  uint64_t dropped() const { return dropped_; }

 private:
  void EvictIdle(absl::Time now);

  RateLimiterOptions options_;
  TokenBucket global_;
  // Key: the source with port 0.
  absl::flat_hash_map<Endpoint, TokenBucket> sources_;
  absl::Time last_eviction_ = absl::InfinitePast();
  uint64_t dropped_ = 0;
};

}  // namespace bt::dht

#endif  // DHT_RATE_LIMITER_H_
