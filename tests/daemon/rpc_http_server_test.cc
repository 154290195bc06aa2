// RpcHttpServer on a real EventLoop (run on a thread of the test), spoken to
// over loopback by the tests' blocking HTTP/1.1 client: the session-id
// handshake, auth, body and header bounds, methods, the web files and their
// root, redirects, and idle connections timing out.
#include "daemon/net/rpc_http_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file_util.h"
#include "client/net/event_loop.h"
#include "gtest/gtest.h"
#include "tests/testing/http_client.h"
#include "tests/testing/subprocess.h"

namespace bt::daemon {
namespace {

using ::bt::client::EventLoop;

using ::bt::testing::ConnectLoopback;
using ::bt::testing::ReadToEnd;
using ::bt::testing::WriteAll;
using Reply = ::bt::testing::HttpReply;

Reply Exchange(uint16_t port, const std::string& request) {
  return testing::HttpExchange(port, request);
}

std::string Request(const std::string& method, const std::string& path,
                    const std::string& extra_headers = "",
                    const std::string& body = "") {
  return testing::HttpRequest(method, path, extra_headers, body);
}

// RpcHttpServerTest runs the loop on its own thread while the test body
// plays the client; the server is made and destroyed with the loop stopped.
class RpcHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = std::move(*loop);
  }
  void TearDown() override {
    StopLoop();
    server_.reset();
  }

  void StartServer(RpcHttpOptions options,
                   std::string reply = R"({"result":"success"})") {
    options.port = 0;
    absl::StatusOr<std::unique_ptr<RpcHttpServer>> server =
        RpcHttpServer::Start(loop_.get(), std::move(options),
                             [this, reply](std::string_view body) {
                               std::lock_guard<std::mutex> lock(mu_);
                               bodies_.emplace_back(body);
                               return reply;
                             });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    thread_ = std::thread([this] {
      while (!stop_) {
        absl::StatusOr<int> ran = loop_->RunOnce(-1);
        if (!ran.ok()) break;
      }
    });
  }

  void StopLoop() {
    if (!thread_.joinable()) return;
    loop_->PostFromAnyThread([this] { stop_ = true; });
    thread_.join();
  }

  uint16_t port() const { return server_->port(); }
  std::string SessionHeader() const {
    return absl::StrCat("X-Transmission-Session-Id: ", server_->session_id(),
                        "\r\n");
  }
  std::vector<std::string> Bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<RpcHttpServer> server_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> bodies_;  // guarded by mu_
};

TEST_F(RpcHttpServerTest, SessionIdHandshakeThenHandlerSeesExactBody) {
  StartServer({});
  const std::string& id = server_->session_id();
  ASSERT_EQ(id.size(), 48u);
  for (char c : id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));

  const std::string body = R"({"method":"session-get","tag":0})";
  Reply missing =
      Exchange(port(), Request("POST", "/transmission/rpc/", "", body));
  EXPECT_EQ(missing.status, 409);
  EXPECT_EQ(missing.headers["x-transmission-session-id"], id);
  EXPECT_NE(missing.body.find(id), std::string::npos);

  Reply wrong =
      Exchange(port(), Request("POST", "/transmission/rpc",
                               "X-Transmission-Session-Id: nope\r\n", body));
  EXPECT_EQ(wrong.status, 409);
  EXPECT_TRUE(Bodies().empty());

  for (const char* path : {"/transmission/rpc/", "/transmission/rpc"}) {
    Reply ok = Exchange(port(), Request("POST", path, SessionHeader(), body));
    EXPECT_EQ(ok.status, 200) << path;
    EXPECT_EQ(ok.headers["content-type"], "application/json; charset=UTF-8");
    EXPECT_EQ(ok.body, R"({"result":"success"})");
  }
  EXPECT_EQ(Bodies(), std::vector<std::string>(2, body));
}

// PostNamingHost posts an RPC request (with the session id) whose Host
// header is `host`, and returns the status.
int PostNamingHost(uint16_t port, const std::string& host,
                   const std::string& extra_headers) {
  return testing::HttpExchange(
             port, absl::StrCat("POST /transmission/rpc HTTP/1.1\r\nHost: ",
                                host, "\r\nConnection: close\r\n",
                                extra_headers, "Content-Length: 2\r\n\r\n{}"))
      .status;
}

