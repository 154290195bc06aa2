// HttpFetch over TLS against `openssl s_server` on loopback: the
// certificate must verify against the CA file, and the host must match.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/net/event_loop.h"
#include "client/net/http_fetch.h"
#include "gtest/gtest.h"
#include "tests/testing/ports.h"

namespace bt::client {
namespace {

constexpr char kOpenssl[] = "/usr/bin/openssl";
constexpr char kBody[] = "d8:intervali60ee";

pid_t Spawn(const std::string& dir, const std::vector<std::string>& argv) {
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(127);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(argv[0].c_str(), args.data());
    _exit(127);
  }
  return pid;
}

class HttpsFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kOpenssl, X_OK) != 0) GTEST_SKIP() << "openssl is not installed";
    const char* tmp = std::getenv("TEST_TMPDIR");
    std::string templ = absl::StrFormat("%s/tls.XXXXXX", tmp ? tmp : "/tmp");
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    // A self-signed certificate valid for 127.0.0.1 and localhost.
    pid_t gen = Spawn(dir_, {kOpenssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                             "-keyout", "key.pem", "-out", "cert.pem", "-days", "2",
                             "-subj", "/CN=localhost", "-addext",
                             "subjectAltName=IP:127.0.0.1,DNS:localhost"});
    int status = 0;
    waitpid(gen, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "openssl req failed";
    // s_server -HTTP sends the file as the whole response.
    std::ofstream(dir_ + "/body")
        << absl::StrFormat("HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s",
                           std::string(kBody).size(), kBody);
    port_ = ::bt::testing::FreePort(SOCK_STREAM);
    server_ = Spawn(dir_, {kOpenssl, "s_server", "-accept", std::to_string(port_), "-cert",
                           "cert.pem", "-key", "key.pem", "-HTTP", "-quiet"});
    ::bt::testing::WaitForTcpPort(port_, absl::Now() + absl::Seconds(5));
    loop_ = std::move(*EventLoop::Create());
  }
  void TearDown() override {
    if (server_ > 0) {
      kill(server_, SIGKILL);
      waitpid(server_, nullptr, 0);
    }
  }

  absl::StatusOr<tracker::HttpResponse> Fetch(const std::string& url,
                                              const HttpFetchOptions& opt) {
    std::optional<absl::StatusOr<tracker::HttpResponse>> result;
    auto f = HttpFetch::Start(loop_.get(), url, opt, {},
                              [&](absl::StatusOr<tracker::HttpResponse> r) { result = r; });
    auto start = EventLoop::Now();
    while (!result && EventLoop::Now() - start < std::chrono::seconds(10)) {
      EXPECT_TRUE(loop_->RunOnce(0.05).ok());
    }
    if (!result) return absl::DeadlineExceededError("test: no result");
    return *result;
  }

  std::string dir_;
  uint16_t port_ = 0;
  pid_t server_ = -1;
  std::unique_ptr<EventLoop> loop_;
};

TEST_F(HttpsFetchTest, VerifiesAgainstTheGivenCa) {
  HttpFetchOptions opt;
  opt.ca_file = dir_ + "/cert.pem";
  absl::StatusOr<tracker::HttpResponse> r =
      Fetch(absl::StrFormat("https://127.0.0.1:%d/body", port_), opt);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, kBody);
}

TEST_F(HttpsFetchTest, RefusesACertificateTheSystemStoreDoesNotTrust) {
  HttpFetchOptions opt;  // the system CA store
  absl::StatusOr<tracker::HttpResponse> r =
      Fetch(absl::StrFormat("https://127.0.0.1:%d/body", port_), opt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("certificate verification failed"), std::string::npos)
      << r.status();
}

TEST_F(HttpsFetchTest, RefusesACertificateForAnotherHost) {
  // A second certificate, trusted, but only for the name "other.example".
  pid_t gen = Spawn(dir_, {kOpenssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                           "-keyout", "key2.pem", "-out", "cert2.pem", "-days", "2",
                           "-subj", "/CN=other.example", "-addext",
                           "subjectAltName=DNS:other.example"});
  int status = 0;
  waitpid(gen, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  kill(server_, SIGKILL);
  waitpid(server_, nullptr, 0);
  port_ = ::bt::testing::FreePort(SOCK_STREAM);
  server_ = Spawn(dir_, {kOpenssl, "s_server", "-accept", std::to_string(port_), "-cert",
                         "cert2.pem", "-key", "key2.pem", "-HTTP", "-quiet"});
  ::bt::testing::WaitForTcpPort(port_, absl::Now() + absl::Seconds(5));
  HttpFetchOptions opt;
  opt.ca_file = dir_ + "/cert2.pem";
  absl::StatusOr<tracker::HttpResponse> r =
      Fetch(absl::StrFormat("https://127.0.0.1:%d/body", port_), opt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("certificate verification failed"), std::string::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("mismatch"), std::string::npos) << r.status();
}

TEST_F(HttpsFetchTest, MissingCaFileIsAClearError) {
  HttpFetchOptions opt;
  opt.ca_file = dir_ + "/nope.pem";
  absl::StatusOr<tracker::HttpResponse> r =
      Fetch(absl::StrFormat("https://127.0.0.1:%d/body", port_), opt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot load CA certificates"), std::string::npos)
      << r.status();
}

// ListenLoopback opens a TCP listener on 127.0.0.1 that never answers: a
// plain-http target whose backlog shows whether anyone connected.
int ListenLoopback(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0 || listen(fd, 8) != 0) {
    close(fd);
    return -1;
  }
  socklen_t len = sizeof(sin);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  *port = ntohs(sin.sin_port);
  return fd;
}

TEST_F(HttpsFetchTest, RefusesARedirectFromHttpsToHttp) {
  uint16_t plain_port = 0;
  int plain = ListenLoopback(&plain_port);
  ASSERT_GE(plain, 0);
  std::ofstream(dir_ + "/downgrade") << absl::StrFormat(
      "HTTP/1.0 302 Found\r\nLocation: http://127.0.0.1:%d/announce\r\n"
      "Content-Length: 0\r\n\r\n",
      plain_port);
  HttpFetchOptions opt;
  opt.ca_file = dir_ + "/cert.pem";
  opt.timeout = std::chrono::seconds(2);
  absl::StatusOr<tracker::HttpResponse> r =
      Fetch(absl::StrFormat("https://127.0.0.1:%d/downgrade", port_), opt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("refusing a redirect from https://127.0.0.1"),
            std::string::npos)
      << r.status();
  // Nothing was sent in the clear: the plain port saw no connection.
  EXPECT_LT(accept(plain, nullptr, nullptr), 0);
  close(plain);
}

TEST_F(HttpsFetchTest, FollowsHttpsRedirectsUpToTheLimit) {
  std::ofstream(dir_ + "/moved")
      << "HTTP/1.0 301 Moved\r\nLocation: /body\r\nContent-Length: 0\r\n\r\n";
  std::ofstream(dir_ + "/loop")
      << "HTTP/1.0 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n";
  HttpFetchOptions opt;
  opt.ca_file = dir_ + "/cert.pem";
  opt.max_redirects = 2;
  absl::StatusOr<tracker::HttpResponse> r =
      Fetch(absl::StrFormat("https://127.0.0.1:%d/moved", port_), opt);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, kBody);
  r = Fetch(absl::StrFormat("https://127.0.0.1:%d/loop", port_), opt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("too many redirects (2)"), std::string::npos)
      << r.status();
}

}  // namespace
}  // namespace bt::client
