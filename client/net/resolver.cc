#include "client/net/resolver.h"

#include "client/net/socket_address.h"

namespace bt::client {

Resolver::Resolver(EventLoop* loop, Lookup lookup)
    : loop_(loop), lookup_(lookup ? std::move(lookup) : Lookup(ResolveHost)) {}

Resolver::~Resolver() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

uint64_t Resolver::Resolve(std::string host, uint16_t port, Done done) {
  const uint64_t id = next_id_++;
  pending_[id] = std::move(done);
  if (Endpoint::ParseAddress(host, port).ok()) {
    absl::StatusOr<std::vector<Endpoint>> r = ResolveHost(host, port);
    Liveness::Token token = liveness_.token();
    loop_->Post([this, token, id, r] {
      if (token.alive()) Deliver(id, r);
    });
    return id;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Job{id, std::move(host), port});
    if (!worker_.joinable()) worker_ = std::thread([this] { Work(); });
  }
  cv_.notify_one();
  return id;
}

void Resolver::Cancel(uint64_t id) { pending_.erase(id); }

void Resolver::Deliver(uint64_t id, absl::StatusOr<std::vector<Endpoint>> result) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // cancelled
  Done done = std::move(it->second);
  pending_.erase(it);
  done(std::move(result));
}

void Resolver::Work() {
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    absl::StatusOr<std::vector<Endpoint>> r = lookup_(job.host, job.port);
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;  // the Resolver is going away: the loop may be too
    // The token is checked on the loop thread, where the Resolver lives.
    Liveness::Token token = liveness_.token();
    loop_->PostFromAnyThread([this, token, id = job.id, r = std::move(r)] {
      if (token.alive()) Deliver(id, r);
    });
  }
}

}  // namespace bt::client
