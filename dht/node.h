// Node: one mainline DHT node (BEP 5) as a sans-I/O core. The owner feeds it
// received datagrams and the current time, sends the datagrams it queues,
// and gets lookup results through callbacks. It serves ping, find_node,
// get_peers, announce_peer, get, put and sample_infohashes to others (with rotating tokens, a bounded
// peer store, per-source rate limits and capped response sizes), keeps its
// routing table alive (pings, bucket refresh), and runs iterative lookups:
// find_node, get_peers, and get_peers followed by announce_peer to the
// closest nodes. Supports BEP 32 (one Node per address family: make one
// with `ipv6 = true` for the IPv6 DHT), BEP 42 ids and enforcement, BEP 43
// read-only mode, BEP 44 get/put of immutable and mutable items, and BEP 51
// sample_infohashes (served, and as a traversal).
//
//   bt::dht::Node node(options, now);
//   node.AddBootstrapNode(bt::Endpoint::Parse("127.0.0.1:6881").value());
//   node.Bootstrap(now);
//   node.AddContactHint(endpoint_from_a_port_message, now);
//   node.GetPeers(info_hash, now, [](const bt::dht::LookupResult& r) {...});
//   // event loop:
//   node.HandlePacket(bytes, from, now);
//   node.Tick(now);                     // every ~100 ms
//   for (auto& p : node.TakeOutgoing()) socket.SendTo(p.bytes, p.to);
//
// Callbacks run inside HandlePacket/Tick, after the node's own work for that
// call; they may call back into the node. Results are owned values.
// Not thread-safe: one thread drives a Node.
#ifndef DHT_NODE_H_
#define DHT_NODE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "dht/contact_hints.h"
#include "dht/item.h"
#include "dht/item_store.h"
#include "dht/krpc.h"
#include "dht/lookup.h"
#include "dht/peer_store.h"
#include "dht/rate_limiter.h"
#include "dht/routing_table.h"
#include "dht/token_issuer.h"

namespace bt::dht {

struct NodeOptions {
  // Our id. If unset: a BEP 42 id for `external_address` if that is set,
  // else a random id.
  std::optional<NodeId> id;
  std::optional<Endpoint> external_address;
  bool ipv6 = false;       // which DHT this node is in (BEP 32)
  bool read_only = false;  // BEP 43: answer no queries, say "ro" in ours
  // BEP 42 enforcement, as libtorrent's dht_enforce_node_id: nodes whose id
  // does not match their address never enter the routing table, nor count
  // among a lookup's closest nodes. True sets `table.enforce_node_id` and
  // `lookup.enforce_node_id`. Local addresses are exempt (BEP 42).
  bool enforce_node_id = false;
  LookupOptions lookup;
  RoutingTableOptions table;
  PeerStoreOptions store;
  ItemStoreOptions items;  // BEP 44
  RateLimiterOptions rate;
  ContactHintOptions hints;  // AddContactHint
  absl::Duration query_timeout = absl::Seconds(4);
  size_t max_pending_queries = 2048;
  size_t max_lookups = 64;          // concurrent lookups, refreshes included
  size_t max_peers_per_lookup = 2000;
  size_t max_samples_per_lookup = 10000;  // BEP 51 traversals
  // BEP 51 "interval": how long askers should wait before sampling again.
  absl::Duration sample_interval = absl::Minutes(5);
  // Replies are kept within this many bytes (BEP 32: at most 1024) by
  // trimming peers, samples and nodes (dht/reply_budget.h). A BEP 44 put
  // whose item could not be served within it is refused with 205: with
  // 1024, immutable values up to about 920 bytes and mutable ones up to
  // about 800 are stored, not BEP 44's full 1000.
  size_t max_response_size = 1024;
  // Seed for the node's random choices (ids, transaction ids, secrets);
  // 0 draws everything from the system's secure generator. A fixed seed is
  // for deterministic simulations only: it makes tokens predictable.
  uint64_t seed = 0;
  std::string version = std::string("BK\x00\x01", 4);
};

// Result of a lookup. For announces, `announced` counts the nodes that
// acknowledged the announce_peer.
struct LookupResult {
  NodeId target;
  std::vector<NodeInfo> closest;  // the K closest that answered, nearest first
  std::vector<Endpoint> peers;    // get_peers / announce: peers found
  std::vector<Sha1Hash> samples;  // sample_infohashes: info-hashes seen
  std::optional<DhtItem> item;    // GetItem: the (newest) verified item
  size_t queries = 0;             // messages sent by this lookup
  size_t responses = 0;
  size_t announced = 0;
  absl::Duration duration;
};
using LookupCallback = std::function<void(const LookupResult&)>;

struct OutgoingPacket {
  std::string bytes;
  Endpoint to;
};

// Counters for monitoring and tests.
struct NodeStats {
  uint64_t packets_in = 0;
  uint64_t packets_out = 0;
  uint64_t queries_answered = 0;
  uint64_t errors_sent = 0;
  uint64_t dropped_malformed = 0;
  uint64_t dropped_rate_limited = 0;
  uint64_t dropped_unmatched = 0;  // responses to no query of ours
  uint64_t timeouts = 0;
  uint64_t announces_stored = 0;
  uint64_t bad_tokens = 0;
};

// The bencoded state a node saves to restart quickly: its id and contacts.
struct SavedState {
  NodeId id;
  std::vector<NodeInfo> nodes;  // both families
};
absl::StatusOr<SavedState> ParseSavedState(std::string_view bytes);

class Node {
 public:
  Node(NodeOptions options, absl::Time now);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const NodeId& id() const { return id_; }

