#include "daemon/net/rpc_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <openssl/mem.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/bytes.h"
#include "base/endpoint.h"
#include "base/random.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "client/net/socket_address.h"

namespace bt::daemon {
namespace {

constexpr absl::string_view kRpcPath = "/transmission/rpc";
constexpr absl::string_view kWebPrefix = "/transmission/web/";
constexpr absl::string_view kSessionHeader = "X-Transmission-Session-Id";
constexpr size_t kSessionIdLength = 48;

// NewSessionId draws kSessionIdLength characters from [A-Za-z0-9] without
// bias (bytes past the last whole multiple of 62 are redrawn).
std::string NewSessionId() {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id;
  while (id.size() < kSessionIdLength) {
    uint8_t bytes[64];
    RandomBytes(MutableByteSpan(bytes));
    for (uint8_t b : bytes) {
      if (b >= 248 || id.size() == kSessionIdLength) continue;
      id.push_back(kAlphabet[b % kAlphabet.size()]);
    }
  }
  return id;
}

// View converts for Abseil's string functions (Debian's Abseil has its own
// string_view type).
absl::string_view View(std::string_view s) { return {s.data(), s.size()}; }

// SameSecret compares two secrets in time independent of their contents
// and lengths (it compares their SHA-256 digests).
bool SameSecret(std::string_view a, std::string_view b) {
  Sha256Hash ha = Sha256(AsBytes(a));
  Sha256Hash hb = Sha256(AsBytes(b));
  return CRYPTO_memcmp(ha.data(), hb.data(), ha.span().size()) == 0;
}

// HostAllowed: `host` (a Host header: name or address, maybe a port) is an
// IP address, localhost, or one of `allowed` (case-insensitive).
bool HostAllowed(absl::string_view host,
                 const std::vector<std::string>& allowed) {
  std::string name;
  if (absl::StartsWith(host, "[")) {
    const size_t end = host.find(']');
    if (end == absl::string_view::npos) return false;
    name = std::string(host.substr(1, end - 1));
    in6_addr a6;
    return inet_pton(AF_INET6, name.c_str(), &a6) == 1;
  }
  if (const size_t colon = host.rfind(':'); colon != absl::string_view::npos) {
    host = host.substr(0, colon);
  }
  name = absl::AsciiStrToLower(host);
  if (absl::EndsWith(name, ".")) name.pop_back();
  in_addr a4;
  if (name == "localhost" || inet_pton(AF_INET, name.c_str(), &a4) == 1) {
    return true;
  }
  for (const std::string& a : allowed) {
    if (absl::AsciiStrToLower(a) == name) return true;
  }
  return false;
}

absl::string_view Header(MHD_Connection* connection, absl::string_view name) {
  const char* value = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                  std::string(name).c_str());
  return value == nullptr ? absl::string_view() : absl::string_view(value);
}

bool HasHeader(MHD_Connection* connection, absl::string_view name) {
  return MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                     std::string(name).c_str()) != nullptr;
}

// Send queues `response` (destroyed here) with `status` and `headers`.
bool Send(MHD_Connection* connection, unsigned status, MHD_Response* response,
          std::initializer_list<std::pair<const char*, std::string>> headers) {
  if (response == nullptr) return false;
  for (const auto& [name, value] : headers) {
    MHD_add_response_header(response, name, value.c_str());
  }
  MHD_Result queued = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return queued == MHD_YES;
}

// SendText queues a copy of `body` as the whole response.
bool SendText(
    MHD_Connection* connection, unsigned status, std::string_view body,
    std::string_view content_type,
    std::initializer_list<std::pair<const char*, std::string>> headers = {}) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response != nullptr) {
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                            std::string(content_type).c_str());
  }
  return Send(connection, status, response, headers);
}

bool SendError(
    MHD_Connection* connection, unsigned status, absl::string_view title,
    absl::string_view detail,
    std::initializer_list<std::pair<const char*, std::string>> headers = {}) {
  return SendText(connection, status,
                  absl::StrCat("<html><head><title>", status, ": ", title,
                               "</title></head><body><h1>", status, ": ", title,
                               "</h1><p>", detail, "</p></body></html>"),
                  "text/html; charset=UTF-8", headers);
}

bool SendTooLarge(MHD_Connection* connection, size_t limit) {
  return SendError(
      connection, MHD_HTTP_CONTENT_TOO_LARGE, "Payload Too Large",
      absl::StrCat("Request bodies are limited to ", limit, " bytes."));
}

bool IsGetOrHead(std::string_view method) {
  return method == MHD_HTTP_METHOD_GET || method == MHD_HTTP_METHOD_HEAD;
}

}  // namespace

// Request is the state of one HTTP request, kept by MHD between calls.
struct RpcHttpServer::Request {
  bool rpc = false;        // an accepted RPC POST whose body is being read
  bool too_large = false;  // the body passed max_body_bytes: answer 413
  size_t discarded = 0;    // bytes dropped after passing the bound
  std::string body;
};

