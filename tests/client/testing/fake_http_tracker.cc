#include "tests/client/testing/fake_http_tracker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace bt::client::testing {

int BindLoopback(int type, uint16_t* port, bool v6) {
  int fd =
      socket(v6 ? AF_INET6 : AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_loopback;
    len = sizeof(*sin6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(*sin);
  }
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&ss), len), 0);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  *port = v6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
             : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (type == SOCK_STREAM) listen(fd, 16);
  return fd;
}

FakeHttpTracker::FakeHttpTracker(EventLoop* loop,
                                 std::function<Reply(int)> respond, bool v6)
    : loop_(loop), respond_(std::move(respond)), v6_(v6) {
  listen_fd_ = BindLoopback(SOCK_STREAM, &port_, v6);
  EXPECT_TRUE(loop_
                  ->Watch(listen_fd_, EventLoop::kReadable,
                          [this](uint32_t) { Accept(); })
                  .ok());
}

FakeHttpTracker::~FakeHttpTracker() {
  for (auto& [fd, c] : conns_) {
    loop_->Unwatch(fd);
    close(fd);
  }
  loop_->Unwatch(listen_fd_);
  close(listen_fd_);
}

std::string FakeHttpTracker::url(const std::string& path) const {
  return absl::StrFormat("http://%s:%d%s", v6_ ? "[::1]" : "127.0.0.1", port_,
                         path);
}

void FakeHttpTracker::Accept() {
  int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return;
  conns_[fd] = Conn();
  ASSERT_TRUE(loop_
                  ->Watch(fd, EventLoop::kReadable,
                          [this, fd](uint32_t r) { OnConn(fd, r); })
                  .ok());
}
void FakeHttpTracker::Close(int fd) {
  loop_->Unwatch(fd);
  close(fd);
  conns_.erase(fd);
}
void FakeHttpTracker::OnConn(int fd, uint32_t ready) {
  Conn& c = conns_[fd];
  if (ready & EventLoop::kReadable) {
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return Close(fd);
    c.in.append(buf, n);
    if (!c.answered && c.in.find("\r\n\r\n") != std::string::npos) {
      c.answered = true;
      last_request_ = c.in;
      Reply r = respond_(++requests_);
      if (r.silent) return;
      c.out = r.bytes;
      c.stream = r.stream_forever;
      (void)loop_->SetInterest(fd, EventLoop::kReadable | EventLoop::kWritable);
    }
  }
  if ((ready & EventLoop::kWritable) && c.answered) {
    if (c.out.empty() && c.stream) c.out.assign(65536, 'x');
    ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) return Close(fd);
    if (c.stream) streamed_ += n;
    c.out.erase(0, n);
    if (c.out.empty() && !c.stream) Close(fd);
  }
}

FakeHttpTracker::Reply Http200(const std::string& body) {
  return {absl::StrFormat("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s",
                          body.size(), body)};
}

}  // namespace bt::client::testing
