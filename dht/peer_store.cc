#include "dht/peer_store.h"

#include <algorithm>

namespace bt::dht {

bool PeerStore::Add(const Sha1Hash& info_hash, const Endpoint& peer,
                    absl::Time now) {
  auto it = hashes_.find(info_hash);
  if (it == hashes_.end()) {
    if (hashes_.size() >= options_.max_hashes) Expire(now);
    if (hashes_.size() >= options_.max_hashes) return false;
    it = hashes_.emplace(info_hash, std::vector<Entry>()).first;
  }
  std::vector<Entry>& peers = it->second;
  for (Entry& e : peers) {
    if (e.peer == peer) {
      e.added = now;
      return true;
    }
  }
  if (peers.size() >= options_.max_peers_per_hash) {
    auto oldest = std::min_element(
        peers.begin(), peers.end(),
        [](const Entry& a, const Entry& b) { return a.added < b.added; });
    *oldest = Entry{peer, now};
    return true;
  }
  peers.push_back(Entry{peer, now});
  return true;
}

std::vector<Endpoint> PeerStore::Get(const Sha1Hash& info_hash, bool v6,
                                     size_t max, absl::Time now,
                                     std::mt19937_64& rng) const {
  std::vector<Endpoint> out;
  auto it = hashes_.find(info_hash);
  if (it == hashes_.end()) return out;
  for (const Entry& e : it->second) {
    if (e.peer.is_v6() != v6) continue;
    if (now - e.added >= options_.peer_lifetime) continue;
    out.push_back(e.peer);
  }
  if (out.size() > max) {
    // Partial Fisher-Yates: a uniform sample of `max`.
    for (size_t i = 0; i < max; ++i) {
      std::uniform_int_distribution<size_t> pick(i, out.size() - 1);
      std::swap(out[i], out[pick(rng)]);
    }
    out.resize(max);
  }
  return out;
}

std::vector<Sha1Hash> PeerStore::SampleHashes(size_t max,
                                              std::mt19937_64& rng) const {
  std::vector<Sha1Hash> out;
  out.reserve(hashes_.size());
  for (const auto& [hash, peers] : hashes_) out.push_back(hash);
  if (out.size() > max) {
    for (size_t i = 0; i < max; ++i) {
      std::uniform_int_distribution<size_t> pick(i, out.size() - 1);
      std::swap(out[i], out[pick(rng)]);
    }
    out.resize(max);
  }
  return out;
}

void PeerStore::Expire(absl::Time now) {
  for (auto it = hashes_.begin(); it != hashes_.end();) {
    std::vector<Entry>& peers = it->second;
    peers.erase(std::remove_if(peers.begin(), peers.end(),
                               [&](const Entry& e) {
                                 return now - e.added >= options_.peer_lifetime;
                               }),
                peers.end());
    if (peers.empty()) {
      hashes_.erase(it++);
    } else {
      ++it;
    }
  }
}

size_t PeerStore::peer_count() const {
  size_t n = 0;
  for (const auto& [hash, peers] : hashes_) n += peers.size();
  return n;
}

}  // namespace bt::dht
