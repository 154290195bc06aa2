#include "dht/routing_table.h"

#include <algorithm>
#include <utility>

#include "dht/node_id.h"

namespace bt::dht {
namespace {

bool SameAddress(const Endpoint& a, const Endpoint& b) {
  return a.is_v4() == b.is_v4() && a.address_bytes() == b.address_bytes();
}

}  // namespace

bool Contact::IsGood(absl::Time now, absl::Duration interval,
                     int max_failures) const {
  if (!confirmed || failures > 0) return false;
  return now - last_response < interval || now - last_query < interval;
}

RoutingTable::RoutingTable(const NodeId& own_id, RoutingTableOptions options)
    : own_id_(own_id), options_(options) {
  buckets_.emplace_back();
}

size_t RoutingTable::BucketIndex(const NodeId& id) const {
  size_t cpb = static_cast<size_t>(CommonPrefixBits(own_id_, id));
  return std::min(cpb, buckets_.size() - 1);
}

bool RoutingTable::CanSplit() const { return buckets_.size() < 160; }

void RoutingTable::Split() {
  size_t last = buckets_.size() - 1;
  buckets_.emplace_back();
  Bucket& old = buckets_[last];
  Bucket& fresh = buckets_.back();
  fresh.last_changed = old.last_changed;
  auto moves = [&](const Contact& c) {
    return static_cast<size_t>(CommonPrefixBits(own_id_, c.node.id)) > last;
  };
  for (auto* list : {&old.contacts, &old.replacements}) {
    std::vector<Contact> keep;
    std::vector<Contact>& dest =
        list == &old.contacts ? fresh.contacts : fresh.replacements;
    for (Contact& c : *list) {
      (moves(c) ? dest : keep).push_back(std::move(c));
    }
    *list = std::move(keep);
  }
  // Replacements can now fill the room the split made.
  for (Bucket* b : {&old, &fresh}) {
    while (b->contacts.size() < options_.bucket_size &&
           !b->replacements.empty()) {
      b->contacts.push_back(std::move(b->replacements.back()));
      b->replacements.pop_back();
    }
  }
}

bool RoutingTable::IpTaken(const Endpoint& ep, const NodeId& except) const {
  if (!options_.one_contact_per_ip || ep.IsLoopback()) return false;
  for (const Bucket& b : buckets_) {
    for (const Contact& c : b.contacts) {
      if (c.node.id != except && SameAddress(c.node.endpoint, ep)) return true;
    }
  }
  return false;
}

void RoutingTable::AddReplacement(Bucket& b, Contact c) {
  for (Contact& r : b.replacements) {
    if (r.node.id == c.node.id) {
      r = std::move(c);
      return;
    }
  }
  if (b.replacements.size() >= options_.replacement_size) {
    // Drop the oldest unconfirmed entry, else the oldest.
    auto victim = std::find_if(b.replacements.begin(), b.replacements.end(),
                               [](const Contact& r) { return !r.confirmed; });
    if (victim == b.replacements.end()) victim = b.replacements.begin();
    b.replacements.erase(victim);
  }
  b.replacements.push_back(std::move(c));
}

std::optional<NodeInfo> RoutingTable::Insert(const NodeInfo& node,
                                             absl::Time now, bool responded) {
  if (node.id == own_id_) return std::nullopt;
  if (options_.enforce_node_id &&
      !IsSecureNodeId(node.id, node.endpoint.address_bytes())) {
    return std::nullopt;
  }
  auto touch = [&](Contact& c) {
    if (responded) {
      c.last_response = now;
      c.failures = 0;
      c.confirmed = true;
    } else {
      c.last_query = now;
    }
  };
  size_t index = BucketIndex(node.id);
  Bucket* b = &buckets_[index];
  for (Contact& c : b->contacts) {
    if (c.node.id != node.id) continue;
    if (c.node.endpoint != node.endpoint) {
      // A live contact keeps its address; a dead one may move.
      if (!c.IsBad(options_.max_failures) && c.confirmed) return std::nullopt;
      if (IpTaken(node.endpoint, node.id)) return std::nullopt;
      c.node.endpoint = node.endpoint;
    }
    touch(c);
    if (responded) b->last_changed = now;
    return std::nullopt;
  }
  Contact fresh;
  fresh.node = node;
  fresh.added = now;
  for (auto it = b->replacements.begin(); it != b->replacements.end(); ++it) {
    if (it->node.id == node.id) {
      fresh = std::move(*it);
      fresh.node.endpoint = node.endpoint;
      b->replacements.erase(it);
      break;
    }
  }
  touch(fresh);
  if (IpTaken(node.endpoint, node.id)) return std::nullopt;

  for (;;) {
    b = &buckets_[index];
    if (b->contacts.size() < options_.bucket_size) {
      b->contacts.push_back(std::move(fresh));
      if (responded) b->last_changed = now;
      return std::nullopt;
    }
    auto bad = std::find_if(
        b->contacts.begin(), b->contacts.end(), [&](const Contact& c) {
          return c.IsBad(options_.max_failures);
        });
    if (bad != b->contacts.end()) {
      *bad = std::move(fresh);
      if (responded) b->last_changed = now;
      return std::nullopt;
    }
    if (index == buckets_.size() - 1 && CanSplit()) {
      Split();
      index = BucketIndex(node.id);
      continue;
    }
    break;
  }
  AddReplacement(*b, std::move(fresh));
  // Suggest pinging the stalest contact that is not known good.
  const Contact* stalest = nullptr;
  for (const Contact& c : b->contacts) {
    if (c.IsGood(now, options_.good_interval, options_.max_failures)) continue;
    if (!stalest || std::max(c.last_response, c.last_query) <
                        std::max(stalest->last_response, stalest->last_query)) {
      stalest = &c;
    }
  }
  if (stalest) return stalest->node;
  return std::nullopt;
}

std::optional<NodeInfo> RoutingTable::OnResponse(const NodeInfo& node,
                                                 absl::Time now) {
  return Insert(node, now, /*responded=*/true);
}

std::optional<NodeInfo> RoutingTable::OnQuery(const NodeInfo& node,
                                              absl::Time now) {
  return Insert(node, now, /*responded=*/false);
}

void RoutingTable::OnTimeout(const NodeInfo& node) {
  Bucket& b = buckets_[BucketIndex(node.id)];
  for (auto it = b.contacts.begin(); it != b.contacts.end(); ++it) {
    if (it->node.id != node.id || it->node.endpoint != node.endpoint) continue;
    ++it->failures;
    bool bad = it->IsBad(options_.max_failures);
    if (bad && !b.replacements.empty()) {
      // Prefer the freshest confirmed replacement.
      auto pick = b.replacements.end() - 1;
      for (auto r = b.replacements.end(); r != b.replacements.begin();) {
        --r;
        if (r->confirmed) {
          pick = r;
          break;
        }
      }
      *it = std::move(*pick);
      b.replacements.erase(pick);
    }
    return;
  }
  for (auto it = b.replacements.begin(); it != b.replacements.end(); ++it) {
    if (it->node.id == node.id) {
      b.replacements.erase(it);
      return;
    }
  }
}

void RoutingTable::Remove(const NodeId& id) {
  Bucket& b = buckets_[BucketIndex(id)];
  for (auto* list : {&b.contacts, &b.replacements}) {
    list->erase(std::remove_if(list->begin(), list->end(),
                               [&](const Contact& c) { return c.node.id == id; }),
                list->end());
  }
}

std::vector<NodeInfo> RoutingTable::Closest(const NodeId& target, size_t count,
                                            bool include_unconfirmed) const {
  std::vector<const Contact*> all;
  for (const Bucket& b : buckets_) {
    for (const Contact& c : b.contacts) {
      if (c.IsBad(options_.max_failures)) continue;
      if (!c.confirmed && !include_unconfirmed) continue;
      all.push_back(&c);
    }
  }
  size_t n = std::min(count, all.size());
  std::partial_sort(all.begin(), all.begin() + n, all.end(),
                    [&](const Contact* a, const Contact* b) {
                      return CloserTo(target, a->node.id, b->node.id);
                    });
  std::vector<NodeInfo> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(all[i]->node);
  return out;
}

std::vector<NodeId> RoutingTable::StaleBuckets(absl::Time now,
                                               const NodeId& random, bool all) {
  std::vector<NodeId> out;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    Bucket& b = buckets_[i];
    if (!all && now - b.last_changed < options_.good_interval) continue;
    b.last_changed = now;
    NodeId target = random;
    // Keep our first i bits; for all but the last bucket flip bit i.
    for (size_t bit = 0; bit < i; ++bit) {
      uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
      target[bit / 8] = static_cast<uint8_t>((target[bit / 8] & ~mask) |
                                             (own_id_[bit / 8] & mask));
    }
    if (i + 1 < buckets_.size()) {
      uint8_t mask = static_cast<uint8_t>(0x80 >> (i % 8));
      target[i / 8] = static_cast<uint8_t>((target[i / 8] & ~mask) |
                                           (~own_id_[i / 8] & mask));
    }
    out.push_back(target);
  }
  return out;
}

