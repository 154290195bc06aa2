// Choker decides which peers we upload to.
//
// Downloading, it plays the classic tit-for-tat of BEP 3: every rechoke
// (10 s) the interested peers that gave us the most data recently get the
// regular upload slots, and one optimistic slot rotates every 30 s to a
// random choked interested peer, with peers connected in the last minute
// three times as likely, so newcomers can earn a place. Snubbed peers only
// get the optimistic slot.
//
// Seeding, it takes turns (round robin): an unchoked peer keeps its slot
// until it has been sent `seed_turn_bytes` since it got it, then yields it
// to the interested peer that has waited longest for one, so that every
// downloader progresses at the same pace instead of the first few taking
// the whole upload until they finish. TurnOver tells the owner when a turn
// has ended, to rechoke then rather than at the next interval. With
// seed_turn_bytes 0 the seeding slots go to the peers we upload to fastest.
//
// No sockets, no clock: time is passed in.
//
//   bt::client::Choker choker;
//   std::vector<uint64_t> unchoke = choker.Rechoke(peer_stats, seeding, now);
//   // after each block sent while seeding:
//   if (choker.TurnOver(id, bytes_sent_to_it)) /* rechoke now */;
#ifndef CLIENT_CHOKER_H_
#define CLIENT_CHOKER_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/container/flat_hash_map.h"
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
  int64_t uploaded = 0;      // payload bytes sent to it since it connected
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
    // Seeding: the bytes a peer is sent per turn of an upload slot (0: no
    // turns, the fastest peers keep the slots).
    int64_t seed_turn_bytes = 4 << 20;
  };

  Choker() : Choker(Options()) {}
  explicit Choker(const Options& options, uint64_t seed = 0);

  // Rechoke returns the ids of the peers to unchoke now; all others are to
  // be choked. `seeding` switches the ranking to our upload rate to each.
  std::vector<uint64_t> Rechoke(absl::Span<const ChokerPeer> peers,
                                bool seeding, absl::Time now);

  // Due: is a rechoke due at `now`?
  bool Due(absl::Time now) const { return now >= next_rechoke_; }

  // TurnOver: has peer `id`, unchoked for a turn by the last seeding
  // Rechoke, been sent its turn's bytes? `uploaded` is its
  // ChokerPeer::uploaded now. False for a peer not on a turn.
  bool TurnOver(uint64_t id, int64_t uploaded) const;
  // StartTurn: while seeding, the owner gave peer `id` a free slot between
  // rechokes; its turn starts now, at `uploaded` bytes sent.
  void StartTurn(uint64_t id, int64_t uploaded);

  // optimistic is the peer holding the optimistic slot (0 if none).
  uint64_t optimistic() const { return optimistic_; }

 private:
  std::vector<uint64_t> TakeTurns(absl::Span<const ChokerPeer> peers,
                                  absl::Time now);

  Options options_;
  SplitMix64 rng_;
  // Seeding turns: what each unchoked peer had been sent when its turn
  // began, and when each peer's last turn ended (absent: never had one).
  absl::flat_hash_map<uint64_t, int64_t> turn_start_;
  absl::flat_hash_map<uint64_t, absl::Time> turn_ended_;
  uint64_t optimistic_ = 0;
  absl::Time optimistic_since_ = absl::InfinitePast();
  absl::Time next_rechoke_ = absl::InfinitePast();
};

}  // namespace bt::client

#endif  // CLIENT_CHOKER_H_
