// RpcHttpServer: the HTTP front door of `bt daemon`. It serves the
// Transmission RPC (JSON POSTed to /transmission/rpc, with or without a
// trailing slash) and the web client's files (/transmission/web/...) with
// libmicrohttpd, run on the client's EventLoop: no thread of its own, every
// request and the RPC handler run on the loop's thread.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<bt::daemon::RpcHttpServer> server,
//                    bt::daemon::RpcHttpServer::Start(
//                        loop.get(), {.port = 9091},
//                        [&](std::string_view body) { return rpc.Handle(body);
//                        }));
//   while (running) RETURN_IF_ERROR(loop->RunOnce(-1).status());
//
// Per request, as Transmission's daemon does:
//   - HTTP Basic auth first, when a user or password is set: 401 with
//     `WWW-Authenticate: Basic realm="Transmission"` otherwise. Without
//     it, a Host header that is not an address, localhost or an allowed
//     name gets 421 (the DNS-rebinding defence).
//   - RPC: only POST (405 else); the X-Transmission-Session-Id header must
//     hold session_id() (409 carrying the id otherwise: the CSRF defence);
//     a body over max_body_bytes gets 413 and is never buffered past the
//     bound; then the handler's reply goes out as 200 application/json.
//   - GET /, /transmission and /transmission/web redirect (301) to
//     /transmission/web/; files there come from web_root, never from
//     outside it; anything else is 404.
// Header sizes are bounded by the per-connection memory limit (MHD answers
// an oversized request itself); idle connections close after the timeout.
#ifndef DAEMON_NET_RPC_HTTP_SERVER_H_
#define DAEMON_NET_RPC_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "client/net/event_loop.h"
#include "daemon/net/web_files.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace bt::daemon {

struct RpcHttpOptions {
  std::string bind_host = "127.0.0.1";  // IPv4 or IPv6 literal
  uint16_t port = 9091;                 // 0: any free port
  std::string user, password;           // both empty: no authentication
  size_t max_body_bytes = 16 << 20;
  std::string web_root;  // served under /transmission/web/; "" = none
  unsigned max_connections = 64, max_connections_per_ip = 32;
  unsigned connection_timeout_seconds = 30;
  // Memory MHD may use per connection; bounds the request line and headers.
  size_t connection_memory_bytes = 32 << 10;
  // Without authentication, the Host a request names must be an IP
  // address, "localhost", or one of these names (as Transmission's
  // rpc-host-whitelist): a web page whose name an attacker re-points at
  // 127.0.0.1 (DNS rebinding) cannot then read the session id.
  std::vector<std::string> allowed_hosts;
};

// RpcHandler gets a request body (JSON text, unparsed) and returns the
// response body (JSON text). It runs on the loop's thread.
using RpcHandler = std::function<std::string(std::string_view body)>;

class RpcHttpServer {
 public:
  // Start binds bind_host:port and serves on `loop`, which must outlive the
  // server. Errors: kInvalidArgument when bind_host is not an IP literal or
  // web_root is not a directory; kFailedPrecondition when bind_host is not
  // a loopback address and neither user nor password is set (a remote bind
  // requires auth), or the address is not one of this host's;
  // kUnavailable when the port is in use or libmicrohttpd refuses to start.
  static absl::StatusOr<std::unique_ptr<RpcHttpServer>> Start(
      client::EventLoop* loop, RpcHttpOptions options, RpcHandler handler);

  // ~RpcHttpServer stops MHD (closing its sockets), unwatches its fd and
  // cancels its timer. Must not run from inside the handler.
  ~RpcHttpServer();
  RpcHttpServer(const RpcHttpServer&) = delete;
  RpcHttpServer& operator=(const RpcHttpServer&) = delete;

  // port is the bound port (the chosen one when options.port was 0).
  uint16_t port() const { return port_; }
  // session_id is 48 random characters [A-Za-z0-9], new per server.
  const std::string& session_id() const { return session_id_; }

 private:
  struct Request;

  RpcHttpServer(client::EventLoop* loop, RpcHttpOptions options,
                RpcHandler handler);
  // Run lets MHD do all pending work, then re-arms the timer.
  void Run();
  void ArmTimer();

  // RpcHttpServerCallbacks holds the functions MHD calls (`cls` is the server).
  friend struct RpcHttpServerCallbacks;

  // Each Handle* queues a response or waits for more of the request; false
  // tells MHD to close the connection.
  bool HandleFirstCall(MHD_Connection* connection, std::string_view url,
                       std::string_view method, Request& request);
  bool HandleRpcBody(MHD_Connection* connection, const char* upload_data,
                     size_t* upload_data_size, Request& request);
  bool HandleWebFile(MHD_Connection* connection, std::string_view relative);
  bool Authorized(MHD_Connection* connection) const;

  client::EventLoop* loop_;
  RpcHttpOptions options_;
  RpcHandler handler_;
  std::optional<WebRoot> web_root_;
  std::string session_id_;
  uint16_t port_ = 0;
  MHD_Daemon* daemon_ = nullptr;
  int epoll_fd_ = -1;
  std::optional<client::EventLoop::TimerId> timer_;
};

}  // namespace bt::daemon

#endif  // DAEMON_NET_RPC_HTTP_SERVER_H_