  // HandlePacket processes one datagram received from `from`.
  void HandlePacket(std::string_view packet, const Endpoint& from,
                    absl::Time now);
  // Tick runs timers: query timeouts, lookup progress, table upkeep.
  void Tick(absl::Time now);
  // TakeOutgoing returns (and forgets) the datagrams to send.
  std::vector<OutgoingPacket> TakeOutgoing();

  // AddBootstrapNode remembers, for good, a node to start lookups from
  // (its id is unknown): the user's routers. Up to 64; more are ignored.
  // Addresses learned from others go to AddContactHint instead.
  void AddBootstrapNode(const Endpoint& endpoint);
  // AddContactHint takes an address that may be a DHT node from a source we
  // do not trust as a router, such as a peer's PORT message (BEP 5). It is
  // pinged once, within NodeOptions::hints' rate, and enters the routing
  // table only if it answers; it is never a bootstrap node. Hints are
  // bounded and expire (dht/contact_hints.h); unusable addresses (another
  // family, port 0, unspecified) are ignored.
  void AddContactHint(const Endpoint& endpoint, absl::Time now);
  // AddNode remembers a node whose id is known (saved state); it is asked
  // in the next bootstrap.
  void AddNode(const NodeInfo& node);

  // Bootstrap looks up our own id from the table, the added nodes and the
  // bootstrap nodes, filling the table. It is repeated automatically while
  // the table is empty.
  uint64_t Bootstrap(absl::Time now, LookupCallback done = nullptr);
  // FindNode / GetPeers / Announce start lookups; each returns a lookup id
  // (0 if too many lookups are running: the callbacks then never run).
  // GetPeers and Announce also call `found` (if given) with the peers each
  // answer adds (LookupResult::peers, nothing else filled in), as they
  // arrive: a lookup ends only when its slowest contacts answer or time
  // out, and a client should not wait that long to connect. `done` still
  // gets every peer found.
  uint64_t FindNode(const NodeId& target, absl::Time now, LookupCallback done);
  uint64_t GetPeers(const Sha1Hash& info_hash, absl::Time now,
                    LookupCallback done, LookupCallback found = nullptr);
  // Announce finds the closest nodes with get_peers, then announces `port`
  // (or the source port of our packets if `implied_port`) to them.
  uint64_t Announce(const Sha1Hash& info_hash, uint16_t port, bool implied_port,
                    absl::Time now, LookupCallback done,
                    LookupCallback found = nullptr);

  // SampleInfohashes walks towards `target` with BEP 51 sample_infohashes
  // queries (one per node, as a lookup) and collects the info-hashes the
  // nodes report in LookupResult::samples.
  uint64_t SampleInfohashes(const NodeId& target, absl::Time now,
                            LookupCallback done);

  // GetItem looks up a BEP 44 item stored at `target` (for a mutable item,
  // SHA-1 of its key and `salt`); LookupResult::item is the verified item
  // with the highest sequence number found, if any.
  uint64_t GetItem(const NodeId& target, std::string salt, absl::Time now,
                   LookupCallback done);
  // PutItem stores `item` (from MakeImmutableItem or SignMutableItem) on the
  // closest nodes; LookupResult::announced counts the acknowledgements.
  uint64_t PutItem(const DhtItem& item, absl::Time now, LookupCallback done);

  // SaveState encodes our id and the good contacts as bencode.
  std::string SaveState() const;

  // ExternalAddress is the address most nodes told us we have ("ip", BEP
  // 42), once at least 3 different nodes agreed; nullopt before.
  std::optional<Endpoint> ExternalAddress() const;

  // SuggestedId returns a BEP 42 id for ExternalAddress() when our id does
  // not match it (nullopt otherwise, or while the address is unknown). BEP
  // 42 asks a node to restart with such an id; SaveState stores it so the
  // next start uses it.
  std::optional<NodeId> SuggestedId() const;

  const RoutingTable& table() const { return table_; }
  const PeerStore& peer_store() const { return store_; }
  const ItemStore& item_store() const { return items_; }
  const ContactHints& contact_hints() const { return hints_; }
  const NodeStats& stats() const { return stats_; }
  size_t pending_queries() const { return pending_.size(); }
  size_t active_lookups() const { return lookups_.size(); }