std::vector<NodeInfo> RoutingTable::Questionable(absl::Time now,
                                                 size_t count) const {
  std::vector<const Contact*> q;
  for (const Bucket& b : buckets_) {
    for (const Contact& c : b.contacts) {
      if (c.IsBad(options_.max_failures)) continue;
      if (c.IsGood(now, options_.good_interval, options_.max_failures)) continue;
      q.push_back(&c);
    }
  }
  std::sort(q.begin(), q.end(), [](const Contact* a, const Contact* b) {
    return std::max(a->last_response, a->last_query) <
           std::max(b->last_response, b->last_query);
  });
  std::vector<NodeInfo> out;
  for (size_t i = 0; i < q.size() && i < count; ++i) out.push_back(q[i]->node);
  return out;
}

const Contact* RoutingTable::Find(const NodeId& id) const {
  const Bucket& b = buckets_[BucketIndex(id)];
  for (const Contact& c : b.contacts) {
    if (c.node.id == id) return &c;
  }
  return nullptr;
}

std::vector<NodeInfo> RoutingTable::AllContacts() const {
  std::vector<NodeInfo> out;
  for (const Bucket& b : buckets_) {
    for (const Contact& c : b.contacts) out.push_back(c.node);
  }
  return out;
}

size_t RoutingTable::size() const {
  size_t n = 0;
  for (const Bucket& b : buckets_) n += b.contacts.size();
  return n;
}

size_t RoutingTable::replacement_count() const {
  size_t n = 0;
  for (const Bucket& b : buckets_) n += b.replacements.size();
  return n;
}

size_t RoutingTable::GoodCount(absl::Time now) const {
  size_t n = 0;
  for (const Bucket& b : buckets_) {
    for (const Contact& c : b.contacts) {
      n += c.IsGood(now, options_.good_interval, options_.max_failures);
    }
  }
  return n;
}

}  // namespace bt::dht
