#include "client/net/http_fetch.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "client/net/socket_address.h"

namespace bt::client {
namespace {

// SharedTlsContext returns one verifying client context per CA file.
absl::StatusOr<SSL_CTX*> SharedTlsContext(const std::string& ca_file) {
  static std::mutex mu;
  static std::map<std::string, SSL_CTX*>* contexts =
      new std::map<std::string, SSL_CTX*>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = contexts->find(ca_file);
  if (it != contexts->end()) return it->second;
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  if (ctx == nullptr) return absl::InternalError("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    SSL_CTX_free(ctx);
    return absl::FailedPreconditionError(
        absl::StrFormat("cannot load CA certificates from %s", ca_file));
  }
  (*contexts)[ca_file] = ctx;
  return ctx;
}

std::string ErrnoText(int err) { return std::strerror(err); }

}  // namespace

HttpFetch::HttpFetch(EventLoop* loop, HttpFetchOptions options,
                     HttpFetchHooks hooks, Done done)
    : loop_(loop),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      done_(std::move(done)) {}

std::unique_ptr<HttpFetch> HttpFetch::Start(EventLoop* loop, std::string url,
                                            HttpFetchOptions options,
                                            HttpFetchHooks hooks, Done done) {
  std::unique_ptr<HttpFetch> f(
      new HttpFetch(loop, std::move(options), std::move(hooks), std::move(done)));
  HttpFetch* self = f.get();
  Liveness::Token token = f->liveness_.token();
  f->timer_ = loop->AddTimer(f->options_.timeout, [self, token] {
    if (!token.alive()) return;
    self->timer_ = 0;
    self->Fail(absl::UnavailableError(absl::StrFormat(
        "HTTP request to %s timed out after %.1f s", self->url_.HostHeader(),
        std::chrono::duration<double>(self->options_.timeout).count())));
  });
  // Begin on the loop so `done` never runs inside Start.
  loop->Post([self, token, url = std::move(url)] {
    if (token.alive() && !self->finished_) self->Begin(url);
  });
  return f;
}

HttpFetch::~HttpFetch() {
  finished_ = true;
  if (resolve_id_ != 0) options_.resolver->Cancel(resolve_id_);
  if (timer_ != 0) loop_->CancelTimer(timer_);
  CloseConnection();
}

void HttpFetch::Begin(const std::string& url) {
  absl::StatusOr<tracker::TrackerUrl> parsed = tracker::TrackerUrl::Parse(url);
  if (!parsed.ok()) return Fail(parsed.status());
  if (!parsed->is_http()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrFormat("not an http(s) URL: %s", url)));
  }
  Request(*std::move(parsed));
}

void HttpFetch::Request(tracker::TrackerUrl url) {
  url_ = std::move(url);
  if (options_.resolver == nullptr) {
    return OnResolved(ResolveHost(url_.host, url_.port));
  }
  Liveness::Token token = liveness_.token();
  resolve_id_ = options_.resolver->Resolve(
      url_.host, url_.port,
      [this, token](absl::StatusOr<std::vector<Endpoint>> addrs) {
        if (!token.alive()) return;
        resolve_id_ = 0;
        OnResolved(std::move(addrs));
      });
}

void HttpFetch::OnResolved(absl::StatusOr<std::vector<Endpoint>> addrs) {
  if (!addrs.ok()) return Fail(addrs.status());
  addresses_ = std::move(*addrs);
  next_address_ = 0;
  last_connect_error_.clear();
  ConnectNext();
}