TEST_F(RpcHttpServerTest, WithoutAuthOnlyAddressesLocalhostAndAllowedNames) {
  RpcHttpOptions options;
  options.allowed_hosts = {"my.box"};
  StartServer(options);
  for (const char* host :
       {"localhost:9091", "LocalHost", "localhost.:1", "127.0.0.1",
        "127.0.0.1:9091", "[::1]:9091", "My.Box:80", "my.box"}) {
    EXPECT_EQ(PostNamingHost(port(), host, SessionHeader()), 200) << host;
  }
  // A page of another name, re-pointed at 127.0.0.1 (DNS rebinding), may
  // not even learn the session id.
  for (const char* host : {"evil.example", "evil.example:9091", "", "[::1",
                           "localhost.evil.example", "127.0.0.1.evil"}) {
    EXPECT_EQ(PostNamingHost(port(), host, ""), 421) << host;
  }
  EXPECT_EQ(Bodies().size(), 8u);
}

TEST_F(RpcHttpServerTest, WithAuthAnyHostNameIsServed) {
  RpcHttpOptions options;
  options.user = "alice";
  options.password = "s3cret";
  StartServer(options);
  EXPECT_EQ(PostNamingHost(port(), "box.example",
                           absl::StrCat("Authorization: Basic ",
                                        absl::Base64Escape("alice:s3cret"),
                                        "\r\n", SessionHeader())),
            200);
}

TEST_F(RpcHttpServerTest, BasicAuthGuardsRpcAndPages) {
  RpcHttpOptions options;
  options.user = "alice";
  options.password = "s3cret";
  StartServer(options);
  const std::string body = R"({"method":"session-stats"})";
  auto basic = [](const std::string& credentials) {
    return absl::StrCat("Authorization: Basic ",
                        absl::Base64Escape(credentials), "\r\n");
  };

  Reply none = Exchange(port(), Request("POST", "/transmission/rpc", "", body));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers["www-authenticate"], R"(Basic realm="Transmission")");
  for (const char* wrong : {"alice:wrong", "bob:s3cret", "alice:s3cret2", ""}) {
    Reply reply =
        Exchange(port(), Request("POST", "/transmission/rpc",
                                 basic(wrong) + SessionHeader(), body));
    EXPECT_EQ(reply.status, 401) << wrong;
  }
  EXPECT_EQ(Exchange(port(), Request("GET", "/", "")).status, 401);
  EXPECT_TRUE(Bodies().empty());

  // The right credentials get to the session-id check, then through.
  Reply handshake = Exchange(port(), Request("POST", "/transmission/rpc",
                                             basic("alice:s3cret"), body));
  EXPECT_EQ(handshake.status, 409);
  Reply ok =
      Exchange(port(), Request("POST", "/transmission/rpc",
                               basic("alice:s3cret") + SessionHeader(), body));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(Bodies(), std::vector<std::string>{body});
  EXPECT_EQ(Exchange(port(), Request("GET", "/", basic("alice:s3cret"))).status,
            301);
}

TEST_F(RpcHttpServerTest, OversizedBodyIs413AndServerKeepsServing) {
  RpcHttpOptions options;
  options.max_body_bytes = 1000;
  StartServer(options);

  // Declared too large: refused before any of it is read.
  Reply declared =
      Exchange(port(), Request("POST", "/transmission/rpc", SessionHeader(),
                               std::string(1001, 'x')));
  EXPECT_EQ(declared.status, 413);

  // Chunked, so the size shows only while the pieces arrive: a little over
  // is drained and answered, far over gets the connection closed.
  auto chunked = [&](int chunks) {
    std::string request = absl::StrCat(
        "POST /transmission/rpc HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Connection: close\r\nTransfer-Encoding: chunked\r\n",
        SessionHeader(), "\r\n");
    for (int i = 0; i < chunks; ++i) {
      absl::StrAppend(&request, "190\r\n", std::string(400, 'y'), "\r\n");
    }
    return absl::StrCat(request, "0\r\n\r\n");
  };
  EXPECT_EQ(Exchange(port(), chunked(3)).status, 413);
  EXPECT_EQ(Exchange(port(), chunked(10)).status, 0);
  EXPECT_TRUE(Bodies().empty());

  // Exactly at the bound is fine, and the server still answers.
  std::string fits(1000, 'z');
  Reply ok = Exchange(
      port(), Request("POST", "/transmission/rpc", SessionHeader(), fits));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(Bodies(), std::vector<std::string>{fits});
}

TEST_F(RpcHttpServerTest, WrongMethodsAndUnknownPaths) {
  StartServer({});
  EXPECT_EQ(Exchange(port(), Request("GET", "/transmission/rpc")).status, 405);
  Reply put = Exchange(port(), Request("PUT", "/transmission/rpc/"));
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.headers["allow"], "POST");
  EXPECT_EQ(
      Exchange(port(), Request("POST", "/transmission/web/", "", "{}")).status,
      405);
  EXPECT_EQ(Exchange(port(), Request("GET", "/nope")).status, 404);
  EXPECT_EQ(Exchange(port(), Request("POST", "/rpc", "", "{}")).status, 404);
  // No web root configured: no files at all.
  EXPECT_EQ(Exchange(port(), Request("GET", "/transmission/web/")).status, 404);
  EXPECT_TRUE(Bodies().empty());
}

