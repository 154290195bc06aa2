#include "client/peer_set.h"

#include <algorithm>

namespace bt::client {

Endpoint PeerSet::IpOf(const Endpoint& peer) {
  Endpoint ip = peer;
  ip.set_port(0);
  return ip;
}

bool PeerSet::Add(const Endpoint& peer, Source source, absl::Time now,
                  Utp utp) {
  if (auto known = candidates_.find(peer); known != candidates_.end()) {
    if (known->second.utp == Utp::kUnknown) known->second.utp = utp;
    return false;
  }
  if (peer.port() == 0 || Banned(peer)) return false;
  if (candidates_.size() >= options_.max_candidates &&
      (source == Source::kPex || source == Source::kLsd || !MakeRoom())) {
    return false;
  }
  Candidate c;
  c.source = source;
  c.utp = utp;
  c.added = now;
  candidates_.emplace(peer, c);
  Index(peer, c);
  return true;
}

void PeerSet::Index(const Endpoint& peer, const Candidate& c) {
  if (c.connected) return;
  if (c.failures >= options_.max_failures) {
    failed_.insert(peer);
  } else {
    idle_.insert({c.added, peer});
  }
}

void PeerSet::Unindex(const Endpoint& peer, const Candidate& c) {
  failed_.erase(peer);
  idle_.erase({c.added, peer});
}

size_t PeerSet::CountFrom(Source source) const {
  return std::count_if(
      candidates_.begin(), candidates_.end(),
      [&](const auto& c) { return c.second.source == source; });
}

bool PeerSet::MakeRoom() {
  // One that keeps failing goes first, else the oldest idle one.
  Endpoint victim;
  if (!failed_.empty()) {
    victim = *failed_.begin();
  } else if (!idle_.empty()) {
    victim = idle_.begin()->second;
  } else {
    return false;
  }
  auto it = candidates_.find(victim);
  Unindex(victim, it->second);
  candidates_.erase(it);
  return true;
}

std::optional<PeerSet::Dial> PeerSet::NextToConnect(absl::Time now) {
  for (auto& [address, c] : candidates_) {
    if (c.connected || c.failures >= options_.max_failures ||
        now < c.retry_at || Banned(address)) {
      continue;
    }
    Unindex(address, c);
    c.connected = true;
    c.retry_at = now + options_.retry_after;
    return Dial{address, c.plain_only, c.utp != Utp::kNo};
  }
  return std::nullopt;
}

void PeerSet::MarkConnected(const Endpoint& peer) {
  auto it = candidates_.find(peer);
  if (it == candidates_.end()) return;
  Unindex(peer, it->second);
  it->second.connected = true;
}

void PeerSet::OnHandshake(const Endpoint& peer, bool over_utp) {
  auto it = candidates_.find(peer);
  if (it == candidates_.end()) return;
  Unindex(peer, it->second);
  it->second.failures = 0;
  it->second.handshaked = true;
  it->second.utp = over_utp ? Utp::kYes : Utp::kNo;
  Index(peer, it->second);
}

void PeerSet::OnClosed(const Endpoint& peer, bool was_active,
                       bool plain_retry, absl::Time now) {
  auto it = candidates_.find(peer);
  if (it == candidates_.end()) return;
  Candidate& c = it->second;
  Unindex(peer, c);
  c.connected = false;
  if (plain_retry) {
    // The peer does not speak MSE: try again in plaintext at once.
    c.plain_only = true;
    c.retry_at = absl::InfinitePast();
  } else if (!was_active) {
    ++c.failures;
    c.retry_at = now + options_.retry_after;
  }
  Index(peer, c);
}

void PeerSet::RetryNow() {
  for (auto& [address, c] : candidates_) {
    Unindex(address, c);
    c.failures = 0;
    c.retry_at = absl::InfinitePast();
    Index(address, c);
  }
}

bool PeerSet::Strike(const Endpoint& peer, int weight) {
  const Endpoint ip = IpOf(peer);
  if (!strikes_.contains(ip) && strikes_.size() >= options_.max_strike_records) {
    // Forget addresses with strikes but no ban first.
    for (auto it = strikes_.begin(); it != strikes_.end();) {
      if (it->second < kBanWeight) {
        it = strikes_.erase(it);
      } else {
        ++it;
      }
    }
    if (strikes_.size() >= options_.max_strike_records) return false;
  }
  int& s = strikes_[ip];
  s = std::min(s + weight, kBanWeight);
  return s >= kBanWeight;
}

bool PeerSet::Banned(const Endpoint& peer) const {
  auto it = strikes_.find(IpOf(peer));
  return it != strikes_.end() && it->second >= kBanWeight;
}

std::vector<Endpoint> PeerSet::ForResume(size_t max) const {
  std::vector<Endpoint> out;
  for (bool handshaked : {true, false}) {
    for (const auto& [address, c] : candidates_) {
      if (out.size() >= max) return out;
      if (c.handshaked == handshaked && c.failures < options_.max_failures) {
        out.push_back(address);
      }
    }
  }
  return out;
}

}  // namespace bt::client
