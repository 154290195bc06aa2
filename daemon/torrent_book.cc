#include "daemon/torrent_book.h"

namespace bt::daemon {

int TorrentBook::Add(const Sha1Hash& info_hash, absl::Time now) {
  auto [it, added] = by_hash_.try_emplace(info_hash);
  if (added) {
    it->second.id = next_id_++;
    it->second.info_hash = info_hash;
    it->second.added = now;
    by_id_[it->second.id] = info_hash;
  }
  return it->second.id;
}

void TorrentBook::Remove(const Sha1Hash& info_hash, absl::Time now) {
  auto it = by_hash_.find(info_hash);
  if (it == by_hash_.end()) return;
  int id = it->second.id;
  by_id_.erase(id);
  by_hash_.erase(it);
  if (removed_.size() == kMaxRemembered) removed_.erase(removed_.begin());
  removed_.emplace_back(now, id);
}

TorrentRecord* TorrentBook::Find(int id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : Find(it->second);
}

TorrentRecord* TorrentBook::Find(const Sha1Hash& info_hash) {
  auto it = by_hash_.find(info_hash);
  return it == by_hash_.end() ? nullptr : &it->second;
}

std::vector<int> TorrentBook::RemovedSince(absl::Time since) const {
  std::vector<int> ids;
  for (const auto& [when, id] : removed_) {
    if (when >= since) ids.push_back(id);
  }
  return ids;
}

}  // namespace bt::daemon