TEST_F(RpcHttpServerTest, RedirectsToTheWebClient) {
  StartServer({});
  for (const char* path :
       {"/", "/transmission", "/transmission/", "/transmission/web"}) {
    Reply reply = Exchange(port(), Request("GET", path));
    EXPECT_EQ(reply.status, 301) << path;
    EXPECT_EQ(reply.headers["location"], "/transmission/web/") << path;
  }
}

class RpcHttpServerWebTest : public RpcHttpServerTest {
 protected:
  void SetUp() override {
    RpcHttpServerTest::SetUp();
    base_ = testing::TempDir("rpc_http_web");
    root_ = base_ + "/web";
    ASSERT_EQ(mkdir(root_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((root_ + "/images").c_str(), 0755), 0);
    ASSERT_TRUE(
        WriteFileAtomically(root_ + "/index.html", "<html>hi</html>").ok());
    ASSERT_TRUE(WriteFileAtomically(root_ + "/main.js", "var x = 1;").ok());
    ASSERT_TRUE(WriteFileAtomically(root_ + "/style.css", "p {}").ok());
    ASSERT_TRUE(
        WriteFileAtomically(root_ + "/images/logo.png", "\x89PNG").ok());
    ASSERT_TRUE(WriteFileAtomically(base_ + "/secret.txt", "secret").ok());
    ASSERT_EQ(
        symlink((base_ + "/secret.txt").c_str(), (root_ + "/link.txt").c_str()),
        0);
    ASSERT_EQ(symlink(base_.c_str(), (root_ + "/up").c_str()), 0);
    RpcHttpOptions options;
    options.web_root = root_;
    StartServer(options);
  }

  std::string base_, root_;
};

TEST_F(RpcHttpServerWebTest, ServesFilesWithTheirTypes) {
  struct Case {
    const char* path;
    const char* body;
    const char* type;
  };
  for (const Case& c : {
           Case{"/transmission/web/", "<html>hi</html>",
                "text/html; charset=UTF-8"},
           Case{"/transmission/web/index.html?x=1", "<html>hi</html>",
                "text/html; charset=UTF-8"},
           Case{"/transmission/web/main.js", "var x = 1;",
                "application/javascript; charset=UTF-8"},
           Case{"/transmission/web/style.css", "p {}",
                "text/css; charset=UTF-8"},
           Case{"/transmission/web/images/logo.png", "\x89PNG", "image/png"},
           Case{"/transmission/web/images/", nullptr, nullptr},
           Case{"/transmission/web/missing.js", nullptr, nullptr},
       }) {
    Reply reply = Exchange(port(), Request("GET", c.path));
    if (c.body == nullptr) {
      EXPECT_EQ(reply.status, 404) << c.path;
      continue;
    }
    EXPECT_EQ(reply.status, 200) << c.path;
    EXPECT_EQ(reply.body, c.body) << c.path;
    EXPECT_EQ(reply.headers["content-type"], c.type) << c.path;
  }
}

TEST_F(RpcHttpServerWebTest, NothingOutsideTheRootIsServed) {
  for (const char* path : {
           "/transmission/web/../secret.txt",
           "/transmission/web/../../etc/passwd",
           "/transmission/web/%2e%2e/secret.txt",
           "/transmission/web/%2E%2E%2Fsecret.txt",
           "/transmission/web/images/..%2f..%2fsecret.txt",
           "/transmission/web/./index.html",
           "/transmission/web/link.txt",
           "/transmission/web/up/secret.txt",
           "/transmission/web/..\\secret.txt",
       }) {
    Reply reply = Exchange(port(), Request("GET", path));
    EXPECT_EQ(reply.status, 404) << path;
    EXPECT_EQ(reply.body.find("secret"), std::string::npos) << path;
    EXPECT_EQ(reply.body.find("root:"), std::string::npos) << path;
  }
}

TEST_F(RpcHttpServerTest, OversizedHeadersAreRefusedAndServerKeepsServing) {
  RpcHttpOptions options;
  options.connection_memory_bytes = 16 << 10;
  StartServer(options);
  Reply big = Exchange(
      port(),
      Request("GET", "/",
              absl::StrCat("X-Big: ", std::string(64 << 10, 'h'), "\r\n")));
  EXPECT_EQ(big.status, 431);
  Reply ok = Exchange(
      port(), Request("POST", "/transmission/rpc", SessionHeader(), "{}"));
  EXPECT_EQ(ok.status, 200);
}

TEST_F(RpcHttpServerTest, UnfinishedRequestIsClosedAfterTheTimeout) {
  RpcHttpOptions options;
  options.connection_timeout_seconds = 1;
  StartServer(options);
  int fd = ConnectLoopback(port());
  ASSERT_GE(fd, 0);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(WriteAll(fd, "POST /transmission/rpc HTTP/1.1\r\nHost: x\r\n"));
  // Meanwhile others are served.
  EXPECT_EQ(Exchange(port(), Request("GET", "/")).status, 301);
  std::string rest = ReadToEnd(fd);  // returns when the server hangs up
  auto waited = std::chrono::steady_clock::now() - start;
  close(fd);
  EXPECT_EQ(testing::ParseHttpReply(rest).status, 0) << rest;
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LT(waited, std::chrono::seconds(8));
}

// transmission-remote (Debian's, from Transmission 3.00) does the auth and
// session-id handshake itself and reads the handler's reply.
int RunRemote(uint16_t port, const std::string& credentials) {
  absl::StatusOr<std::unique_ptr<testing::Subprocess>> remote =
      testing::Subprocess::Start({"/usr/bin/transmission-remote",
                                  absl::StrCat("127.0.0.1:", port), "-n",
                                  credentials, "-t1", "-S"});
  EXPECT_TRUE(remote.ok()) << remote.status();
  if (!remote.ok()) return -1;
  absl::StatusOr<int> code = (*remote)->Wait(absl::Now() + absl::Seconds(30));
  EXPECT_TRUE(code.ok()) << code.status();
  return code.value_or(-1);
}

TEST_F(RpcHttpServerTest, TransmissionRemoteGetsThrough) {
  RpcHttpOptions options;
  options.user = "alice";
  options.password = "s3cret";
  StartServer(options, R"({"arguments":{},"result":"success"})");
  EXPECT_NE(RunRemote(port(), "alice:wrong"), 0);
  EXPECT_TRUE(Bodies().empty());
  EXPECT_EQ(RunRemote(port(), "alice:s3cret"), 0);
  std::vector<std::string> bodies = Bodies();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_NE(bodies[0].find(R"("method":"torrent-stop")"), std::string::npos)
      << bodies[0];
}

TEST_F(RpcHttpServerTest, TransmissionRemoteSeesAFailedResult) {
  StartServer({}, R"({"arguments":{},"result":"no such torrent"})");
  EXPECT_NE(RunRemote(port(), "x:y"), 0);
  EXPECT_EQ(Bodies().size(), 1u);
}

TEST(RpcHttpServerStartTest, RefusesBadBindsAndBusyPorts) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  auto start = [&](RpcHttpOptions options) {
    return RpcHttpServer::Start(loop->get(), std::move(options),
                                [](std::string_view) { return "{}"; });
  };
  RpcHttpOptions remote;
  remote.bind_host = "0.0.0.0";
  remote.port = 0;
  EXPECT_EQ(start(remote).status().code(),
            absl::StatusCode::kFailedPrecondition);
  RpcHttpOptions name;
  name.bind_host = "localhost";
  EXPECT_EQ(start(name).status().code(), absl::StatusCode::kInvalidArgument);
  RpcHttpOptions no_root;
  no_root.port = 0;
  no_root.web_root = testing::TempDir("rpc_http_start") + "/absent";
  EXPECT_EQ(start(no_root).status().code(), absl::StatusCode::kInvalidArgument);

  RpcHttpOptions any;
  any.port = 0;
  absl::StatusOr<std::unique_ptr<RpcHttpServer>> first = start(any);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_NE((*first)->port(), 0);
  RpcHttpOptions same;
  same.port = (*first)->port();
  EXPECT_EQ(start(same).status().code(), absl::StatusCode::kUnavailable);

  // Each server has its own session id; IPv6 loopback works too.
  RpcHttpOptions v6;
  v6.bind_host = "::1";
  v6.port = 0;
  absl::StatusOr<std::unique_ptr<RpcHttpServer>> second = start(v6);
  if (second.ok()) {
    EXPECT_NE((*second)->session_id(), (*first)->session_id());
  }
  EXPECT_EQ((*loop)->watched_count(), second.ok() ? 2u : 1u);
  first->reset();
  if (second.ok()) second->reset();
  EXPECT_EQ((*loop)->watched_count(), 0u);
  EXPECT_EQ((*loop)->timer_count(), 0u);
}

}  // namespace
}  // namespace bt::daemon
