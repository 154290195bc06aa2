// PeerStore: the peers other nodes announced to us (announce_peer), served
// back in get_peers responses. Bounded everywhere: peers per info-hash,
// info-hashes in total, and every entry expires unless re-announced.
//
//   bt::dht::PeerStore store;
//   store.Add(info_hash, peer_endpoint, now);
//   std::vector<bt::Endpoint> some = store.Get(info_hash, /*v6=*/false, 50, now, rng);
#ifndef DHT_PEER_STORE_H_
#define DHT_PEER_STORE_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/hash.h"

namespace bt::dht {

struct PeerStoreOptions {
  size_t max_peers_per_hash = 200;
  size_t max_hashes = 2000;
  absl::Duration peer_lifetime = absl::Minutes(30);
};

class PeerStore {
 public:
  explicit PeerStore(PeerStoreOptions options = {}) : options_(options) {}

  // Add stores or refreshes `peer` under `info_hash`. When the hash is full
  // the oldest peer is replaced; when the store is full of hashes a new hash
  // is refused (returns false) unless expired entries can be dropped.
  bool Add(const Sha1Hash& info_hash, const Endpoint& peer, absl::Time now);

  // Get returns up to `max` live peers of `info_hash` of one address family,
  // a random selection when there are more.
  std::vector<Endpoint> Get(const Sha1Hash& info_hash, bool v6, size_t max,
                            absl::Time now, std::mt19937_64& rng) const;

  // SampleHashes returns up to `max` stored info-hashes, a random selection
  // when there are more (BEP 51).
  std::vector<Sha1Hash> SampleHashes(size_t max, std::mt19937_64& rng) const;

  // Expire drops entries older than the peer lifetime.
  void Expire(absl::Time now);

  size_t hash_count() const { return hashes_.size(); }
  size_t peer_count() const;

 private:
  struct Entry {
    Endpoint peer;
    absl::Time added;
  };
  PeerStoreOptions options_;
  absl::flat_hash_map<Sha1Hash, std::vector<Entry>> hashes_;
};

}  // namespace bt::dht

#endif  // DHT_PEER_STORE_H_
