#include "client/net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "absl/strings/str_format.h"

namespace bt::client {
namespace {

uint32_t ToEpoll(uint32_t interest) {
  uint32_t e = 0;
  if (interest & EventLoop::kReadable) e |= EPOLLIN | EPOLLRDHUP;
  if (interest & EventLoop::kWritable) e |= EPOLLOUT;
  return e;
}

uint32_t FromEpoll(uint32_t events) {
  uint32_t r = 0;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLPRI)) r |= EventLoop::kReadable;
  if (events & EPOLLOUT) r |= EventLoop::kWritable;
  if (events & EPOLLERR) r |= EventLoop::kError;
  if (events & (EPOLLHUP | EPOLLRDHUP)) r |= EventLoop::kHangup;
  return r;
}

uint64_t Tag(int fd, uint32_t generation) {
  return uint64_t{generation} << 32 | static_cast<uint32_t>(fd);
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrFormat("epoll_create1: %s", std::strerror(errno)));
  }
  int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    close(fd);
    return absl::InternalError(
        absl::StrFormat("eventfd: %s", std::strerror(errno)));
  }
  // The wake-up fd is registered with a tag no Watch() can produce
  // (generation 0) and never appears in fds_.
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = Tag(wake, 0);
  if (epoll_ctl(fd, EPOLL_CTL_ADD, wake, &ev) != 0) {
    close(wake);
    close(fd);
    return absl::InternalError(
        absl::StrFormat("epoll_ctl(eventfd): %s", std::strerror(errno)));
  }
  return std::unique_ptr<EventLoop>(new EventLoop(fd, wake));
}

EventLoop::~EventLoop() {
  close(wake_fd_);
  close(epoll_fd_);
}

void EventLoop::PostFromAnyThread(Callback callback) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(remote_mu_);
    was_empty = remote_posted_.empty();
    remote_posted_.push_back(std::move(callback));
  }
  // Only the first post of a batch wakes the loop: it takes the whole
  // queue (after reading the eventfd), so later posts ride along.
  if (!was_empty) return;
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof(one));
  (void)n;  // EAGAIN means the counter is already non-zero: still awake
}

int EventLoop::RunRemotePosts() {
  uint64_t counter;
  ssize_t n = read(wake_fd_, &counter, sizeof(counter));
  (void)n;
  std::vector<Callback> work;
  {
    std::lock_guard<std::mutex> lock(remote_mu_);
    work.swap(remote_posted_);
  }
  for (Callback& cb : work) cb();
  return static_cast<int>(work.size());
}

absl::Status EventLoop::Watch(int fd, uint32_t interest, FdCallback callback) {
  if (fds_.contains(fd)) {
    return absl::AlreadyExistsError(
        absl::StrFormat("event loop: fd %d is already watched", fd));
  }
  uint32_t generation = next_generation_++;
  epoll_event ev{};
  ev.events = ToEpoll(interest);
  ev.data.u64 = Tag(fd, generation);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "event loop: cannot watch fd %d: %s", fd, std::strerror(errno)));
  }
  fds_[fd] = Watcher{generation, interest,
                     std::make_shared<FdCallback>(std::move(callback))};
  return absl::OkStatus();
}

absl::Status EventLoop::SetInterest(int fd, uint32_t interest) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) {
    return absl::NotFoundError(
        absl::StrFormat("event loop: fd %d is not watched", fd));
  }
  if (it->second.interest == interest) return absl::OkStatus();
  epoll_event ev{};
  ev.events = ToEpoll(interest);
  ev.data.u64 = Tag(fd, it->second.generation);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    return absl::InternalError(absl::StrFormat(
        "event loop: cannot modify fd %d: %s", fd, std::strerror(errno)));
  }
  it->second.interest = interest;
  return absl::OkStatus();
}

void EventLoop::Unwatch(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);  // fails harmlessly if closed
  fds_.erase(it);
}

EventLoop::TimerId EventLoop::AddTimer(Duration delay, Callback callback) {
  return AddTimerAt(Now() + delay, std::move(callback));
}

EventLoop::TimerId EventLoop::AddTimerAt(TimePoint deadline,
                                         Callback callback) {
  TimerId id = next_timer_id_++;
  timers_.emplace(std::make_pair(deadline, id), std::move(callback));
  timer_deadlines_[id] = deadline;
  return id;
}

bool EventLoop::CancelTimer(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return false;
  timers_.erase(std::make_pair(it->second, id));
  timer_deadlines_.erase(it);
  return true;
}

void EventLoop::Post(Callback callback) {
  posted_.push_back(std::move(callback));
}

int EventLoop::RunDueTimers(TimePoint now) {
  // Only timers that existed when this pass started and are due run now;
  // ids grow monotonically, so the bound on ids excludes timers added by
  // the callbacks themselves.
  const TimerId bound = next_timer_id_;
  int ran = 0;
  while (!timers_.empty()) {
    auto it = timers_.begin();
    if (it->first.first > now) break;
    // Find the first due timer created before this pass.
    while (it != timers_.end() && it->first.first <= now &&
           it->first.second >= bound) {
      ++it;
    }
    if (it == timers_.end() || it->first.first > now) break;
    Callback cb = std::move(it->second);
    timer_deadlines_.erase(it->first.second);
    timers_.erase(it);
    cb();
    ++ran;
  }
  return ran;
}

absl::StatusOr<int> EventLoop::RunOnce(double timeout_seconds) {
  int ran = 0;
  if (!posted_.empty()) {
    std::vector<Callback> posted;
    posted.swap(posted_);
    for (Callback& cb : posted) {
      cb();
      ++ran;
    }
  }

  int timeout_ms;
  if (ran > 0 || !posted_.empty()) {
    timeout_ms = 0;  // work was done: only poll
  } else if (timeout_seconds < 0) {
    timeout_ms = -1;
  } else {
    double ms = std::ceil(timeout_seconds * 1000.0);
    timeout_ms = ms > 2e9 ? 2000000000 : static_cast<int>(ms);
  }
  if (!timers_.empty()) {
    TimePoint first = timers_.begin()->first.first;
    TimePoint now = Now();
    int64_t until_ms = 0;
    if (first > now) {
      // Round up so a wake-up never comes before the deadline (no spinning).
      until_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     first - now + std::chrono::microseconds(999))
                     .count();
    }
    if (timeout_ms < 0 || until_ms < timeout_ms) {
      timeout_ms = static_cast<int>(std::min<int64_t>(until_ms, 2000000000));
    }
  }

  epoll_event events[128];
  int n = epoll_wait(epoll_fd_, events, 128, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return ran;
    return absl::InternalError(
        absl::StrFormat("epoll_wait: %s", std::strerror(errno)));
  }
  for (int i = 0; i < n; ++i) {
    int fd = static_cast<int>(static_cast<uint32_t>(events[i].data.u64));
    uint32_t generation = static_cast<uint32_t>(events[i].data.u64 >> 32);
    if (generation == 0 && fd == wake_fd_) {
      ran += RunRemotePosts();
      continue;
    }
    auto it = fds_.find(fd);
    // Skip fds unwatched (or replaced) by an earlier callback in this batch.
    if (it == fds_.end() || it->second.generation != generation) continue;
    uint32_t ready = FromEpoll(events[i].events);
    // Report only what was asked for, plus errors and hangups.
    ready &= it->second.interest | kError | kHangup;
    if (ready == 0) continue;
    std::shared_ptr<FdCallback> cb = it->second.callback;  // survives Unwatch
    (*cb)(ready);
    ++ran;
  }
  ran += RunDueTimers(Now());
  return ran;
}

}  // namespace bt::client
