// HttpFetch: one HTTP(S) GET on the EventLoop, for tracker announces and
// scrapes. Non-blocking connect, TLS through BoringSSL with certificate and
// host name verification against the system CA store, a bounded number of
// redirects (never from https to plain http), one deadline for the whole
// fetch, and the response parsed by tracker/http_response.h within its
// size caps.
//
//   std::unique_ptr<HttpFetch> f = HttpFetch::Start(
//       loop, "https://tracker.example/announce?...", {}, {},
//       [](absl::StatusOr<bt::tracker::HttpResponse> r) { ... });
//   // keep `f` alive until the callback runs; destroying it cancels.
//
// Host names are resolved through HttpFetchOptions::resolver when given
// (otherwise getaddrinfo blocks the loop while DNS answers).
#ifndef CLIENT_NET_HTTP_FETCH_H_
#define CLIENT_NET_HTTP_FETCH_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/endpoint.h"
#include "base/liveness.h"
#include "client/net/event_loop.h"
#include "client/net/resolver.h"
#include "tracker/http_response.h"
#include "tracker/tracker_url.h"

typedef struct ssl_st SSL;

namespace bt::client {

struct HttpFetchOptions {
  // Deadline for the whole fetch, redirects included.
  EventLoop::Duration timeout = std::chrono::seconds(30);
  // Redirects followed before failing.
  int max_redirects = 5;
  tracker::HttpResponseLimits limits;
  std::string user_agent = "btkit/0.1";
  // extra_headers are sent after the fixed ones, as whole CRLF-terminated
  // lines (e.g. "Range: bytes=0-99\r\n"), on every request, redirects
  // included. Each request uses its own connection ("Connection: close"):
  // there is no keep-alive, hence no pipelining.
  std::string extra_headers;
  // PEM file of trusted CA certificates for https.
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
  // Host name lookups go through `resolver` (off the loop's thread); when
  // null, getaddrinfo runs on the loop's thread and blocks it.
  Resolver* resolver = nullptr;
};

// HttpFetchHooks observe the fetch (all optional). They must not destroy
// the HttpFetch.
struct HttpFetchHooks {
  std::function<void()> on_connect;     // TCP (and TLS) connection is up
  std::function<void()> on_disconnect;  // that connection was closed
  std::function<void(size_t)> on_read;  // bytes received (after TLS)
  std::function<void(size_t)> on_write; // bytes sent (before TLS)
};

class HttpFetch {
 public:
  using Done = std::function<void(absl::StatusOr<tracker::HttpResponse>)>;

  // Start begins a GET of `url` (http or https). `done` runs exactly once,
  // from the loop (never inside Start), with the final non-redirect
  // response of any status, or an error: kInvalidArgument (bad URL,
  // malformed response, or a redirect from https to http),
  // kResourceExhausted (a size cap), kNotFound (name
  // does not resolve), kUnavailable (connect/TLS/IO failure, time-out,
  // too many redirects), each naming the host. `done` may destroy the
  // HttpFetch. Destroying it earlier cancels the fetch silently.
  static std::unique_ptr<HttpFetch> Start(EventLoop* loop, std::string url,
                                          HttpFetchOptions options,
                                          HttpFetchHooks hooks, Done done);
  ~HttpFetch();
  HttpFetch(const HttpFetch&) = delete;
  HttpFetch& operator=(const HttpFetch&) = delete;

  // redirects_followed counts the redirects taken so far.
  int redirects_followed() const { return redirects_; }

 private:
  enum class State { kIdle, kConnecting, kHandshake, kSending, kReceiving };

  HttpFetch(EventLoop* loop, HttpFetchOptions options, HttpFetchHooks hooks,
            Done done);
  void Begin(const std::string& url);
  void Request(tracker::TrackerUrl url);  // resolve, connect, send
  void OnResolved(absl::StatusOr<std::vector<Endpoint>> addrs);
  void ConnectNext();
  void OnReady(uint32_t ready);
  void OnConnected();
  void DoHandshake();
  void DoSend();
  void DoReceive();
  void SetInterest(uint32_t interest);
  void CloseConnection();
  void Fail(absl::Status status);
  void Complete();
  void Deliver(absl::StatusOr<tracker::HttpResponse> result);
  absl::Status TlsError(const char* what, int ret);

  EventLoop* loop_;
  HttpFetchOptions options_;
  HttpFetchHooks hooks_;
  Done done_;
  Liveness liveness_;

  tracker::TrackerUrl url_;
  std::vector<Endpoint> addresses_;
  size_t next_address_ = 0;
  std::string last_connect_error_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  bool connected_ = false;
  State state_ = State::kIdle;
  std::string request_;
  size_t sent_ = 0;
  std::unique_ptr<tracker::HttpResponseParser> parser_;
  int redirects_ = 0;
  EventLoop::TimerId timer_ = 0;
  uint64_t resolve_id_ = 0;  // lookup in flight, 0 if none
  bool finished_ = false;
};

}  // namespace bt::client

#endif  // CLIENT_NET_HTTP_FETCH_H_
