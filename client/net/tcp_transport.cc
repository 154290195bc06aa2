#include "client/net/tcp_transport.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_format.h"
#include "client/net/socket_address.h"

namespace bt::client {
namespace {

// Socket buffers large enough for fast local transfers.
constexpr int kSocketBuffer = 4 << 20;

// Connections the kernel holds for accept(). With 128, 200 peers connecting
// at once (the many-peers benchmark) overflowed it while the loop served
// others: SYNs were dropped and those peers connected a second later. The
// kernel caps it at net.core.somaxconn.
constexpr int kListenBacklog = 1024;

void TuneSocket(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int size = kSocketBuffer;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

absl::Status Errno(std::string_view what) {
  return absl::UnavailableError(
      absl::StrFormat("%s failed: %s", what, std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpTransport>> TcpTransport::Connect(
    EventLoop* loop, const Endpoint& peer,
    const std::optional<Endpoint>& bind_to) {
  int fd = ::socket(peer.is_v6() ? AF_INET6 : AF_INET,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  TuneSocket(fd);
  sockaddr_storage ss;
  if (bind_to && bind_to->is_v6() == peer.is_v6()) {
    socklen_t len = ToSockaddr(*bind_to, &ss);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      absl::Status s = Errno("bind");
      ::close(fd);
      return s;
    }
  }
  socklen_t len = ToSockaddr(peer, &ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 &&
      errno != EINPROGRESS) {
    absl::Status s = Errno("connect");
    ::close(fd);
    return s;
  }
  return std::unique_ptr<TcpTransport>(new TcpTransport(loop, fd, peer, false));
}

std::unique_ptr<TcpTransport> TcpTransport::Adopt(EventLoop* loop, int fd,
                                                  const Endpoint& peer) {
  TuneSocket(fd);
  return std::unique_ptr<TcpTransport>(new TcpTransport(loop, fd, peer, true));
}

TcpTransport::~TcpTransport() { Close(); }

absl::Status TcpTransport::Start(Observer* observer) {
  observer_ = observer;
  const uint32_t interest = connected_ ? EventLoop::kReadable
                                       : EventLoop::kWritable;
  return loop_->Watch(fd_, interest, [this](uint32_t ready) { OnReady(ready); });
}

void TcpTransport::OnReady(uint32_t ready) {
  if (fd_ < 0) return;
  if (!connected_) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (ready & (EventLoop::kError | EventLoop::kHangup))) {
      observer_->OnTransportError(absl::UnavailableError(absl::StrFormat(
          "connect failed: %s", std::strerror(err ? err : ECONNREFUSED))));
      return;
    }
    connected_ = true;
    ApplyInterest();
    observer_->OnTransportConnected();
    return;
  }
  if ((ready & EventLoop::kReadable) && fd_ >= 0) observer_->OnTransportReadable();
  if ((ready & EventLoop::kWritable) && fd_ >= 0) observer_->OnTransportWritable();
  if ((ready & (EventLoop::kError | EventLoop::kHangup)) &&
      !(ready & EventLoop::kReadable) && fd_ >= 0) {
    observer_->OnTransportError(absl::UnavailableError("connection reset"));
  }
}

absl::StatusOr<size_t> TcpTransport::Read(absl::Span<char> buf) {
  if (fd_ < 0) return absl::UnavailableError("transport closed");
  while (true) {
    ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) return absl::UnavailableError("connection closed by peer");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t{0};
    return Errno("read");
  }
}

absl::StatusOr<size_t> TcpTransport::Write(std::string_view data) {
  if (fd_ < 0) return absl::UnavailableError("transport closed");
  while (true) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t{0};
    return Errno("write");
  }
}

namespace {

void SetCork(int fd, bool on) {
  const int value = on ? 1 : 0;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, sizeof(value));
}

sigset_t PipeSignal() {
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  return pipe;
}

}  // namespace

void TcpTransport::BeginFileSends() {
  if (fd_ < 0 || sending_files_) return;
  sending_files_ = true;
  pipe_broke_ = false;
  SetCork(fd_, true);
  // sendfile(2) has no MSG_NOSIGNAL: a peer gone raises SIGPIPE, which
  // would end the process. It is held off for this thread until
  // EndFileSends, which takes back any raised meanwhile.
  const sigset_t pipe = PipeSignal();
  pthread_sigmask(SIG_BLOCK, &pipe, &mask_before_files_);
}

void TcpTransport::EndFileSends() {
  if (!sending_files_) return;
  sending_files_ = false;
  if (fd_ >= 0) SetCork(fd_, false);
  if (pipe_broke_ && !sigismember(&mask_before_files_, SIGPIPE)) {
    const sigset_t pipe = PipeSignal();
    const struct timespec now = {0, 0};
    while (sigtimedwait(&pipe, nullptr, &now) == SIGPIPE) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &mask_before_files_, nullptr);
}

absl::StatusOr<size_t> TcpTransport::SendFile(int fd, int64_t offset,
                                              size_t length) {
  if (fd_ < 0) return absl::UnavailableError("transport closed");
  if (!sending_files_) {
    return absl::FailedPreconditionError("SendFile outside BeginFileSends");
  }
  while (true) {
    off_t at = offset;
    const ssize_t n = ::sendfile(fd_, fd, &at, length);
    if (n > 0 || (n == 0 && length == 0)) return static_cast<size_t>(n);
    if (n == 0) {
      return absl::DataLossError(
          absl::StrFormat("sendfile: the file ends before byte %d", offset));
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t{0};
    if (errno == EPIPE) pipe_broke_ = true;  // SIGPIPE raised: take it back
    return Errno("sendfile");
  }
}

void TcpTransport::SetReading(bool on) {
  if (on == reading_) return;
  reading_ = on;
  ApplyInterest();
}

void TcpTransport::SetWantWrite(bool on) {
  if (on == want_write_) return;
  want_write_ = on;
  ApplyInterest();
}

void TcpTransport::ApplyInterest() {
  if (fd_ < 0 || !connected_) return;
  (void)loop_->SetInterest(fd_, (reading_ ? EventLoop::kReadable : 0) |
                                    (want_write_ ? EventLoop::kWritable : 0));
}

void TcpTransport::Close() {
  EndFileSends();
  if (fd_ < 0) return;
  loop_->Unwatch(fd_);
  ::close(fd_);
  fd_ = -1;
}

// --- listener -------------------------------------------------------------

absl::StatusOr<std::unique_ptr<TcpListener>> TcpListener::Listen(
    EventLoop* loop, const Endpoint& local) {
  int fd = ::socket(local.is_v6() ? AF_INET6 : AF_INET,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return BindError(local.ToString(), errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // IPv6 only: an IPv4 listener may hold the same port number beside it.
  if (local.is_v6()) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(local, &ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      ::listen(fd, kListenBacklog) != 0) {
    absl::Status s = BindError(local.ToString(), errno);
    ::close(fd);
    return s;
  }
  len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  std::optional<Endpoint> bound =
      FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  return std::unique_ptr<TcpListener>(
      new TcpListener(loop, fd, bound ? *bound : local));
}

TcpListener::~TcpListener() {
  loop_->Unwatch(fd_);
  ::close(fd_);
}

absl::Status TcpListener::Start(AcceptCallback on_accept) {
  on_accept_ = std::move(on_accept);
  return loop_->Watch(fd_, EventLoop::kReadable,
                      [this](uint32_t) { OnAcceptable(); });
}

void TcpListener::OnAcceptable() {
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    std::optional<Endpoint> from =
        FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    if (!from) {
      ::close(fd);
      continue;
    }
    on_accept_(TcpTransport::Adopt(loop_, fd, *from));
  }
}

}  // namespace bt::client
