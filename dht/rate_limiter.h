// RateLimiter: per-source token buckets that bound how many queries a DHT
// node answers for one IP address, plus one global bucket, so the node
// cannot be used to amplify traffic towards a victim (spoofed source
// addresses) nor be kept busy by one flooding host. Memory is bounded: at
// most `max_sources` addresses are tracked; when full, idle ones are
// evicted and, failing that, new sources are refused.
//
//   bt::dht::RateLimiter limiter;
//   if (!limiter.Allow(from.address_bytes(), now)) return;  // drop silently
#ifndef DHT_RATE_LIMITER_H_
#define DHT_RATE_LIMITER_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "base/bytes.h"

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

  // Allow consumes one token for `address` (4 or 16 address bytes) and for
  // the global bucket; false (nothing consumed) if either is empty or the
  // source table is full of busy addresses. Loopback sources (127/8, ::1)
  // share only the global bucket: they cannot be spoofed from outside, and
  // every node of a loopback test network has the same address.
  bool Allow(ByteSpan address, absl::Time now);

  size_t tracked_sources() const { return sources_.size(); }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  static void Refill(Bucket& b, double rate, double burst, absl::Time now);
  void EvictIdle(absl::Time now);

  RateLimiterOptions options_;
  Bucket global_;
  // Key: up to 16 address bytes, then the address length.
  absl::flat_hash_map<std::array<uint8_t, 17>, Bucket> sources_;
  absl::Time last_eviction_ = absl::InfinitePast();
  uint64_t dropped_ = 0;
};

}  // namespace bt::dht

#endif  // DHT_RATE_LIMITER_H_