void HttpFetch::ConnectNext() {
  if (next_address_ >= addresses_.size()) {
    return Fail(absl::UnavailableError(absl::StrFormat(
        "cannot connect to %s: %s", url_.HostHeader(), last_connect_error_)));
  }
  const Endpoint ep = addresses_[next_address_++];
  fd_ = socket(ep.is_v4() ? AF_INET : AF_INET6,
               SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    last_connect_error_ = ErrnoText(errno);
    return ConnectNext();
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(ep, &ss);
  int rc = connect(fd_, reinterpret_cast<sockaddr*>(&ss), len);
  if (rc != 0 && errno != EINPROGRESS) {
    last_connect_error_ = absl::StrFormat("%s: %s", ep.ToString(), ErrnoText(errno));
    close(fd_);
    fd_ = -1;
    return ConnectNext();
  }
  state_ = State::kConnecting;
  Liveness::Token token = liveness_.token();
  absl::Status s = loop_->Watch(fd_, EventLoop::kWritable, [this, token](uint32_t r) {
    if (token.alive()) OnReady(r);
  });
  if (!s.ok()) return Fail(s);
  if (rc == 0) OnConnected();
}

void HttpFetch::SetInterest(uint32_t interest) {
  if (fd_ >= 0) (void)loop_->SetInterest(fd_, interest);
}

void HttpFetch::OnReady(uint32_t ready) {
  switch (state_) {
    case State::kConnecting: {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last_connect_error_ = absl::StrFormat(
            "%s: %s", addresses_[next_address_ - 1].ToString(), ErrnoText(err));
        loop_->Unwatch(fd_);
        close(fd_);
        fd_ = -1;
        return ConnectNext();
      }
      return OnConnected();
    }
    case State::kHandshake:
      return DoHandshake();
    case State::kSending:
      return DoSend();
    case State::kReceiving:
      return DoReceive();
    case State::kIdle:
      return;
  }
}

void HttpFetch::OnConnected() {
  connected_ = true;
  if (hooks_.on_connect) hooks_.on_connect();
  request_ = tracker::BuildHttpGetRequest(url_, options_.user_agent,
                                          options_.extra_headers);
  sent_ = 0;
  parser_ = std::make_unique<tracker::HttpResponseParser>(options_.limits);
  if (url_.scheme == tracker::TrackerUrl::Scheme::kHttps) {
    absl::StatusOr<SSL_CTX*> ctx = SharedTlsContext(options_.ca_file);
    if (!ctx.ok()) return Fail(ctx.status());
    ssl_ = SSL_new(*ctx);
    if (ssl_ == nullptr) return Fail(absl::InternalError("SSL_new failed"));
    SSL_set_fd(ssl_, fd_);
    SSL_set_connect_state(ssl_);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (Endpoint::ParseAddress(url_.host, 0).ok()) {
      X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl_, url_.host.c_str());
      X509_VERIFY_PARAM_set1_host(param, url_.host.c_str(), url_.host.size());
    }
    state_ = State::kHandshake;
    return DoHandshake();
  }
  state_ = State::kSending;
  DoSend();
}

absl::Status HttpFetch::TlsError(const char* what, int ret) {
  int err = SSL_get_error(ssl_, ret);
  std::string detail;
  long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    detail = absl::StrFormat("certificate verification failed: %s",
                             X509_verify_cert_error_string(verify));
  } else if (unsigned long e = ERR_get_error(); e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    detail = buf;
  } else if (err == SSL_ERROR_SYSCALL) {
    detail = errno != 0 ? ErrnoText(errno) : "connection closed";
  } else {
    detail = absl::StrFormat("SSL error %d", err);
  }
  ERR_clear_error();
  return absl::UnavailableError(
      absl::StrFormat("TLS %s with %s: %s", what, url_.HostHeader(), detail));
}

void HttpFetch::DoHandshake() {
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    state_ = State::kSending;
    return DoSend();
  }
  int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ) return SetInterest(EventLoop::kReadable);
  if (err == SSL_ERROR_WANT_WRITE) return SetInterest(EventLoop::kWritable);
  Fail(TlsError("handshake", rc));
}

void HttpFetch::DoSend() {
  while (sent_ < request_.size()) {
    const char* p = request_.data() + sent_;
    size_t n = request_.size() - sent_;
    ssize_t w;
    if (ssl_ != nullptr) {
      int rc = SSL_write(ssl_, p, static_cast<int>(n));
      if (rc <= 0) {
        int err = SSL_get_error(ssl_, rc);
        if (err == SSL_ERROR_WANT_WRITE) return SetInterest(EventLoop::kWritable);
        if (err == SSL_ERROR_WANT_READ) return SetInterest(EventLoop::kReadable);
        return Fail(TlsError("write", rc));
      }
      w = rc;
    } else {
      w = send(fd_, p, n, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
          return SetInterest(EventLoop::kWritable);
        }
        return Fail(absl::UnavailableError(absl::StrFormat(
            "sending to %s: %s", url_.HostHeader(), ErrnoText(errno))));
      }
    }
    sent_ += static_cast<size_t>(w);
    if (hooks_.on_write) hooks_.on_write(static_cast<size_t>(w));
  }
  state_ = State::kReceiving;
  SetInterest(EventLoop::kReadable);
  if (ssl_ != nullptr && SSL_pending(ssl_) > 0) DoReceive();
}

