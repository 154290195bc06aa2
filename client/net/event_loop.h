// EventLoop: btkit's single-threaded epoll loop. Everything in client/ that
// does network I/O (peer sockets, tracker HTTP/UDP, the DHT's UDP socket)
// registers file descriptors and timers here and is driven by RunOnce().
//
//   ASSIGN_OR_RETURN(std::unique_ptr<bt::client::EventLoop> loop,
//                    bt::client::EventLoop::Create());
//   RETURN_IF_ERROR(loop->Watch(fd, EventLoop::kReadable,
//                               [&](uint32_t ready) { OnSocket(ready); }));
//   loop->AddTimer(std::chrono::seconds(15), [&] { Retransmit(); });
//   while (running) RETURN_IF_ERROR(loop->RunOnce(/*timeout_seconds=*/-1).status());
//
// Model:
//   - File descriptors are level-triggered: a callback runs on every RunOnce
//     while its fd is ready for something it is interested in. Turn writable
//     interest on only while there is something to write (SetInterest).
//   - Timers are one-shot, ordered by deadline then by creation; a timer
//     added from a callback never runs in the same RunOnce (no starvation).
//   - Post() queues work to run at the start of the next RunOnce, before
//     waiting (useful to defer work out of a callback).
//   - Callbacks may freely Watch/Unwatch/SetInterest any fd (including their
//     own), add or cancel timers, and Post. After Unwatch(fd) returns, that
//     fd's callback is never called again, even for events already collected
//     in the current RunOnce; a callback that is running keeps its captured
//     state alive until it returns.
//   - The loop never closes descriptors: their owners do, after Unwatch.
//   - Not thread-safe: use it from one thread only, except
//     PostFromAnyThread, which other threads use to hand work to the loop.
// Time is std::chrono::steady_clock (monotonic); sans-I/O cores below client/
// receive Now() values from their adapters.
#ifndef CLIENT_NET_EVENT_LOOP_H_
#define CLIENT_NET_EVENT_LOOP_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bt::client {

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Duration = Clock::duration;
  using TimerId = uint64_t;

  // Interest and readiness bits. kError and kHangup are only ever reported
  // (epoll always reports them), never requested.
  static constexpr uint32_t kReadable = 1;
  static constexpr uint32_t kWritable = 2;
  static constexpr uint32_t kError = 4;
  static constexpr uint32_t kHangup = 8;

  // FdCallback receives the readiness bits of its fd.
  using FdCallback = std::function<void(uint32_t ready)>;
  using Callback = std::function<void()>;

  // Create makes a loop with its own epoll instance. Error: kInternal when
  // epoll_create1 fails (the message has errno's text).
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watch registers `fd` (which should be non-blocking) with `interest`
  // (kReadable | kWritable, or 0 to only hear errors/hangups) and `callback`.
  // Errors: kAlreadyExists if `fd` is watched, kInvalidArgument if epoll
  // refuses it (e.g. a regular file).
  absl::Status Watch(int fd, uint32_t interest, FdCallback callback);
  // SetInterest changes what a watched fd is waited for. kNotFound if `fd`
  // is not watched.
  absl::Status SetInterest(int fd, uint32_t interest);
  // Unwatch removes `fd`; no-op if not watched. Does not close it.
  void Unwatch(int fd);
  bool IsWatched(int fd) const { return fds_.contains(fd); }

  // AddTimer runs `callback` once, `delay` from Now() (a negative or zero
  // delay means "on the next RunOnce"). AddTimerAt takes a deadline.
  // Returns an id for CancelTimer; ids are never reused.
  TimerId AddTimer(Duration delay, Callback callback);
  TimerId AddTimerAt(TimePoint deadline, Callback callback);
  // CancelTimer stops a pending timer; false if it already ran, was
  // cancelled, or never existed.
  bool CancelTimer(TimerId id);

  // Post runs `callback` at the start of the next RunOnce.
  void Post(Callback callback);

  // PostFromAnyThread is the one thread-safe entry point: it queues
  // `callback` for the loop's thread and wakes a RunOnce that is waiting
  // (e.g. a hashing thread reporting a finished piece). Callbacks run in
  // the order posted, on the loop's thread, in the next RunOnce.
  void PostFromAnyThread(Callback callback);

  // RunOnce runs posted work, then waits up to `timeout_seconds` (fractional;
  // negative waits indefinitely, 0 only polls) for a ready fd or a due
  // timer, shortened to the earliest timer deadline, and runs every ready
  // fd's callback and every timer due by then. Returns the number of
  // callbacks run. Error: kInternal if epoll_wait fails (EINTR is not an
  // error: it returns normally).
  absl::StatusOr<int> RunOnce(double timeout_seconds);

  // Now is the loop's clock (monotonic).
  static TimePoint Now() { return Clock::now(); }

  size_t watched_count() const { return fds_.size(); }
  size_t timer_count() const { return timers_.size(); }

 private:
  struct Watcher {
    uint32_t generation;
    uint32_t interest;
    std::shared_ptr<FdCallback> callback;
  };

  EventLoop(int epoll_fd, int wake_fd) : epoll_fd_(epoll_fd), wake_fd_(wake_fd) {}
  int RunDueTimers(TimePoint now);
  int RunRemotePosts();

  int epoll_fd_;
  int wake_fd_;  // eventfd for PostFromAnyThread
  std::mutex remote_mu_;
  std::vector<Callback> remote_posted_;  // guarded by remote_mu_
  uint32_t next_generation_ = 1;
  absl::flat_hash_map<int, Watcher> fds_;
  TimerId next_timer_id_ = 1;
  std::map<std::pair<TimePoint, TimerId>, Callback> timers_;
  absl::flat_hash_map<TimerId, TimePoint> timer_deadlines_;
  std::vector<Callback> posted_;
};

}  // namespace bt::client

#endif  // CLIENT_NET_EVENT_LOOP_H_
