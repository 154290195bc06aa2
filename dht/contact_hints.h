// ContactHints: endpoints that may be DHT nodes, learned from parties we do
// not trust as routers, such as the PORT messages of peers (BEP 5). Unlike
// bootstrap nodes they are never queried in lookups: the node pings each
// one once, at a bounded rate, and only one that answers enters the routing
// table. The set is bounded and forgets an endpoint `lifetime` after it was
// hinted; while it is remembered, hinting it again does nothing, so peers
// cannot make the node ping one address over and over.
//
//   bt::dht::ContactHints hints;
//   hints.Add(endpoint_from_port_message, now);
//   for (const bt::Endpoint& e : hints.Due(now, 4)) ping(e);   // each tick
#ifndef DHT_CONTACT_HINTS_H_
#define DHT_CONTACT_HINTS_H_

#include <cstddef>
#include <deque>
#include <vector>

#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/token_bucket.h"

namespace bt::dht {

struct ContactHintOptions {
  size_t max_hints = 64;  // endpoints remembered at once
  absl::Duration lifetime = absl::Minutes(10);
  double pings_per_second = 2;  // hints pinged, sustained
  double ping_burst = 8;
};

class ContactHints {
 public:
  explicit ContactHints(ContactHintOptions options = {});

  // Add remembers `endpoint` to be pinged. Returns false, ignoring it, if
  // it is remembered already (pinged or not) or if every slot holds a hint
  // still waiting for its ping; otherwise, when full, the oldest hint
  // already pinged makes room.
  bool Add(const Endpoint& endpoint, absl::Time now);

  // Due returns up to `max` waiting hints to ping now, oldest first, within
  // the ping rate. They stay remembered, as pinged, until they expire.
  std::vector<Endpoint> Due(absl::Time now, size_t max);

  size_t size() const { return entries_.size(); }  // remembered
  size_t waiting() const;                           // not pinged yet

 private:
  struct Entry {
    Endpoint endpoint;
    absl::Time added;
    bool pinged = false;
  };
  void Expire(absl::Time now);

  ContactHintOptions options_;
  std::deque<Entry> entries_;  // oldest first
  TokenBucket pings_;
};

}  // namespace bt::dht

#endif  // DHT_CONTACT_HINTS_H_