struct RpcHttpServerCallbacks {
  static MHD_Result OnRequest(void* cls, MHD_Connection* connection,
                              const char* url, const char* method,
                              const char* /*version*/, const char* upload_data,
                              size_t* upload_data_size, void** state) {
    auto* server = static_cast<RpcHttpServer*>(cls);
    auto* request = static_cast<RpcHttpServer::Request*>(*state);
    bool keep;
    if (request == nullptr) {
      request = new RpcHttpServer::Request;
      *state = request;
      keep = server->HandleFirstCall(connection, url, method, *request);
    } else {
      keep = server->HandleRpcBody(connection, upload_data, upload_data_size,
                                   *request);
    }
    return keep ? MHD_YES : MHD_NO;
  }

  static void OnCompleted(void* /*cls*/, MHD_Connection* /*connection*/,
                          void** state, MHD_RequestTerminationCode /*reason*/) {
    delete static_cast<RpcHttpServer::Request*>(*state);
    *state = nullptr;
  }
};

RpcHttpServer::RpcHttpServer(client::EventLoop* loop, RpcHttpOptions options,
                             RpcHandler handler)
    : loop_(loop),
      options_(std::move(options)),
      handler_(std::move(handler)),
      session_id_(NewSessionId()) {}

absl::StatusOr<std::unique_ptr<RpcHttpServer>> RpcHttpServer::Start(
    client::EventLoop* loop, RpcHttpOptions options, RpcHandler handler) {
  absl::StatusOr<Endpoint> bind =
      Endpoint::ParseAddress(options.bind_host, options.port);
  if (!bind.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rpc bind address \"", options.bind_host,
                     "\": not an IPv4 or IPv6 literal"));
  }
  if (!bind->IsLoopback() && options.user.empty() && options.password.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("rpc bind address ", options.bind_host,
                     " is not loopback: set a user and password first"));
  }
  std::unique_ptr<RpcHttpServer> server(
      new RpcHttpServer(loop, std::move(options), std::move(handler)));
  const RpcHttpOptions& o = server->options_;
  if (!o.web_root.empty()) {
    ASSIGN_OR_RETURN(server->web_root_, WebRoot::Open(o.web_root));
  }
  sockaddr_storage address;
  client::ToSockaddr(*bind, &address);
  unsigned flags = MHD_USE_EPOLL | (bind->is_v6() ? MHD_USE_IPv6 : 0);
  server->daemon_ = MHD_start_daemon(
      flags, o.port, nullptr, nullptr, &RpcHttpServerCallbacks::OnRequest,
      server.get(), MHD_OPTION_SOCK_ADDR, &address, MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned>(o.max_connections),
      MHD_OPTION_PER_IP_CONNECTION_LIMIT,
      static_cast<unsigned>(o.max_connections_per_ip),
      MHD_OPTION_CONNECTION_TIMEOUT,
      static_cast<unsigned>(o.connection_timeout_seconds),
      MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      static_cast<size_t>(o.connection_memory_bytes),
      MHD_OPTION_NOTIFY_COMPLETED, &RpcHttpServerCallbacks::OnCompleted,
      server.get(), MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("rpc server on ", bind->ToString(),
                     ": libmicrohttpd would not start (port in use?)"));
  }
  const MHD_DaemonInfo* info =
      MHD_get_daemon_info(server->daemon_, MHD_DAEMON_INFO_BIND_PORT);
  server->port_ = info != nullptr ? info->port : o.port;
  info = MHD_get_daemon_info(server->daemon_, MHD_DAEMON_INFO_EPOLL_FD);
  if (info == nullptr) {
    return absl::UnavailableError("rpc server: libmicrohttpd has no epoll fd");
  }
  server->epoll_fd_ = info->epoll_fd;
  RpcHttpServer* raw = server.get();
  absl::Status watched =
      loop->Watch(server->epoll_fd_, client::EventLoop::kReadable,
                  [raw](uint32_t) { raw->Run(); });
  if (!watched.ok()) {
    server->epoll_fd_ = -1;
    return watched;
  }
  server->ArmTimer();
  return server;
}

