// PeerSet: the peers a torrent may connect to (from trackers, the DHT, peer
// exchange, local service discovery, the user and resume data), when to
// try each again, and the IP addresses it has banned. Bounded: at most
// max_candidates addresses are kept; when full, a new one from a tracker,
// the DHT or the user replaces one that keeps failing (or, failing that,
// the longest-known idle one), while hints from peer exchange and local
// service discovery (which anyone may send) are simply refused. Strikes
// and bans are kept per IP address, so a banned peer cannot come back with
// a new peer id or port. Sans-I/O: time is passed in.
//
//   bt::client::PeerSet peers;
//   peers.Add(endpoint, bt::client::PeerSet::Source::kTracker, now);
//   while (auto c = peers.NextToConnect(now)) Dial(c->address, c->plain_only);
//   peers.OnClosed(endpoint, /*was_active=*/false, /*plain_retry=*/false, now);
//   if (peers.Strike(bad.address(), PeerSet::kBanWeight)) CloseAllFrom(bad);
#ifndef CLIENT_PEER_SET_H_
#define CLIENT_PEER_SET_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/time/time.h"
#include "base/endpoint.h"

namespace bt::client {

class PeerSet {
 public:
  struct Options {
    size_t max_candidates = 2000;
    // Connection attempts that fail (no handshake) before a peer is
    // dropped, and how long to wait between attempts.
    int max_failures = 3;
    absl::Duration retry_after = absl::Seconds(15);
    // Addresses with strikes remembered at most.
    size_t max_strike_records = 4096;
  };
  enum class Source { kTracker, kDht, kPex, kLsd, kUser, kResume };
  // A strike of this weight bans at once; smaller ones add up to it.
  static constexpr int kBanWeight = 2;

  PeerSet() : PeerSet(Options()) {}
  explicit PeerSet(Options options) : options_(options) {}

  // What is known of a peer's uTP (BEP 29): nothing; that it speaks it
  // (a BEP 11 flag, or our connection over it); or that TCP is what
  // reached it (BEP 11 flags without uTP's, or our dial fell back to TCP).
  enum class Utp { kUnknown, kYes, kNo };

  // Add remembers `peer` to connect to; false if refused: banned, port 0,
  // already known, or the set is full (and `source` is kPex or kLsd, or
  // nothing can be replaced). `utp` is a hint from the source; for a peer
  // already known it fills in what is still unknown.
  bool Add(const Endpoint& peer, Source source, absl::Time now,
           Utp utp = Utp::kUnknown);

  struct Dial {
    Endpoint address;
    bool plain_only = false;  // MSE was refused: try without it
    bool utp_first = true;    // not known to be reachable over TCP only
  };
  // NextToConnect picks a candidate to dial now (not connected, not
  // waiting to retry, not failed out) and marks it connecting.
  std::optional<Dial> NextToConnect(absl::Time now);
  // MarkConnected notes a connection to `peer` that we did not dial (an
  // incoming one from its listen address), so it is not dialled too.
  void MarkConnected(const Endpoint& peer);
  // OnHandshake: a connection to `peer` completed its handshake, over uTP
  // or over TCP; the next dial starts with the same.
  void OnHandshake(const Endpoint& peer, bool over_utp);
  // OnClosed: the connection to `peer` ended. `was_active`: the handshake
  // had completed (otherwise it counts as a failed attempt);
  // `plain_retry`: redial at once without MSE.
  void OnClosed(const Endpoint& peer, bool was_active, bool plain_retry,
                absl::Time now);

  // RetryNow lets every candidate be dialled at once again, failed ones
  // included (a torrent restarted or asked to reannounce by its user).
  void RetryNow();

  // Strike adds `weight` to the strikes of `peer`'s IP address; true if
  // that address is now banned.
  bool Strike(const Endpoint& peer, int weight);
  bool Banned(const Endpoint& peer) const;

  // ForResume returns up to `max` addresses worth saving: those that
  // completed a handshake first, then the rest.
  std::vector<Endpoint> ForResume(size_t max) const;
  size_t size() const { return candidates_.size(); }
  // CountFrom is how many candidates came from `source` (first heard of).
  size_t CountFrom(Source source) const;
  bool Contains(const Endpoint& peer) const {
    return candidates_.contains(peer);
  }

 private:
  struct Candidate {
    Source source = Source::kUser;
    int failures = 0;
    bool connected = false;
    bool handshaked = false;  // ever
    bool plain_only = false;
    Utp utp = Utp::kUnknown;
    absl::Time added;
    absl::Time retry_at = absl::InfinitePast();
  };
  static Endpoint IpOf(const Endpoint& peer);
  // MakeRoom evicts one candidate that keeps failing or, failing that, the
  // oldest idle one; false if every candidate is connected.
  bool MakeRoom();
  // Index / Unindex keep failed_ and idle_ in step with a candidate: call
  // Unindex before changing its connected, failures or added, Index after.
  void Index(const Endpoint& peer, const Candidate& c);
  void Unindex(const Endpoint& peer, const Candidate& c);

  Options options_;
  absl::btree_map<Endpoint, Candidate> candidates_;
  // The candidates MakeRoom may evict, not connected: those that failed
  // out, and the others by age.
  absl::btree_set<Endpoint> failed_;
  absl::btree_set<std::pair<absl::Time, Endpoint>> idle_;
  absl::btree_map<Endpoint, int> strikes_;  // by IP (port 0)
};

}  // namespace bt::client

#endif  // CLIENT_PEER_SET_H_
