// DiskPool: a few worker threads that do the client's disk reads, writes
// and hashing, so the event loop never waits on a disk or a hash. Jobs run
// in the order submitted, spread over the workers; each job's completion is
// handed back to the owner's thread through a `post` function (the event
// loop's PostFromAnyThread), so completions run where the rest of the
// client runs. The bytes a job holds (a block to write, a piece to hash)
// count against a budget: while more than `max_queued_bytes` are queued the
// pool is congested and the client stops reading from peers (as
// libtorrent's disk queue does), until it has drained below half.
//
//   bt::client::DiskPool pool({.threads = 2},
//                             [&](auto fn) { loop.PostFromAnyThread(fn); });
//   pool.Submit(block.size(),
//               [=] { status = storage->WriteBlock(...); },  // a worker
//               [=] { OnWritten(status); });                 // the loop
//   if (pool.congested()) PauseReading();
//   pool.OnDrained([&] { ResumeReading(); });
//
// With `threads` = 0 nothing runs in the background: each job (work, then
// completion) is handed to `post` at once, for deterministic tests and
// fuzzing that drain their own queue (before destroying the pool: the
// posted tasks refer to it).
//
// Destruction waits for the job running on each worker, runs the work of
// jobs still queued (so accepted writes reach the disk) and drops their
// completions.
#ifndef CLIENT_DISK_POOL_H_
#define CLIENT_DISK_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "client/block_buffers.h"

namespace bt::client {

class DiskPool {
 public:
  struct Options {
    int threads = 2;
    size_t max_queued_bytes = 4 << 20;
  };
  using Task = std::function<void()>;
  using Post = std::function<void(Task)>;

  DiskPool(Options options, Post post);
  ~DiskPool();
  DiskPool(const DiskPool&) = delete;
  DiskPool& operator=(const DiskPool&) = delete;

  // Submit queues `work` for a worker, then `done` for the owner's thread.
  // `bytes` counts against the budget until `done` has been posted.
  void Submit(size_t bytes, Task work, Task done);

  // PostToOwner hands `task` to the owner's thread (thread-safe): how
  // worker-side code reports back, e.g. storage events.
  void PostToOwner(Task task) { post_(std::move(task)); }
  // congested: more than max_queued_bytes are held by queued jobs.
  bool congested() const;
  size_t queued_bytes() const;
  // OnDrained sets what runs (on the owner's thread) when a congested pool
  // has drained below half its budget. Call it before submitting work.
  void OnDrained(Task callback);
  int threads() const { return static_cast<int>(workers_.size()); }
  // buffers: recycled block buffers for the blocks this pool's jobs carry
  // (as many kept as fill the budget).
  BlockBuffers& buffers() { return buffers_; }

 private:
  struct Job {
    size_t bytes;
    Task work;
    Task done;
  };
  void WorkerLoop();
  void Release(size_t bytes);

  Options options_;
  Post post_;
  BlockBuffers buffers_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;  // guarded by mu_
  size_t queued_bytes_ = 0;  // guarded by mu_
  bool was_congested_ = false;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  Task on_drained_;
  std::vector<std::thread> workers_;
};

}  // namespace bt::client

#endif  // CLIENT_DISK_POOL_H_
