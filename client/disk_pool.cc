#include "client/disk_pool.h"

#include <utility>

#include "protocol/message.h"

namespace bt::client {

DiskPool::DiskPool(Options options, Post post)
    : options_(options),
      post_(std::move(post)),
      buffers_(options_.max_queued_bytes / protocol::kBlockSize) {
  for (int i = 0; i < options_.threads; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

DiskPool::~DiskPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void DiskPool::Submit(size_t bytes, Task work, Task done) {
  if (workers_.empty()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queued_bytes_ += bytes;
      if (queued_bytes_ > options_.max_queued_bytes) was_congested_ = true;
    }
    post_([this, bytes, work = std::move(work), done = std::move(done)] {
      work();
      Release(bytes);
      done();
    });
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued_bytes_ += bytes;
    if (queued_bytes_ > options_.max_queued_bytes) was_congested_ = true;
    jobs_.push_back(Job{bytes, std::move(work), std::move(done)});
  }
  wake_.notify_one();
}

void DiskPool::WorkerLoop() {
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job.work();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) continue;  // finish the work, drop the completion
    }
    Release(job.bytes);
    post_(std::move(job.done));
  }
}

void DiskPool::Release(size_t bytes) {
  bool drained = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued_bytes_ -= bytes;
    if (was_congested_ && queued_bytes_ <= options_.max_queued_bytes / 2) {
      was_congested_ = false;
      drained = true;
    }
  }
  if (drained && on_drained_) post_(on_drained_);
}

bool DiskPool::congested() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_bytes_ > options_.max_queued_bytes;
}

size_t DiskPool::queued_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_bytes_;
}

void DiskPool::OnDrained(Task callback) { on_drained_ = std::move(callback); }

}  // namespace bt::client
