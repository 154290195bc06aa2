// DhtAnnounceQueue: paces a client's DHT announces (BEP 5 announce_peer
// lookups) across its torrents. Torrents ask for an announce whenever
// theirs is due; the queue runs at most `max_running` at once, in the
// order asked, and starts the next as one finishes. Without it a client
// that starts 10,000 torrents would ask its DHT node for 10,000 lookups in
// one second: the node refuses all past its own limit
// (dht::NodeOptions::max_lookups), and those torrents would not be
// announced at all.
//
//   DhtAnnounceQueue queue(8, [&](const Sha1Hash& ih,
//                                  std::function<void()> done) {
//     return StartAnnounce(ih, std::move(done));  // false: not started
//   });
//   queue.Add(info_hash);  // starts at once if fewer than 8 run
//   // ... `done` runs when that announce ends: the next one starts.
//
// An info-hash is queued at most once, running or waiting. `start` may
// decline (the torrent is gone, the DHT refused): the queue moves on.
// `done` may be called at any time, even inside `start` or after the
// queue is gone; only its first call counts. Single-threaded.
#ifndef CLIENT_DHT_ANNOUNCE_QUEUE_H_
#define CLIENT_DHT_ANNOUNCE_QUEUE_H_

#include <cstddef>
#include <deque>
#include <functional>

#include "absl/container/flat_hash_set.h"
#include "base/hash.h"
#include "base/liveness.h"

namespace bt::client {

class DhtAnnounceQueue {
 public:
  // Start begins one announce of `info_hash` and returns true, or returns
  // false if it did not start (then `done` is never called).
  using Start = std::function<bool(const Sha1Hash& info_hash,
                                   std::function<void()> done)>;

  DhtAnnounceQueue(size_t max_running, Start start);
  DhtAnnounceQueue(const DhtAnnounceQueue&) = delete;
  DhtAnnounceQueue& operator=(const DhtAnnounceQueue&) = delete;

  // Add asks for an announce of `info_hash`; nothing happens if one is
  // already waiting or running.
  void Add(const Sha1Hash& info_hash);

  size_t running() const { return running_; }
  size_t waiting() const { return waiting_.size(); }

 private:
  void StartWaiting();
  void Finished(const Sha1Hash& info_hash);

  size_t max_running_;
  Start start_;
  size_t running_ = 0;
  std::deque<Sha1Hash> waiting_;
  // Waiting or running.
  absl::flat_hash_set<Sha1Hash> queued_;
  bool starting_ = false;  // inside StartWaiting
  Liveness liveness_;
};

}  // namespace bt::client

#endif  // CLIENT_DHT_ANNOUNCE_QUEUE_H_
