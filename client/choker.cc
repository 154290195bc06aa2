#include "client/choker.h"

#include <algorithm>

#include "base/random.h"

namespace bt::client {

Choker::Choker(const Options& options, uint64_t seed)
    : options_(options), rng_(seed ? seed : RandomU64()) {}

std::vector<uint64_t> Choker::Rechoke(absl::Span<const ChokerPeer> peers,
                                      bool seeding, absl::Time now) {
  next_rechoke_ = now + options_.rechoke_interval;

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

}  // namespace bt::client