void HttpFetch::DoReceive() {
  char buf[16384];
  for (int rounds = 0; rounds < 64; ++rounds) {
    ssize_t r;
    bool eof = false;
    if (ssl_ != nullptr) {
      int rc = SSL_read(ssl_, buf, sizeof(buf));
      if (rc <= 0) {
        int err = SSL_get_error(ssl_, rc);
        if (err == SSL_ERROR_WANT_READ) return SetInterest(EventLoop::kReadable);
        if (err == SSL_ERROR_WANT_WRITE) return SetInterest(EventLoop::kWritable);
        if (err == SSL_ERROR_ZERO_RETURN ||
            (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
          eof = true;  // close_notify, or a plain close without it
          ERR_clear_error();
        } else {
          return Fail(TlsError("read", rc));
        }
      }
      r = eof ? 0 : rc;
    } else {
      r = recv(fd_, buf, sizeof(buf), 0);
      if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        return Fail(absl::UnavailableError(absl::StrFormat(
            "receiving from %s: %s", url_.HostHeader(), ErrnoText(errno))));
      }
      eof = r == 0;
    }
    if (eof) {
      absl::Status s = parser_->FinishAtEof();
      if (!s.ok()) {
        return Fail(absl::Status(s.code(), absl::StrFormat("from %s: %s", url_.HostHeader(),
                                                           s.message())));
      }
      return Complete();
    }
    if (hooks_.on_read) hooks_.on_read(static_cast<size_t>(r));
    absl::Status s = parser_->Feed(std::string_view(buf, static_cast<size_t>(r)));
    if (!s.ok()) {
      return Fail(absl::Status(
          s.code(), absl::StrFormat("from %s: %s", url_.HostHeader(), s.message())));
    }
    if (parser_->done()) return Complete();
  }
}

void HttpFetch::CloseConnection() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    loop_->Unwatch(fd_);
    close(fd_);
    fd_ = -1;
  }
  state_ = State::kIdle;
  if (connected_) {
    connected_ = false;
    if (!finished_ && hooks_.on_disconnect) hooks_.on_disconnect();
  }
}

void HttpFetch::Complete() {
  tracker::HttpResponse response = parser_->response();
  CloseConnection();
  if (response.IsRedirect()) {
    std::optional<std::string_view> location = response.Header("location");
    if (location) {
      if (redirects_ >= options_.max_redirects) {
        return Fail(absl::UnavailableError(absl::StrFormat(
            "too many redirects (%d) from %s, last to \"%s\"",
            redirects_, url_.HostHeader(), std::string(location->substr(0, 200)))));
      }
      absl::StatusOr<std::string> next = tracker::ResolveRedirect(url_, *location);
      if (!next.ok()) return Fail(next.status());
      absl::StatusOr<tracker::TrackerUrl> target = tracker::TrackerUrl::Parse(*next);
      if (!target.ok()) return Fail(target.status());
      // As browsers and libtorrent do: what was asked over TLS is never
      // re-sent in the clear (the query carries the info-hash and peer id).
      if (url_.scheme == tracker::TrackerUrl::Scheme::kHttps &&
          target->scheme != tracker::TrackerUrl::Scheme::kHttps) {
        return Fail(absl::InvalidArgumentError(absl::StrFormat(
            "refusing a redirect from https://%s to plain http \"%s\"",
            url_.HostHeader(), absl::CHexEscape(next->substr(0, 200)))));
      }
      ++redirects_;
      return Request(*std::move(target));
    }
  }
  Deliver(std::move(response));
}

void HttpFetch::Fail(absl::Status status) {
  if (finished_) return;
  if (resolve_id_ != 0) {
    options_.resolver->Cancel(resolve_id_);
    resolve_id_ = 0;
  }
  CloseConnection();
  Deliver(std::move(status));
}

void HttpFetch::Deliver(absl::StatusOr<tracker::HttpResponse> result) {
  if (finished_) return;
  finished_ = true;
  if (timer_ != 0) {
    loop_->CancelTimer(timer_);
    timer_ = 0;
  }
  Done done = std::move(done_);
  done(std::move(result));  // may destroy *this: nothing after this line
}

}  // namespace bt::client
