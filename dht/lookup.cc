#include "dht/lookup.h"

#include <algorithm>
#include <utility>

#include "dht/node_id.h"

namespace bt::dht {

Lookup::Lookup(const NodeId& target, LookupOptions options, absl::Time now)
    : target_(target), options_(options), started_(now) {}

void Lookup::Insert(Candidate c) {
  auto before = [&](const Candidate& a, const Candidate& b) {
    if (a.id_known != b.id_known) return !a.id_known;
    return CloserTo(target_, a.node.id, b.node.id);
  };
  auto pos = std::upper_bound(candidates_.begin(), candidates_.end(), c, before);
  candidates_.insert(pos, std::move(c));
  // Drop the farthest fresh candidates beyond the cap.
  while (candidates_.size() > options_.max_candidates) {
    auto it = candidates_.end();
    bool erased = false;
    while (it != candidates_.begin()) {
      --it;
      if (it->state == State::kFresh) {
        candidates_.erase(it);
        erased = true;
        break;
      }
    }
    if (!erased) break;
  }
}

void Lookup::AddCandidate(const NodeInfo& node) {
  if (seen_.size() >= options_.max_queries * 16 + 64) return;  // hard bound
  if (!seen_.insert(node.endpoint).second) return;
  Candidate c;
  c.node = node;
  Insert(std::move(c));
}

void Lookup::AddBootstrap(const Endpoint& endpoint) {
  if (!seen_.insert(endpoint).second) return;
  Candidate c;
  c.node.endpoint = endpoint;
  c.id_known = false;
  Insert(std::move(c));
}

bool Lookup::Counts(const Candidate& c) const {
  if (c.state == State::kFailed) return false;
  if (c.state == State::kAnswered && options_.enforce_node_id && !c.secure) {
    return false;
  }
  return true;
}

Lookup::Candidate* Lookup::FindByEndpoint(const Endpoint& ep) {
  for (Candidate& c : candidates_) {
    if (c.node.endpoint == ep) return &c;
  }
  return nullptr;
}

std::vector<Endpoint> Lookup::NextQueries(absl::Time now) {
  std::vector<Endpoint> out;
  if (Done(now)) return out;
  size_t active = 0;
  for (const Candidate& c : candidates_) {
    if (c.state == State::kInFlight && now - c.sent < options_.slow_after) {
      ++active;
    }
  }
  size_t counted = 0;
  for (Candidate& c : candidates_) {
    if (counted >= options_.k || active >= options_.alpha ||
        queries_sent_ >= options_.max_queries) {
      break;
    }
    if (!Counts(c)) continue;
    if (c.id_known) ++counted;
    if (c.state != State::kFresh) continue;
    c.state = State::kInFlight;
    c.sent = now;
    ++c.attempts;
    ++active;
    ++in_flight_;
    ++queries_sent_;
    out.push_back(c.node.endpoint);
  }
  return out;
}

void Lookup::OnResponse(const Endpoint& from, const NodeId& id, bool secure,
                        const std::vector<NodeInfo>& nodes,
                        const std::optional<std::string>& token,
                        absl::Time now) {
  Candidate* c = FindByEndpoint(from);
  if (!c || c->state != State::kInFlight) return;
  --in_flight_;
  ++responses_;
  Candidate answered = std::move(*c);
  candidates_.erase(candidates_.begin() + (c - candidates_.data()));
  if (answered.id_known && answered.node.id != id) {
    // It answered with another id than we were told: not the node we asked.
    answered.state = State::kFailed;
    Insert(std::move(answered));
  } else {
    answered.node.id = id;
    answered.id_known = true;
    answered.state = State::kAnswered;
    answered.secure = secure;
    if (token) {
      answered.token = *token;
      answered.has_token = true;
    }
    Insert(std::move(answered));
  }
  for (const NodeInfo& n : nodes) {
    if (n.endpoint.port() == 0) continue;
    AddCandidate(n);
  }
}

void Lookup::OnFailure(const Endpoint& from, bool timed_out) {
  Candidate* c = FindByEndpoint(from);
  if (!c || c->state != State::kInFlight) return;
  --in_flight_;
  c->state = timed_out && c->attempts < options_.max_attempts ? State::kFresh
                                                               : State::kFailed;
}

bool Lookup::Done(absl::Time now) const {
  if (now - started_ >= options_.max_duration) return true;
  if (queries_sent_ >= options_.max_queries) return in_flight_ == 0;
  size_t counted = 0;
  for (const Candidate& c : candidates_) {
    if (counted >= options_.k) break;
    if (!Counts(c)) continue;
    if (c.state != State::kAnswered) return false;
    ++counted;
  }
  // Nothing left to ask near the target. Wait for stragglers only if there
  // is nothing at all yet.
  return counted > 0 || in_flight_ == 0;
}

std::vector<LookupHit> Lookup::Closest() const {
  std::vector<LookupHit> out;
  for (const Candidate& c : candidates_) {
    if (out.size() >= options_.k) break;
    if (c.state != State::kAnswered || !c.id_known) continue;
    if (options_.enforce_node_id && !c.secure) continue;
    out.push_back(LookupHit{c.node, c.token, c.has_token});
  }
  return out;
}

}  // namespace bt::dht
