#include "daemon/torrent_book.h"

#include "base/status_macros.h"
#include "daemon/json_args.h"

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

namespace {

absl::Time FromUnix(int64_t seconds) {
  return seconds == 0 ? absl::InfinitePast() : absl::FromUnixSeconds(seconds);
}

}  // namespace

std::string TorrentBook::Save() const {
  Json all = Json::object();
  for (const auto& [hash, r] : by_hash_) {
    all[hash.ToHex()] = {{"added", UnixSeconds(r.added)},
                         {"done", UnixSeconds(r.done)},
                         {"corrupt", r.corrupt_bytes},
                         {"downloadLimit", r.download_limit},
                         {"downloadLimited", r.download_limited},
                         {"uploadLimit", r.upload_limit},
                         {"uploadLimited", r.upload_limited}};
  }
  return all.dump(1);
}

absl::Status TorrentBook::Restore(std::string_view json) {
  ASSIGN_OR_RETURN(Json all, ParseJson(json));
  if (!all.is_object()) return absl::InvalidArgumentError("not an object");
  for (const auto& [hex, saved] : all.items()) {
    absl::StatusOr<Sha1Hash> hash = Sha1Hash::FromHex(hex);
    TorrentRecord* r = hash.ok() ? Find(*hash) : nullptr;
    if (r == nullptr) continue;
    JsonArgs a(saved);
    int64_t added = UnixSeconds(r->added), done = UnixSeconds(r->done);
    RETURN_IF_ERROR(a.Int("added", &added, 0, INT64_MAX / 2));
    RETURN_IF_ERROR(a.Int("done", &done, 0, INT64_MAX / 2));
    RETURN_IF_ERROR(a.Int("corrupt", &r->corrupt_bytes, 0, INT64_MAX));
    RETURN_IF_ERROR(a.Int("downloadLimit", &r->download_limit, 0, kMaxSpeed));
    RETURN_IF_ERROR(a.Bool("downloadLimited", &r->download_limited));
    RETURN_IF_ERROR(a.Int("uploadLimit", &r->upload_limit, 0, kMaxSpeed));
    RETURN_IF_ERROR(a.Bool("uploadLimited", &r->upload_limited));
    r->added = FromUnix(added);
    r->done = FromUnix(done);
  }
  return absl::OkStatus();
}

}  // namespace bt::daemon
