// Lookup: the state of one iterative Kademlia lookup (BEP 5 find_node /
// get_peers) towards a 160-bit target. It keeps the candidates found so far
// ordered by distance, hands out up to `alpha` queries at a time, and is done
// when the K closest candidates that did not fail have all answered — or
// when its query or time budget runs out. Sans-I/O: the owner sends the
// queries NextQueries returns and reports answers and failures back.
//
//   bt::dht::Lookup lookup(target, options, now);
//   lookup.AddCandidate(node);                   // from the routing table
//   for (const bt::Endpoint& to : lookup.NextQueries(now)) send(to);
//   lookup.OnResponse(from, id, secure, nodes, token, now);
//   if (lookup.Done(now)) use(lookup.Closest());
#ifndef DHT_LOOKUP_H_
#define DHT_LOOKUP_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "metainfo/compact.h"

namespace bt::dht {

using metainfo::NodeInfo;

struct LookupOptions {
  size_t alpha = 3;   // queries in flight at once
  size_t k = 8;       // converge on this many closest answering nodes
  size_t max_queries = 200;
  size_t max_candidates = 256;  // candidates kept (the farthest are dropped)
  absl::Duration max_duration = absl::Seconds(30);
  // A query unanswered this long no longer holds one of the alpha slots
  // (its answer is still used if it comes).
  absl::Duration slow_after = absl::Seconds(1);
  // Queries sent to one node before a timeout counts as its failure.
  int max_attempts = 2;
  // BEP 42 enforcement: answers from nodes whose id does not match their
  // address are used for routing but do not count towards the K closest.
  bool enforce_node_id = false;
};

// One answering node near the target, with the token it gave (get_peers).
struct LookupHit {
  NodeInfo node;
  std::string token;
  bool has_token = false;
};

class Lookup {
 public:
  Lookup(const NodeId& target, LookupOptions options, absl::Time now);

  const NodeId& target() const { return target_; }

  // AddCandidate adds a node to ask (ignored if its endpoint was seen).
  void AddCandidate(const NodeInfo& node);
  // AddBootstrap adds an endpoint whose id is not known yet; it is asked
  // first and placed by the id it answers with.
  void AddBootstrap(const Endpoint& endpoint);

  // NextQueries returns the endpoints to query now and marks them in flight.
  std::vector<Endpoint> NextQueries(absl::Time now);

  // OnResponse reports an answer from `from` (which must have been returned
  // by NextQueries; others are ignored) with the nodes it gave.
  // `secure` says whether its id matches its address (BEP 42).
  void OnResponse(const Endpoint& from, const NodeId& id, bool secure,
                  const std::vector<NodeInfo>& nodes,
                  const std::optional<std::string>& token, absl::Time now);
  // OnFailure reports a timeout (`timed_out`) or an error reply from
  // `from`. A timed-out node is asked once more (datagrams get lost) before
  // it counts as failed.
  void OnFailure(const Endpoint& from, bool timed_out = false);

  // Done is true when the lookup converged or ran out of budget.
  bool Done(absl::Time now) const;

  // Closest returns the K nearest answering nodes (secure ones only when
  // enforcing), nearest first.
  std::vector<LookupHit> Closest() const;

  size_t queries_sent() const { return queries_sent_; }
  size_t responses() const { return responses_; }
  size_t in_flight() const { return in_flight_; }
  absl::Time started() const { return started_; }

 private:
  enum class State { kFresh, kInFlight, kAnswered, kFailed };
  struct Candidate {
    NodeInfo node;
    bool id_known = true;
    State state = State::kFresh;
    absl::Time sent;
    bool secure = true;
    std::string token;
    bool has_token = false;
    int attempts = 0;
  };
  bool Counts(const Candidate& c) const;
  Candidate* FindByEndpoint(const Endpoint& ep);
  void Insert(Candidate c);

  NodeId target_;
  LookupOptions options_;
  absl::Time started_;
  std::vector<Candidate> candidates_;  // unknown ids first, then by distance
  absl::flat_hash_set<Endpoint> seen_;
  size_t queries_sent_ = 0;
  size_t responses_ = 0;
  size_t in_flight_ = 0;
};

}  // namespace bt::dht

#endif  // DHT_LOOKUP_H_
