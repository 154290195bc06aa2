// RoutingTable: the BEP 5 routing table of one DHT node. The 160-bit id
// space is covered by up to 160 buckets of K contacts; only the bucket that
// holds our own id splits when full, so the table is detailed near our id and
// coarse far from it. Each bucket keeps a small replacement cache of contacts
// that did not fit. Liveness follows BEP 5: a contact is good if it answered
// a query of ours within 15 minutes (or answered once and queried us within
// 15 minutes), questionable when that ages out, and bad after repeated
// timeouts; bad contacts are replaced from the replacement cache.
//
// Sans-I/O: the table never sends anything. The owner reports what happened
// (OnResponse, OnQuery, OnTimeout), asks which questionable contact to ping
// (what Add returns) and which buckets to refresh (StaleBuckets).
//
//   bt::dht::RoutingTable table(my_id);
//   table.OnResponse({id, endpoint}, now);
//   std::vector<bt::dht::NodeInfo> closest = table.Closest(target, 8);
#ifndef DHT_ROUTING_TABLE_H_
#define DHT_ROUTING_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "metainfo/compact.h"

namespace bt::dht {

using metainfo::NodeInfo;

struct RoutingTableOptions {
  size_t bucket_size = 8;       // K
  size_t replacement_size = 8;  // replacement cache entries per bucket
  // A contact that missed this many queries in a row is bad.
  int max_failures = 2;
  // BEP 5's 15 minutes: good -> questionable, and bucket staleness.
  absl::Duration good_interval = absl::Minutes(15);
  // At most one contact per IP address (loopback exempt), so one host
  // cannot fill the table.
  bool one_contact_per_ip = true;
  // BEP 42 enforcement (libtorrent's dht_enforce_node_id): a node whose id
  // does not match its address (IsSecureNodeId) is never added, neither to
  // a bucket nor to a replacement cache. Local addresses are exempt, as
  // BEP 42 says (IsBep42Exempt).
  bool enforce_node_id = false;
};

// Contact is one entry of the table with its liveness bookkeeping.
struct Contact {
  NodeInfo node;
  absl::Time last_response = absl::InfinitePast();  // answered one of ours
  absl::Time last_query = absl::InfinitePast();     // queried us
  absl::Time added = absl::InfinitePast();
  int failures = 0;  // consecutive timeouts
  bool confirmed = false;  // ever answered a query of ours

  // IsBad: missed `max_failures` queries in a row, or any query before it
  // ever answered one.
  bool IsBad(int max_failures) const {
    return failures >= (confirmed ? max_failures : 1);
  }
  bool IsGood(absl::Time now, absl::Duration interval, int max_failures) const;
};

class RoutingTable {
 public:
  explicit RoutingTable(const NodeId& own_id, RoutingTableOptions options = {});

  const NodeId& own_id() const { return own_id_; }
  const RoutingTableOptions& options() const { return options_; }

  // OnResponse records that `node` answered one of our queries: it becomes
  // good, is inserted if there is room (splitting our bucket when needed),
  // else it goes to the replacement cache (unless `enforce_node_id` refuses
  // it, here and in OnQuery). If the bucket is full of
  // contacts and one is questionable, that contact is returned: the owner
  // should ping it (a timeout then makes room via OnTimeout).
  std::optional<NodeInfo> OnResponse(const NodeInfo& node, absl::Time now);

  // OnQuery records a query from `node` (not proof that it answers): a
  // known contact is refreshed; an unknown one is added unconfirmed if
  // there is room, else cached as a replacement. Returns a questionable
  // contact to ping, as OnResponse does.
  std::optional<NodeInfo> OnQuery(const NodeInfo& node, absl::Time now);

  // OnTimeout records that a query to `node` went unanswered. A contact that
  // becomes bad is replaced by the freshest replacement, if any.
  void OnTimeout(const NodeInfo& node);

  // Remove drops a contact (e.g. it answered with an id that does not match).
  void Remove(const NodeId& id);

  // Closest returns up to `count` contacts that are not bad, nearest to
  // `target` first. Confirmed contacts only unless `include_unconfirmed`.
  std::vector<NodeInfo> Closest(const NodeId& target, size_t count,
                                bool include_unconfirmed = false) const;

  // StaleBuckets returns one random target inside each bucket that has had
  // no activity for `good_interval` (every bucket if `all`), and marks those
  // buckets refreshed at `now` (so each is reported once per interval).
  // `random` supplies the random bits.
  std::vector<NodeId> StaleBuckets(absl::Time now, const NodeId& random,
                                   bool all = false);

  // Questionable returns contacts that are neither good nor bad, oldest
  // first, up to `count`: the owner pings them to keep the table fresh.
  std::vector<NodeInfo> Questionable(absl::Time now, size_t count) const;

  // Find returns the contact with `id`, or nullptr.
  const Contact* Find(const NodeId& id) const;

  // AllContacts lists every contact in the buckets (not the caches).
  std::vector<NodeInfo> AllContacts() const;

  size_t size() const;            // contacts in buckets
  size_t replacement_count() const;
  size_t bucket_count() const { return buckets_.size(); }
  size_t GoodCount(absl::Time now) const;

 private:
  struct Bucket {
    std::vector<Contact> contacts;
    std::vector<Contact> replacements;  // newest last
    absl::Time last_changed = absl::InfinitePast();
  };

  size_t BucketIndex(const NodeId& id) const;
  bool CanSplit() const;
  void Split();
  bool IpTaken(const Endpoint& ep, const NodeId& except) const;
  std::optional<NodeInfo> Insert(const NodeInfo& node, absl::Time now,
                                 bool responded);
  void AddReplacement(Bucket& b, Contact c);

  NodeId own_id_;
  RoutingTableOptions options_;
  std::vector<Bucket> buckets_;
};

}  // namespace bt::dht

#endif  // DHT_ROUTING_TABLE_H_