 private:
  enum class Purpose : uint8_t { kLookup, kAnnounce, kPing };
  struct Pending {
    Endpoint to;
    std::optional<NodeId> expected_id;
    absl::Time sent;
    Purpose purpose;
    uint64_t lookup = 0;
  };
  enum class LookupKind : uint8_t {
    kFindNode,
    kGetPeers,
    kAnnounce,
    kSample,
    kGetItem,
    kPutItem,
  };
  struct LookupState {
    LookupKind kind;
    Lookup lookup;
    LookupCallback done;
    LookupCallback found;  // GetPeers / Announce: peers as they arrive
    Sha1Hash info_hash;
    uint16_t port = 0;
    bool implied_port = false;
    std::vector<Endpoint> peers;
    absl::flat_hash_set<Endpoint> peer_set;
    std::vector<Sha1Hash> samples;
    absl::flat_hash_set<Sha1Hash> sample_set;
    std::optional<DhtItem> item;  // kGetItem: best found; kPutItem: to store
    std::string salt;             // kGetItem of a mutable item
    bool bootstrap = false;  // refresh every bucket when done
    bool announcing = false;
    size_t announce_pending = 0;
    size_t announced = 0;
    size_t announce_queries = 0;
  };

  void FillRandom(MutableByteSpan out);
  NodeId RandomId();
  std::string NewTransactionId();
  bool SameFamily(const Endpoint& ep) const { return ep.is_v6() == ipv6_; }
  void Send(const Message& m, const Endpoint& to);
  bool SendQuery(Message m, const Endpoint& to, std::optional<NodeId> id,
                 Purpose purpose, uint64_t lookup, absl::Time now);
  // Ping sends a maintenance ping (a few dozen at most in flight) to `to`,
  // expecting `id` if known.
  void Ping(const Endpoint& to, std::optional<NodeId> id, absl::Time now);

  void HandleQuery(Message& m, const Endpoint& from, absl::Time now);
  // TakePending removes and returns the query a reply answers (matched by
  // transaction id and sender); nullopt, counted as unmatched, otherwise.
  std::optional<Pending> TakePending(const std::string& transaction_id,
                                     const Endpoint& from);
  void HandleResponse(Message& m, const Endpoint& from, absl::Time now);
  void HandleError(Message& m, const Endpoint& from, absl::Time now);
  void ReplyError(const std::string& tid, int code, std::string text,
                  const Endpoint& to);
  // SendReply queues `reply` trimmed to options_.max_response_size (see
  // FitReply); false, nothing sent, if it cannot fit.
  bool SendReply(Message& reply, const Endpoint& to);
  // CheckToken is true if the write token of query `m` was issued to
  // `from`; otherwise it answers with an error and counts a bad token.
  bool CheckToken(const Message& m, const Endpoint& from, absl::Time now);
  // ItemFitsReplies: a get reply carrying `item` fits the budget for any
  // asker, at least once its nodes are trimmed.
  bool ItemFitsReplies(const DhtItem& item) const;
  void AddNodesForFamily(const Endpoint& requester, bool want_n4, bool want_n6,
                         const NodeId& target, Response* r) const;
  void NoteTableSuggestion(const std::optional<NodeInfo>& ping, absl::Time now);

  // StartLookup registers and starts a lookup; `setup` (if any) fills in
  // kind-specific fields before the first step.
  uint64_t StartLookup(LookupKind kind, const NodeId& target,
                       LookupCallback done, absl::Time now, bool bootstrap,
                       const std::function<void(LookupState&)>& setup = nullptr);
  void AdvanceLookup(uint64_t id, LookupState& st, absl::Time now);
  void AddLocalPeers(LookupState& st, absl::Time now);
  // ReportPeers queues st.found with the peers added since `first`.
  void ReportPeers(const LookupState& st, size_t first);
  void StartAnnounces(uint64_t id, LookupState& st, absl::Time now);
  void FinishLookup(uint64_t id, absl::Time now);
  void LookupFailed(const Pending& p, bool timed_out);
  void FlushCompletions();

  NodeOptions options_;
  bool ipv6_;
  std::mt19937_64 rng_;
  NodeId id_;
  RoutingTable table_;
  PeerStore store_;
  ItemStore items_;
  RateLimiter limiter_;
  TokenIssuer tokens_;
  ContactHints hints_;
  NodeStats stats_;

  std::vector<OutgoingPacket> outgoing_;
  absl::flat_hash_map<std::string, Pending> pending_;
  std::map<uint64_t, LookupState> lookups_;
  uint64_t next_lookup_ = 1;
  std::vector<std::pair<LookupCallback, LookupResult>> completions_;

  std::vector<Endpoint> bootstrap_;
  std::vector<NodeInfo> seeds_;
  absl::Time last_bootstrap_ = absl::InfinitePast();
  absl::Time last_ping_round_ = absl::InfinitePast();
  absl::Time last_expire_ = absl::InfinitePast();
  size_t maintenance_pings_ = 0;

  absl::flat_hash_map<Endpoint, Endpoint> ip_votes_;  // voter -> our address
  NodeId id_random_;  // random bits for SuggestedId
};

}  // namespace bt::dht

#endif  // DHT_NODE_H_
