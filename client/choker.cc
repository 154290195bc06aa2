#include "client/choker.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "base/random.h"

namespace bt::client {

Choker::Choker(const Options& options, uint64_t seed)
    : options_(options), rng_(seed ? seed : RandomU64()) {}

std::vector<uint64_t> Choker::Rechoke(absl::Span<const ChokerPeer> peers,
                                      bool seeding, absl::Time now) {
  next_rechoke_ = now + options_.rechoke_interval;
  if (seeding && options_.seed_turn_bytes > 0) return TakeTurns(peers, now);
  turn_start_.clear();
  turn_ended_.clear();

  // Regular slots: interested, not snubbed, best rate first.
  std::vector<const ChokerPeer*> ranked;
  for (const ChokerPeer& p : peers) {
    if (p.interested && !p.snubbed) ranked.push_back(&p);
  }
  std::sort(ranked.begin(), ranked.end(),
            [seeding](const ChokerPeer* a, const ChokerPeer* b) {
              double ra = seeding ? a->upload_rate : a->download_rate;
              double rb = seeding ? b->upload_rate : b->download_rate;
              return ra > rb;
            });
  const size_t regular =
      static_cast<size_t>(std::max(options_.upload_slots - 1, 0));
  std::vector<uint64_t> unchoke;
  for (size_t i = 0; i < ranked.size() && i < regular; ++i) {
    unchoke.push_back(ranked[i]->id);
  }

  // The optimistic slot: keep its holder until the interval passes, as long
  // as it is still connected, interested and not already unchoked.
  auto holder = std::find_if(peers.begin(), peers.end(), [&](const auto& p) {
    return p.id == optimistic_ && p.interested;
  });
  bool keep = holder != peers.end() &&
              now - optimistic_since_ < options_.optimistic_interval &&
              std::find(unchoke.begin(), unchoke.end(), optimistic_) ==
                  unchoke.end();
  if (!keep) {
    std::vector<uint64_t> candidates;  // new peers appear three times
    for (const ChokerPeer& p : peers) {
      if (!p.interested ||
          std::find(unchoke.begin(), unchoke.end(), p.id) != unchoke.end()) {
        continue;
      }
      int weight = now - p.connected_at < options_.new_peer_age ? 3 : 1;
      candidates.insert(candidates.end(), weight, p.id);
    }
    optimistic_ = 0;
    if (!candidates.empty()) {
      std::uniform_int_distribution<size_t> pick(0, candidates.size() - 1);
      optimistic_ = candidates[pick(rng_)];
      optimistic_since_ = now;
    }
  }
  if (optimistic_ != 0 && options_.upload_slots > 0) {
    unchoke.push_back(optimistic_);
  }
  return unchoke;
}

bool Choker::TurnOver(uint64_t id, int64_t uploaded) const {
  auto it = turn_start_.find(id);
  return it != turn_start_.end() &&
         uploaded - it->second >= options_.seed_turn_bytes;
}

void Choker::StartTurn(uint64_t id, int64_t uploaded) {
  if (options_.seed_turn_bytes > 0) turn_start_[id] = uploaded;
}

std::vector<uint64_t> Choker::TakeTurns(absl::Span<const ChokerPeer> peers,
                                        absl::Time now) {
  optimistic_ = 0;
  // Peers in the middle of a turn keep their slots; the others queue by
  // when their last turn ended (never, or now for those whose turn just
  // ran out), then by how long they have been connected.
  struct Candidate {
    const ChokerPeer* peer;
    bool mid_turn;
    absl::Time waiting_since;
  };
  std::vector<Candidate> queue;
  for (const ChokerPeer& p : peers) {
    if (!p.interested) continue;
    Candidate c{&p, false, absl::InfinitePast()};
    if (turn_start_.contains(p.id)) {
      c.mid_turn = !TurnOver(p.id, p.uploaded);
      c.waiting_since = now;
    } else if (auto ended = turn_ended_.find(p.id); ended != turn_ended_.end()) {
      c.waiting_since = ended->second;
    }
    queue.push_back(c);
  }
  std::sort(queue.begin(), queue.end(),
            [](const Candidate& a, const Candidate& b) {
              if (a.mid_turn != b.mid_turn) return a.mid_turn;
              if (a.waiting_since != b.waiting_since) {
                return a.waiting_since < b.waiting_since;
              }
              if (a.peer->connected_at != b.peer->connected_at) {
                return a.peer->connected_at < b.peer->connected_at;
              }
              return a.peer->id < b.peer->id;
            });

  // A turn goes on, or starts (again, for a holder nobody waits behind).
  const size_t slots = static_cast<size_t>(std::max(options_.upload_slots, 0));
  absl::flat_hash_map<uint64_t, int64_t> turns;
  std::vector<uint64_t> unchoke;
  for (size_t i = 0; i < queue.size() && i < slots; ++i) {
    const ChokerPeer& p = *queue[i].peer;
    unchoke.push_back(p.id);
    turns[p.id] = queue[i].mid_turn ? turn_start_[p.id] : p.uploaded;
  }
  for (const auto& [id, start] : turn_start_) {
    if (!turns.contains(id)) turn_ended_[id] = now;
  }
  turn_start_ = std::move(turns);

  // Forget the peers that have left.
  absl::flat_hash_set<uint64_t> present;
  for (const ChokerPeer& p : peers) present.insert(p.id);
  for (auto it = turn_ended_.begin(); it != turn_ended_.end();) {
    if (present.contains(it->first)) {
      ++it;
    } else {
      turn_ended_.erase(it++);
    }
  }
  return unchoke;
}

}  // namespace bt::client
