// Resolver: host name lookups off the event loop's thread. getaddrinfo
// blocks (seconds, for a dead DNS server); one worker thread runs lookups
// in turn and hands results back through EventLoop::PostFromAnyThread, so
// peer traffic never waits for DNS. IP literals are answered without the
// thread. Tests pass a Lookup of their own so no real DNS query is made.
//
//   Resolver resolver(loop);
//   resolver.Resolve("tracker.example", 6969,
//                    [](absl::StatusOr<std::vector<bt::Endpoint>> r) {...});
#ifndef CLIENT_NET_RESOLVER_H_
#define CLIENT_NET_RESOLVER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "base/endpoint.h"
#include "base/liveness.h"
#include "client/net/event_loop.h"

namespace bt::client {

class Resolver {
 public:
  using Done = std::function<void(absl::StatusOr<std::vector<Endpoint>>)>;
  // Lookup is how a name is looked up, on the worker thread (so it must be
  // thread-safe and may block); ResolveHost (socket_address.h) by default.
  using Lookup = std::function<absl::StatusOr<std::vector<Endpoint>>(
      const std::string& host, uint16_t port)>;

  // `loop` must outlive the Resolver. A null `lookup` is ResolveHost; IP
  // literals never reach `lookup` (they are answered on the loop).
  explicit Resolver(EventLoop* loop, Lookup lookup = nullptr);
  // ~Resolver drops pending lookups; it waits for a lookup in progress
  // (getaddrinfo cannot be interrupted) before returning.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Resolve looks `host` up (see ResolveHost in socket_address.h for the
  // result and errors) and runs `done` on the loop's thread, never inside
  // Resolve. Returns an id for Cancel.
  uint64_t Resolve(std::string host, uint16_t port, Done done);
  // Cancel drops a lookup: its `done` will not run.
  void Cancel(uint64_t id);

 private:
  struct Job {
    uint64_t id;
    std::string host;
    uint16_t port;
  };
  void Work();
  void Deliver(uint64_t id, absl::StatusOr<std::vector<Endpoint>> result);

  EventLoop* loop_;
  Lookup lookup_;
  uint64_t next_id_ = 1;
  absl::flat_hash_map<uint64_t, Done> pending_;  // loop thread only
  Liveness liveness_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stop_ = false;      // guarded by mu_
  std::thread worker_;
};

}  // namespace bt::client

#endif  // CLIENT_NET_RESOLVER_H_
