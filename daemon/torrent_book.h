// TorrentBook: what the daemon knows of each torrent beyond the client —
// the small integer id Transmission's RPC names it by, when it was added,
// started and finished, what its trackers last said, how many bytes failed
// their hash checks — kept by info-hash, and the ids of torrents removed
// lately (torrent-get's "recently-active" reports them).
//
//   TorrentBook book;
//   int id = book.Add(t->info_hash(), absl::Now());   // 1, 2, 3, ...
//   TorrentRecord* r = book.Find(id);
//   book.Remove(t->info_hash(), absl::Now());
//
// Ids start at 1, are never reused within a daemon's run, and are given
// in the order torrents are added (a restarted daemon numbers its
// torrents afresh, as Transmission does).
#ifndef DAEMON_TORRENT_BOOK_H_
#define DAEMON_TORRENT_BOOK_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/hash.h"

namespace bt::daemon {

// UnixSeconds is `t` as the RPC's dates are: seconds since the epoch, 0
// for never (InfinitePast).
inline int64_t UnixSeconds(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixSeconds(t);
}

// TrackerRecord: the last answer of one tracker URL.
struct TrackerRecord {
  absl::Time last_announce = absl::InfinitePast();
  bool succeeded = false;
  std::string result;  // "Success" or the failure reason
  int64_t seeders = -1, leechers = -1, last_peer_count = 0;
  int64_t interval_seconds = 0;
};

// TorrentRecord: the daemon's bookkeeping of one torrent.
struct TorrentRecord {
  int id = 0;
  Sha1Hash info_hash;
  absl::Time added = absl::InfinitePast();
  absl::Time started = absl::InfinitePast();
  absl::Time done = absl::InfinitePast();
  absl::Time last_activity = absl::InfinitePast();
  int64_t corrupt_bytes = 0;
  // Its resume data was loaded or its data checked (it ran before).
  bool loaded = false;
  // Its own rate limits (kB/s), kept while off as Transmission does.
  int64_t download_limit = 100, upload_limit = 100;
  bool download_limited = false, upload_limited = false;
  // The limits for Torrent::SetRateLimits, in bytes/s (0: none).
  int64_t UploadLimitBytes() const {
    return upload_limited ? upload_limit * 1000 : 0;
  }
  int64_t DownloadLimitBytes() const {
    return download_limited ? download_limit * 1000 : 0;
  }
  std::map<std::string, TrackerRecord> trackers;  // by announce URL
};

class TorrentBook {
 public:
  // Add records a torrent and returns its id; a torrent already recorded
  // keeps its id.
  int Add(const Sha1Hash& info_hash, absl::Time now);
  // Remove forgets a torrent; its id is reported by RemovedSince.
  void Remove(const Sha1Hash& info_hash, absl::Time now);
  // Find: the record, or null.
  TorrentRecord* Find(int id);
  TorrentRecord* Find(const Sha1Hash& info_hash);
  // RemovedSince: ids of torrents removed at or after `since` (at most the
  // last kMaxRemembered removals are remembered).
  std::vector<int> RemovedSince(absl::Time since) const;
  static constexpr size_t kMaxRemembered = 1000;

  // Save returns, as JSON, what of each record outlives a restart: the
  // dates added and done, corrupt bytes and the torrent's own rate limits.
  std::string Save() const;
  // Restore puts what Save wrote back into the records of torrents
  // already added (others are skipped). Errors: kInvalidArgument for
  // malformed JSON or a wrongly typed entry (records then keep what they
  // had before that entry).
  absl::Status Restore(std::string_view json);

 private:
  int next_id_ = 1;
  // A node map: a flat one's slots, most of them empty, took 330 bytes a
  // torrent (records are ~200 bytes).
  absl::node_hash_map<Sha1Hash, TorrentRecord> by_hash_;
  absl::flat_hash_map<int, Sha1Hash> by_id_;
  std::vector<std::pair<absl::Time, int>> removed_;
};

}  // namespace bt::daemon

#endif  // DAEMON_TORRENT_BOOK_H_
