// Choker decides which peers we upload to: the classic tit-for-tat of BEP 3.
// Every rechoke (10 s) the interested peers that gave us the most data
// recently get the regular upload slots (when seeding: the peers we upload
// to fastest), and one optimistic slot rotates every 30 s to a random choked
// interested peer, with peers connected in the last minute three times as
// likely, so newcomers can earn a place. Snubbed peers only get the
// optimistic slot. No sockets, no clock: time is passed in.
//
//   bt::client::Choker choker;
//   std::vector<uint64_t> unchoke = choker.Rechoke(peer_stats, seeding, now);
#ifndef CLIENT_CHOKER_H_
#define CLIENT_CHOKER_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/random.h"

namespace bt::client {

// ChokerPeer is what the choker knows of one connected peer.
struct ChokerPeer {
  uint64_t id = 0;
  bool interested = false;  // the peer wants data from us
  bool snubbed = false;     // it sent us nothing for a long while
  double download_rate = 0;  // bytes/s we receive from it
  double upload_rate = 0;    // bytes/s we send to it
  absl::Time connected_at;
};

class Choker {
 public:
  struct Options {
    // Upload slots in all, the optimistic one included.
    int upload_slots = 4;
    absl::Duration rechoke_interval = absl::Seconds(10);
    absl::Duration optimistic_interval = absl::Seconds(30);
    // Peers connected for less than this count as new.
    absl::Duration new_peer_age = absl::Minutes(1);
  };

  Choker() : Choker(Options()) {}
  explicit Choker(const Options& options, uint64_t seed = 0);

  // Rechoke returns the ids of the peers to unchoke now; all others are to
  // be choked. `seeding` switches the ranking to our upload rate to each.
  std::vector<uint64_t> Rechoke(absl::Span<const ChokerPeer> peers,
                                bool seeding, absl::Time now);

  // Due: is a rechoke due at `now`?
  bool Due(absl::Time now) const { return now >= next_rechoke_; }

  // optimistic is the peer holding the optimistic slot (0 if none).
  uint64_t optimistic() const { return optimistic_; }

 private:
  Options options_;
  SplitMix64 rng_;
  uint64_t optimistic_ = 0;
  absl::Time optimistic_since_ = absl::InfinitePast();
  absl::Time next_rechoke_ = absl::InfinitePast();
};

}  // namespace bt::client

#endif  // CLIENT_CHOKER_H_
