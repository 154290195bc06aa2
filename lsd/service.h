// Service: Local Service Discovery (BEP 14) as a sans-I/O core. The owner
// tells it which torrents to announce, sends the info-hashes it says are
// due (as BT-SEARCH datagrams to the multicast groups: EncodeAnnounces),
// and feeds it every datagram received on the LSD port; it returns the
// peers found for those torrents. Time is passed in.
//
//   bt::lsd::Service lsd({.cookie = "1f2e3d4c"});
//   lsd.SetTorrents({ih_a, ih_b}, now);          // whenever the set changes
//   std::vector<bt::Sha1Hash> due = lsd.Due(now);  // e.g. every second
//   for (auto& d : bt::lsd::EncodeAnnounces(bt::lsd::kHostV4, port, due,
//                                           lsd.cookie())) {
//     socket.SendTo(d, group);
//   }
//   for (const bt::lsd::Found& f : lsd.HandleDatagram(bytes, from, now)) {
//     torrent(f.info_hash)->AddPeer(f.peer);
//   }
//
// Pace (BEP 14): each torrent is announced when it is added and then every
// announce_interval (5 minutes), never more often, also when removed and
// added again; announce rounds are at least round_gap apart (the BEP's
// "no more than 1 announce per minute"), each at most max_per_round
// info-hashes (batched several per datagram). A torrent added between
// rounds waits for the next one.
//
// Untrusted input: datagrams from anyone on the local network. Own
// announces (our cookie, echoed by multicast loopback) are ignored; only
// info-hashes of the announced torrents yield peers; global token buckets
// bound the datagrams parsed and the peers returned per second, so a flood
// costs bounded time and adds a bounded number of peers. The service keeps
// no per-sender state: its memory is bounded by the torrents it announces.
//
// Not thread-safe: one thread drives a Service.
#ifndef LSD_SERVICE_H_
#define LSD_SERVICE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "base/token_bucket.h"

namespace bt::lsd {

struct ServiceOptions {
  // Our cookie: sent in every announce; received announces carrying it
  // are our own. Must not be empty (nor longer than kMaxCookieBytes).
  std::string cookie;
  absl::Duration announce_interval = absl::Minutes(5);
  absl::Duration round_gap = absl::Minutes(1);
  size_t max_per_round = 100;
  // Datagrams parsed per second (and burst), then peers returned per
  // second (and burst); beyond them datagrams and peers are dropped.
  double datagram_rate = 50, datagram_burst = 100;
  double peer_rate = 10, peer_burst = 50;
};

// Found: a peer announced for one of our torrents (its address is the
// datagram's source address with the announced port).
struct Found {
  Sha1Hash info_hash;
  Endpoint peer;
  bool operator==(const Found&) const = default;
};

// ServiceStats counts what HandleDatagram saw, by outcome, and what Due
// handed out.
struct ServiceStats {
  uint64_t received = 0;       // datagrams handed in
  uint64_t malformed = 0;      // refused by ParseAnnounce
  uint64_t own = 0;            // carrying our cookie
  uint64_t rate_limited = 0;   // datagrams dropped unparsed
  uint64_t peers_found = 0;    // peers returned
  uint64_t peers_dropped = 0;  // peers over the peer rate
  uint64_t announced = 0;      // info-hashes returned by Due
};

class Service {
 public:
  explicit Service(ServiceOptions options);

  const std::string& cookie() const { return options_.cookie; }

  // SetTorrents makes `info_hashes` the set to announce and to take peers
  // for (duplicates count once). Those new to the set become due at the
  // next round unless announced within announce_interval.
  void SetTorrents(absl::Span<const Sha1Hash> info_hashes, absl::Time now);

  // Due returns the info-hashes to announce now (empty between rounds)
  // and counts them as announced at `now`.
  std::vector<Sha1Hash> Due(absl::Time now);

  // HandleDatagram takes one received datagram from `from` and returns the
  // peers it announces for our torrents (none for a datagram that is
  // malformed, our own, over the rate limits, or about other torrents, nor
  // from an address no peer can be dialled at: unspecified, multicast or
  // IPv6 link-local).
  // last_error() keeps why the last malformed one was refused.
  std::vector<Found> HandleDatagram(std::string_view datagram,
                                    const Endpoint& from, absl::Time now);

  const ServiceStats& stats() const { return stats_; }
  const absl::Status& last_error() const { return last_error_; }
  // tracked is how many info-hashes the service remembers (announced
  // torrents, and removed ones until their interval has passed).
  size_t tracked() const { return torrents_.size(); }

 private:
  struct Entry {
    bool active = false;
    absl::Time last_announce = absl::InfinitePast();
  };

  ServiceOptions options_;
  absl::btree_map<Sha1Hash, Entry> torrents_;
  absl::Time last_round_ = absl::InfinitePast();
  TokenBucket datagrams_, peers_;
  ServiceStats stats_;
  absl::Status last_error_;
};

}  // namespace bt::lsd

#endif  // LSD_SERVICE_H_
