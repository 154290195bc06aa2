#include "dht/node.h"

#include <algorithm>
#include <utility>

#include "base/random.h"
#include "dht/node_id.h"

namespace bt::dht {
namespace {

constexpr size_t kMaxSeeds = 512;
constexpr size_t kMaxBootstrap = 64;
constexpr size_t kMaxVoters = 64;
constexpr size_t kMaxMaintenancePings = 32;
constexpr absl::Duration kPingRoundInterval = absl::Seconds(10);
constexpr absl::Duration kRebootstrapInterval = absl::Seconds(30);
constexpr absl::Duration kExpireInterval = absl::Minutes(1);

}  // namespace

Node::Node(NodeOptions options, absl::Time now)
    : options_(std::move(options)),
      ipv6_(options_.ipv6),
      rng_(options_.seed ? options_.seed : RandomU64()),
      table_(NodeId(), options_.table),
      store_(options_.store),
      items_(options_.items),
      limiter_(options_.rate),
      tokens_(
          [this] {
            std::array<uint8_t, 16> s;
            FillRandom(MutableByteSpan(s));
            return s;
          },
          now),
      hints_(options_.hints) {
  if (options_.id) {
    id_ = *options_.id;
  } else if (options_.external_address) {
    NodeId random = RandomId();
    id_ = SecureNodeId(options_.external_address->address_bytes(),
                       static_cast<uint8_t>(rng_()), random);
  } else {
    id_ = RandomId();
  }
  if (options_.enforce_node_id) {
    options_.table.enforce_node_id = true;
    options_.lookup.enforce_node_id = true;
  }
  table_ = RoutingTable(id_, options_.table);
  id_random_ = RandomId();
}

void Node::FillRandom(MutableByteSpan out) {
  if (options_.seed == 0) {
    RandomBytes(out);
    return;
  }
  for (uint8_t& b : out) b = static_cast<uint8_t>(rng_());
}

NodeId Node::RandomId() {
  NodeId id;
  FillRandom(id.mutable_span());
  return id;
}

std::string Node::NewTransactionId() {
  std::string t(4, '\0');
  for (int attempt = 0; attempt < 8; ++attempt) {
    uint32_t v = static_cast<uint32_t>(rng_());
    for (int i = 0; i < 4; ++i) t[i] = static_cast<char>(v >> (8 * i));
    if (!pending_.contains(t)) return t;
  }
  return t;
}

void Node::Send(const Message& m, const Endpoint& to) {
  outgoing_.push_back(OutgoingPacket{EncodeMessage(m), to});
  ++stats_.packets_out;
}

bool Node::SendQuery(Message m, const Endpoint& to, std::optional<NodeId> id,
                     Purpose purpose, uint64_t lookup, absl::Time now) {
  if (pending_.size() >= options_.max_pending_queries) return false;
  if (to.port() == 0 || !SameFamily(to)) return false;
  m.transaction_id = NewTransactionId();
  if (pending_.contains(m.transaction_id)) return false;
  m.read_only = options_.read_only;
  m.version = options_.version;
  pending_.emplace(m.transaction_id, Pending{to, id, now, purpose, lookup});
  Send(m, to);
  return true;
}

void Node::Ping(const Endpoint& to, std::optional<NodeId> id,
                absl::Time now) {
  if (maintenance_pings_ >= kMaxMaintenancePings) return;
  for (const auto& [tid, p] : pending_) {
    if (p.to == to) return;  // already talking to it
  }
  if (SendQuery(Message::MakeQuery("", Method::kPing, id_), to, id,
                Purpose::kPing, 0, now)) {
    ++maintenance_pings_;
  }
}

void Node::NoteTableSuggestion(const std::optional<NodeInfo>& ping,
                               absl::Time now) {
  if (ping) Ping(ping->endpoint, ping->id, now);
}

std::vector<OutgoingPacket> Node::TakeOutgoing() {
  std::vector<OutgoingPacket> out;
  out.swap(outgoing_);
  return out;
}

void Node::AddBootstrapNode(const Endpoint& endpoint) {
  if (!SameFamily(endpoint) || endpoint.port() == 0) return;
  if (std::find(bootstrap_.begin(), bootstrap_.end(), endpoint) !=
      bootstrap_.end()) {
    return;
  }
  if (bootstrap_.size() >= kMaxBootstrap) return;
  bootstrap_.push_back(endpoint);
}

void Node::AddContactHint(const Endpoint& endpoint, absl::Time now) {
  if (!SameFamily(endpoint) || endpoint.port() == 0 ||
      endpoint.IsUnspecified()) {
    return;
  }
  hints_.Add(endpoint, now);
}

void Node::AddNode(const NodeInfo& node) {
  if (!SameFamily(node.endpoint) || node.endpoint.port() == 0) return;
  if (node.id == id_ || seeds_.size() >= kMaxSeeds) return;
  seeds_.push_back(node);
}

// ---------------------------------------------------------------- serving

void Node::HandlePacket(std::string_view packet, const Endpoint& from,
                        absl::Time now) {
  ++stats_.packets_in;
  Message m;
  absl::Status s = ParseMessage(packet, &m);
  if (!s.ok()) {
    ++stats_.dropped_malformed;
    // A query we can identify gets a protocol error, within the rate limit.
    if (m.kind == MessageKind::kQuery && !m.transaction_id.empty() &&
        !options_.read_only && from.port() != 0) {
      if (limiter_.Allow(from, now)) {
        ReplyError(m.transaction_id, kErrorProtocol,
                   s.code() == absl::StatusCode::kResourceExhausted
                       ? "message too large"
                       : "malformed query",
                   from);
      } else {
        ++stats_.dropped_rate_limited;
      }
    }
    FlushCompletions();
    return;
  }
  switch (m.kind) {
    case MessageKind::kQuery:
      HandleQuery(m, from, now);
      break;
    case MessageKind::kResponse:
      HandleResponse(m, from, now);
      break;
    case MessageKind::kError:
      HandleError(m, from, now);
      break;
  }
  FlushCompletions();
}

// ---------------------------------------------------------------- responses

std::optional<Node::Pending> Node::TakePending(const std::string& transaction_id,
                                               const Endpoint& from) {
  auto it = pending_.find(transaction_id);
  if (it == pending_.end() || it->second.to != from) {
    ++stats_.dropped_unmatched;
    return std::nullopt;
  }
  Pending p = it->second;
  pending_.erase(it);
  if (p.purpose == Purpose::kPing && maintenance_pings_ > 0) {
    --maintenance_pings_;
  }
  return p;
}

void Node::HandleResponse(Message& m, const Endpoint& from, absl::Time now) {
  std::optional<Pending> taken = TakePending(m.transaction_id, from);
  if (!taken) return;
  Pending p = *std::move(taken);
  const Response& r = m.response;
  if (p.expected_id && *p.expected_id != r.id) {
    // Another node answers at that address now: the one we knew is gone.
    table_.OnTimeout(NodeInfo{*p.expected_id, from});
    LookupFailed(p, false);
    return;
  }
  if (r.id != id_) {
    NoteTableSuggestion(table_.OnResponse(NodeInfo{r.id, from}, now), now);
  }
  if (m.ip && m.ip->is_v6() == ipv6_) {
    if (ip_votes_.size() < kMaxVoters || ip_votes_.contains(from)) {
      ip_votes_[from] = *m.ip;
    }
  }
  if (p.purpose == Purpose::kPing || p.lookup == 0) return;
  auto lit = lookups_.find(p.lookup);
  if (lit == lookups_.end()) return;
  LookupState& st = lit->second;
  if (p.purpose == Purpose::kAnnounce) {
    if (st.announce_pending > 0) --st.announce_pending;
    ++st.announced;
    AdvanceLookup(p.lookup, st, now);
    return;
  }
  const std::optional<std::vector<NodeInfo>>& nodes = ipv6_ ? r.nodes6 : r.nodes;
  std::vector<NodeInfo> others;
  if (nodes) {
    others.reserve(nodes->size());
    for (const NodeInfo& n : *nodes) {
      if (n.id != id_) others.push_back(n);  // never ask ourselves
    }
  }
  bool secure = IsSecureNodeId(r.id, from.address_bytes());
  st.lookup.OnResponse(from, r.id, secure, others, r.token, now);
  if (r.value &&
      (st.kind == LookupKind::kGetItem || st.kind == LookupKind::kPutItem)) {
    DhtItem found;
    found.value = *r.value;
    bool well_formed = true;
    if (!r.key.empty()) {
      found.is_mutable = true;
      std::copy(r.key.begin(), r.key.end(), found.key.begin());
      well_formed = r.signature.size() == found.signature.size() && r.seq;
      if (well_formed) {
        std::copy(r.signature.begin(), r.signature.end(),
                  found.signature.begin());
        found.seq = *r.seq;
      }
      found.salt = st.salt;
    }
    if (well_formed && st.kind == LookupKind::kGetItem &&
        VerifyItem(found, st.lookup.target()) &&
        (!st.item || (found.is_mutable && found.seq > st.item->seq))) {
      st.item = std::move(found);
    }
  }
  if (r.samples && st.kind == LookupKind::kSample) {
    for (const Sha1Hash& h : *r.samples) {
      if (st.samples.size() >= options_.max_samples_per_lookup) break;
      if (st.sample_set.insert(h).second) st.samples.push_back(h);
    }
  }
  if (r.values &&
      (st.kind == LookupKind::kGetPeers || st.kind == LookupKind::kAnnounce)) {
    const size_t first = st.peers.size();
    for (const Endpoint& peer : *r.values) {
      if (st.peers.size() >= options_.max_peers_per_lookup) break;
      if (peer.port() == 0) continue;
      if (st.peer_set.insert(peer).second) st.peers.push_back(peer);
    }
    ReportPeers(st, first);
  }
  AdvanceLookup(p.lookup, st, now);
}

void Node::HandleError(Message& m, const Endpoint& from, absl::Time now) {
  std::optional<Pending> taken = TakePending(m.transaction_id, from);
  if (!taken) return;
  Pending p = *std::move(taken);
  LookupFailed(p, false);
  if (p.lookup) {
    auto lit = lookups_.find(p.lookup);
    if (lit != lookups_.end()) AdvanceLookup(p.lookup, lit->second, now);
  }
}

void Node::LookupFailed(const Pending& p, bool timed_out) {
  if (!p.lookup) return;
  auto lit = lookups_.find(p.lookup);
  if (lit == lookups_.end()) return;
  LookupState& st = lit->second;
  if (p.purpose == Purpose::kAnnounce) {
    if (st.announce_pending > 0) --st.announce_pending;
  } else {
    st.lookup.OnFailure(p.to, timed_out);
  }
}

// ---------------------------------------------------------------- lookups

uint64_t Node::StartLookup(LookupKind kind, const NodeId& target,
                           LookupCallback done, absl::Time now, bool bootstrap,
                           const std::function<void(LookupState&)>& setup) {
  if (lookups_.size() >= options_.max_lookups) return 0;
  uint64_t id = next_lookup_++;
  auto [it, inserted] = lookups_.emplace(
      id, LookupState{kind, Lookup(target, options_.lookup, now),
                      std::move(done)});
  LookupState& st = it->second;
  st.bootstrap = bootstrap;
  if (setup) setup(st);
  if (kind == LookupKind::kGetPeers || kind == LookupKind::kAnnounce) {
    AddLocalPeers(st, now);
  }
  for (const NodeInfo& n :
       table_.Closest(target, 2 * options_.lookup.k, /*unconfirmed=*/true)) {
    st.lookup.AddCandidate(n);
  }
  if (bootstrap || table_.size() == 0) {
    for (const NodeInfo& n : seeds_) st.lookup.AddCandidate(n);
    for (const Endpoint& e : bootstrap_) st.lookup.AddBootstrap(e);
  }
  AdvanceLookup(id, st, now);
  return id;
}

void Node::AddLocalPeers(LookupState& st, absl::Time now) {
  // Peers announced to us count too: we may be one of the closest nodes.
  Sha1Hash ih = Sha1Hash::FromBytes(st.lookup.target().span());
  const size_t first = st.peers.size();
  for (const Endpoint& peer :
       store_.Get(ih, ipv6_, options_.max_peers_per_lookup, now, rng_)) {
    if (st.peer_set.insert(peer).second) st.peers.push_back(peer);
  }
  ReportPeers(st, first);
}

void Node::ReportPeers(const LookupState& st, size_t first) {
  if (!st.found || st.peers.size() == first) return;
  LookupResult result;
  result.target = st.lookup.target();
  result.peers.assign(st.peers.begin() + first, st.peers.end());
  completions_.emplace_back(st.found, std::move(result));
}

void Node::AdvanceLookup(uint64_t id, LookupState& st, absl::Time now) {
  if (st.announcing) {
    if (st.announce_pending == 0) FinishLookup(id, now);
    return;
  }
  Method method;
  switch (st.kind) {
    case LookupKind::kFindNode:
      method = Method::kFindNode;
      break;
    case LookupKind::kSample:
      method = Method::kSampleInfohashes;
      break;
    case LookupKind::kGetItem:
    case LookupKind::kPutItem:
      method = Method::kGet;
      break;
    default:
      method = Method::kGetPeers;
      break;
  }
  for (const Endpoint& to : st.lookup.NextQueries(now)) {
    Message q = Message::MakeQuery("", method, id_);
    q.query.target = st.lookup.target();
    q.query.info_hash = Sha1Hash::FromBytes(st.lookup.target().span());
    if (!SendQuery(std::move(q), to, std::nullopt, Purpose::kLookup, id, now)) {
      st.lookup.OnFailure(to);
    }
  }
  if (!st.lookup.Done(now)) return;
  if (st.kind == LookupKind::kAnnounce || st.kind == LookupKind::kPutItem) {
    StartAnnounces(id, st, now);
    if (st.announce_pending > 0) return;
  }
  FinishLookup(id, now);
}

void Node::StartAnnounces(uint64_t id, LookupState& st, absl::Time now) {
  st.announcing = true;
  for (const LookupHit& hit : st.lookup.Closest()) {
    if (!hit.has_token) continue;
    Message q;
    if (st.kind == LookupKind::kPutItem) {
      const DhtItem& item = *st.item;
      q = Message::MakeQuery("", Method::kPut, id_);
      q.query.value = item.value;
      if (item.is_mutable) {
        q.query.key = std::string(AsChars(ByteSpan(item.key)));
        q.query.signature = std::string(AsChars(ByteSpan(item.signature)));
        q.query.seq = item.seq;
        q.query.salt = item.salt;
      }
    } else {
      q = Message::MakeQuery("", Method::kAnnouncePeer, id_);
      q.query.info_hash = st.info_hash;
      q.query.port = st.port;
      q.query.implied_port = st.implied_port;
    }
    q.query.token = hit.token;
    if (SendQuery(std::move(q), hit.node.endpoint, hit.node.id,
                  Purpose::kAnnounce, id, now)) {
      ++st.announce_pending;
      ++st.announce_queries;
    }
  }
}

void Node::FinishLookup(uint64_t id, absl::Time now) {
  auto it = lookups_.find(id);
  if (it == lookups_.end()) return;
  LookupState& st = it->second;
  LookupResult result;
  result.target = st.lookup.target();
  for (const LookupHit& hit : st.lookup.Closest()) {
    result.closest.push_back(hit.node);
  }
  result.peers = std::move(st.peers);
  result.samples = std::move(st.samples);
  if (st.kind == LookupKind::kGetItem) result.item = std::move(st.item);
  result.queries = st.lookup.queries_sent() + st.announce_queries;
  result.responses = st.lookup.responses();
  result.announced = st.announced;
  result.duration = now - st.lookup.started();
  if (st.done) completions_.emplace_back(std::move(st.done), std::move(result));
  bool refresh = st.bootstrap && table_.size() > 0;
  lookups_.erase(it);
  // Forget pending queries of this lookup (answers are then unmatched).
  for (auto p = pending_.begin(); p != pending_.end();) {
    if (p->second.lookup == id) {
      pending_.erase(p++);
    } else {
      ++p;
    }
  }
  // After joining, fill the far buckets too.
  if (refresh) {
    for (const NodeId& target : table_.StaleBuckets(now, RandomId(), true)) {
      StartLookup(LookupKind::kFindNode, target, nullptr, now, false);
    }
  }
}

void Node::FlushCompletions() {
  while (!completions_.empty()) {
    std::vector<std::pair<LookupCallback, LookupResult>> batch;
    batch.swap(completions_);
    for (auto& [cb, result] : batch) cb(result);
  }
}

uint64_t Node::Bootstrap(absl::Time now, LookupCallback done) {
  last_bootstrap_ = now;
  uint64_t id = StartLookup(LookupKind::kFindNode, id_, std::move(done), now,
                            /*bootstrap=*/true);
  FlushCompletions();
  return id;
}

uint64_t Node::FindNode(const NodeId& target, absl::Time now,
                        LookupCallback done) {
  uint64_t id = StartLookup(LookupKind::kFindNode, target, std::move(done), now,
                            false);
  FlushCompletions();
  return id;
}

uint64_t Node::GetPeers(const Sha1Hash& info_hash, absl::Time now,
                        LookupCallback done, LookupCallback found) {
  uint64_t id =
      StartLookup(LookupKind::kGetPeers, NodeId::FromBytes(info_hash.span()),
                  std::move(done), now, false,
                  [&](LookupState& st) { st.found = std::move(found); });
  FlushCompletions();
  return id;
}

uint64_t Node::SampleInfohashes(const NodeId& target, absl::Time now,
                                LookupCallback done) {
  uint64_t id = StartLookup(LookupKind::kSample, target, std::move(done), now,
                            false);
  FlushCompletions();
  return id;
}

uint64_t Node::GetItem(const NodeId& target, std::string salt, absl::Time now,
                       LookupCallback done) {
  uint64_t id = StartLookup(LookupKind::kGetItem, target, std::move(done), now,
                            false, [&](LookupState& st) {
                              st.salt = std::move(salt);
                              // Our own store counts too.
                              if (const DhtItem* mine = items_.Get(target, now)) {
                                DhtItem copy = *mine;
                                copy.salt = st.salt;
                                if (VerifyItem(copy, target)) st.item = copy;
                              }
                            });
  FlushCompletions();
  return id;
}

uint64_t Node::PutItem(const DhtItem& item, absl::Time now,
                       LookupCallback done) {
  uint64_t id = StartLookup(LookupKind::kPutItem, ItemTarget(item),
                            std::move(done), now, false,
                            [&](LookupState& st) { st.item = item; });
  FlushCompletions();
  return id;
}

uint64_t Node::Announce(const Sha1Hash& info_hash, uint16_t port,
                        bool implied_port, absl::Time now, LookupCallback done,
                        LookupCallback found) {
  uint64_t id =
      StartLookup(LookupKind::kAnnounce, NodeId::FromBytes(info_hash.span()),
                  std::move(done), now, false, [&](LookupState& st) {
                    st.found = std::move(found);
                    st.info_hash = info_hash;
                    st.port = port;
                    st.implied_port = implied_port;
                  });
  FlushCompletions();
  return id;
}

// ---------------------------------------------------------------- upkeep

void Node::Tick(absl::Time now) {
  // Query timeouts.
  std::vector<Pending> expired;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now - it->second.sent >= options_.query_timeout) {
      expired.push_back(it->second);
      pending_.erase(it++);
    } else {
      ++it;
    }
  }
  for (const Pending& p : expired) {
    ++stats_.timeouts;
    if (p.purpose == Purpose::kPing && maintenance_pings_ > 0) {
      --maintenance_pings_;
    }
    if (p.expected_id) {
      table_.OnTimeout(NodeInfo{*p.expected_id, p.to});
    } else {
      // A lookup query: the table knows it by endpoint if at all.
      for (const NodeInfo& n : table_.AllContacts()) {
        if (n.endpoint == p.to) {
          table_.OnTimeout(n);
          break;
        }
      }
    }
    LookupFailed(p, true);
  }
  // Lookup progress (slow queries free their slots; budgets run out).
  std::vector<uint64_t> ids;
  for (const auto& [id, st] : lookups_) ids.push_back(id);
  for (uint64_t id : ids) {
    auto it = lookups_.find(id);
    if (it != lookups_.end()) AdvanceLookup(id, it->second, now);
  }
  if (now - last_expire_ >= kExpireInterval) {
    last_expire_ = now;
    store_.Expire(now);
    items_.Expire(now);
  }
  // Ping hints (an answer puts them in the table), within the ping cap.
  if (maintenance_pings_ < kMaxMaintenancePings) {
    for (const Endpoint& hint :
         hints_.Due(now, kMaxMaintenancePings - maintenance_pings_)) {
      Ping(hint, std::nullopt, now);
    }
  }
  // Keep the table: re-bootstrap while empty, refresh stale buckets, ping
  // questionable contacts.
  if (table_.size() == 0) {
    if (now - last_bootstrap_ >= kRebootstrapInterval &&
        (!bootstrap_.empty() || !seeds_.empty())) {
      last_bootstrap_ = now;
      StartLookup(LookupKind::kFindNode, id_, nullptr, now, true);
    }
  } else {
    for (const NodeId& target : table_.StaleBuckets(now, RandomId())) {
      StartLookup(LookupKind::kFindNode, target, nullptr, now, false);
    }
    if (now - last_ping_round_ >= kPingRoundInterval) {
      last_ping_round_ = now;
      for (const NodeInfo& n : table_.Questionable(now, 4)) {
        Ping(n.endpoint, n.id, now);
      }
    }
  }
  FlushCompletions();
}

}  // namespace bt::dht
