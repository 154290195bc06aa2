#include "lsd/service.h"

#include <algorithm>
#include <utility>

#include "lsd/message.h"

namespace bt::lsd {
namespace {

// Unreachable: a source address no peer can be dialled at: unspecified,
// multicast, or IPv6 link-local (which needs an interface we are not told).
bool Unreachable(const Endpoint& from) {
  if (from.IsUnspecified()) return true;
  const ByteSpan a = from.address_bytes();
  if (from.is_v4()) return (a[0] & 0xf0) == 0xe0;
  return a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

}  // namespace

Service::Service(ServiceOptions options)
    : options_(std::move(options)),
      datagrams_(options_.datagram_rate, options_.datagram_burst,
                 options_.datagram_burst),
      peers_(options_.peer_rate, options_.peer_burst, options_.peer_burst) {}

void Service::SetTorrents(absl::Span<const Sha1Hash> info_hashes,
                          absl::Time now) {
  for (auto& [ih, e] : torrents_) e.active = false;
  for (const Sha1Hash& ih : info_hashes) torrents_[ih].active = true;
  // A removed torrent is remembered until it may be announced again, so
  // removing and adding it back does not announce it sooner.
  absl::erase_if(torrents_, [&](const auto& entry) {
    const Entry& e = entry.second;
    return !e.active && e.last_announce + options_.announce_interval <= now;
  });
}

std::vector<Sha1Hash> Service::Due(absl::Time now) {
  std::vector<Sha1Hash> due;
  if (now < last_round_ + options_.round_gap) return due;
  for (auto& [ih, e] : torrents_) {
    if (due.size() == options_.max_per_round) break;
    if (!e.active || e.last_announce + options_.announce_interval > now) {
      continue;
    }
    e.last_announce = now;
    due.push_back(ih);
  }
  if (!due.empty()) last_round_ = now;
  stats_.announced += due.size();
  return due;
}

std::vector<Found> Service::HandleDatagram(std::string_view datagram,
                                           const Endpoint& from,
                                           absl::Time now) {
  ++stats_.received;
  datagrams_.Refill(now);
  if (datagrams_.tokens() < 1) {
    ++stats_.rate_limited;
    return {};
  }
  datagrams_.Take(1);
  absl::StatusOr<Announce> a = ParseAnnounce(datagram);
  if (!a.ok()) {
    ++stats_.malformed;
    last_error_ = a.status();
    return {};
  }
  if (a->cookie == options_.cookie) {
    ++stats_.own;
    return {};
  }
  std::vector<Found> found;
  if (Unreachable(from)) return found;
  Endpoint peer = from;
  peer.set_port(a->port);
  peers_.Refill(now);
  for (const Sha1Hash& ih : a->info_hashes) {
    auto it = torrents_.find(ih);
    if (it == torrents_.end() || !it->second.active) continue;
    const bool repeat =
        std::any_of(found.begin(), found.end(),
                    [&](const Found& f) { return f.info_hash == ih; });
    if (repeat) continue;
    if (peers_.tokens() < 1) {
      ++stats_.peers_dropped;
      continue;
    }
    peers_.Take(1);
    found.push_back({ih, peer});
  }
  stats_.peers_found += found.size();
  return found;
}

}  // namespace bt::lsd