RpcHttpServer::~RpcHttpServer() {
  if (timer_.has_value()) loop_->CancelTimer(*timer_);
  if (epoll_fd_ >= 0) loop_->Unwatch(epoll_fd_);
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

void RpcHttpServer::Run() {
  MHD_run(daemon_);
  ArmTimer();
}

void RpcHttpServer::ArmTimer() {
  if (timer_.has_value()) loop_->CancelTimer(*timer_);
  timer_.reset();
  MHD_UNSIGNED_LONG_LONG millis = 0;
  if (MHD_get_timeout(daemon_, &millis) != MHD_YES) return;
  timer_ = loop_->AddTimer(std::chrono::milliseconds(millis), [this] {
    timer_.reset();
    Run();
  });
}

bool RpcHttpServer::Authorized(MHD_Connection* connection) const {
  if (options_.user.empty() && options_.password.empty()) return true;
  absl::string_view value =
      absl::StripAsciiWhitespace(Header(connection, "Authorization"));
  std::string credentials;
  bool basic =
      value.size() > 6 &&
      absl::EqualsIgnoreCase(value.substr(0, 6), "Basic ") &&
      absl::Base64Unescape(absl::StripLeadingAsciiWhitespace(value.substr(6)),
                           &credentials);
  bool same = SameSecret(credentials,
                         absl::StrCat(options_.user, ":", options_.password));
  return basic && same;
}

bool RpcHttpServer::HandleFirstCall(MHD_Connection* connection,
                                    std::string_view url_text,
                                    std::string_view method, Request& request) {
  absl::string_view url = View(url_text);
  if (!Authorized(connection)) {
    return SendError(
        connection, MHD_HTTP_UNAUTHORIZED, "Unauthorized", "Unauthorized User",
        {{MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"Transmission\""}});
  }
  if (options_.user.empty() && options_.password.empty() &&
      !HostAllowed(Header(connection, "Host"), options_.allowed_hosts)) {
    return SendError(
        connection, 421, "Misdirected Request",
        "Requests must name this host by address or as localhost; start "
        "the daemon with --rpc-host NAME to allow another name, or use "
        "--rpc-auth.");
  }
  if (url == kRpcPath || url == absl::StrCat(kRpcPath, "/")) {
    if (method != MHD_HTTP_METHOD_POST) {
      return SendError(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                       "Method Not Allowed", "The RPC takes POST requests.",
                       {{MHD_HTTP_HEADER_ALLOW, "POST"}});
    }
    if (!HasHeader(connection, kSessionHeader) ||
        Header(connection, kSessionHeader) != session_id_) {
      return SendError(
          connection, MHD_HTTP_CONFLICT, "Conflict",
          absl::StrCat("Your request had an invalid session id header. Send "
                       "the ",
                       kSessionHeader,
                       " header of this reply with every "
                       "request: ",
                       kSessionHeader, ": ", session_id_),
          {{kSessionHeader.data(), session_id_}});
    }
    absl::string_view length = Header(connection, "Content-Length");
    uint64_t declared = 0;
    if (!length.empty() && (!absl::SimpleAtoi(length, &declared) ||
                            declared > options_.max_body_bytes)) {
      return SendTooLarge(connection, options_.max_body_bytes);
    }
    request.rpc = true;
    return true;  // read the body, then answer
  }
  bool redirect = url == "/" || url == "/transmission" ||
                  url == "/transmission/" || url == "/transmission/web";
  bool web = absl::StartsWith(url, kWebPrefix);
  if (!redirect && !web) {
    return SendError(connection, MHD_HTTP_NOT_FOUND, "Not Found",
                     "No such page.");
  }
  if (!IsGetOrHead(method)) {
    return SendError(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                     "Method Not Allowed", "Pages take GET requests.",
                     {{MHD_HTTP_HEADER_ALLOW, "GET, HEAD"}});
  }
  if (redirect) {
    return SendError(connection, MHD_HTTP_MOVED_PERMANENTLY,
                     "Moved Permanently",
                     "The web client is at /transmission/web/.",
                     {{MHD_HTTP_HEADER_LOCATION, std::string(kWebPrefix)}});
  }
  return HandleWebFile(connection, url_text.substr(kWebPrefix.size()));
}

bool RpcHttpServer::HandleRpcBody(MHD_Connection* connection,
                                  const char* upload_data,
                                  size_t* upload_data_size, Request& request) {
  if (!request.rpc) return false;  // answered already; nothing more to read
  if (*upload_data_size > 0) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (!request.too_large &&
        n <= options_.max_body_bytes - request.body.size()) {
      request.body.append(upload_data, n);
      return true;
    }
    if (!request.too_large) {
      request.too_large = true;
      std::string().swap(request.body);
    }
    // MHD takes no response while a body is arriving, so the 413 waits for
    // its end: drain (without keeping) up to another max_body_bytes so it
    // can be sent, and hang up on anything longer.
    request.discarded += n;
    return request.discarded <= options_.max_body_bytes;
  }
  if (request.too_large) {
    return SendTooLarge(connection, options_.max_body_bytes);
  }
  std::string reply = handler_(request.body);
  return SendText(connection, MHD_HTTP_OK, reply,
                  "application/json; charset=UTF-8");
}

bool RpcHttpServer::HandleWebFile(MHD_Connection* connection,
                                  std::string_view relative) {
  absl::StatusOr<std::string> path = web_root_.has_value()
                                         ? web_root_->Resolve(relative)
                                         : absl::NotFoundError("no web root");
  int fd = path.ok() ? open(path->c_str(), O_RDONLY | O_CLOEXEC) : -1;
  struct stat st;
  if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
    close(fd);
    fd = -1;
  }
  if (fd < 0) {
    return SendError(connection, MHD_HTTP_NOT_FOUND, "Not Found",
                     "No such file.");
  }
  // The response owns `fd` once made (destroying it closes the file).
  MHD_Response* response =
      MHD_create_response_from_fd(static_cast<size_t>(st.st_size), fd);
  if (response == nullptr) {
    close(fd);
    return false;
  }
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                          std::string(WebContentType(*path)).c_str());
  return Send(connection, MHD_HTTP_OK, response, {});
}

}  // namespace bt::daemon
