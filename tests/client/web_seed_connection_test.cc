// WebSeedConnection over real loopback sockets against a scripted server:
// a good answer delivers the blocks (and the request carried the Range);
// silence, garbage, an overlong body, a 404 and a redirect loop each give
// the blocks back within the request deadline and start a back-off.
#include "client/web_seed_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/net/event_loop.h"
#include "client/net/resolver.h"
#include "gtest/gtest.h"
#include "tests/client/testing/remote_peer.h"

namespace bt::client {
namespace {

using metainfo::testing::Pattern;

// ScriptedServer accepts on a loopback port and answers each complete
// request with `reply` (nothing at all when empty), then closes.
class ScriptedServer {
 public:
  ScriptedServer(EventLoop* loop, std::string reply)
      : loop_(loop), reply_(std::move(reply)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)),
              0);
    EXPECT_EQ(listen(listen_fd_, 8), 0);
    socklen_t len = sizeof(sin);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sin), &len);
    port_ = ntohs(sin.sin_port);
    EXPECT_TRUE(loop_
                    ->Watch(listen_fd_, EventLoop::kReadable,
                            [this](uint32_t) { Accept(); })
                    .ok());
  }
  ~ScriptedServer() {
    for (int fd : clients_) {
      loop_->Unwatch(fd);
      close(fd);
    }
    loop_->Unwatch(listen_fd_);
    close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  const std::vector<std::string>& requests() const { return requests_; }

 private:
  void Accept() {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK);
    if (fd < 0) return;
    clients_.push_back(fd);
    requests_.emplace_back();
    const size_t index = requests_.size() - 1;
    EXPECT_TRUE(loop_
                    ->Watch(fd, EventLoop::kReadable,
                            [this, fd, index](uint32_t) {
                              char buf[4096];
                              ssize_t n = recv(fd, buf, sizeof(buf), 0);
                              if (n <= 0) return Close(fd);
                              requests_[index].append(buf,
                                                      static_cast<size_t>(n));
                              if (requests_[index].ends_with("\r\n\r\n") &&
                                  !reply_.empty()) {
                                (void)!send(fd, reply_.data(), reply_.size(),
                                            MSG_NOSIGNAL);
                                Close(fd);
                              }
                            })
                    .ok());
  }
  void Close(int fd) {
    loop_->Unwatch(fd);
    close(fd);
    std::erase(clients_, fd);
  }

  EventLoop* loop_;
  std::string reply_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::vector<int> clients_;
  std::vector<std::string> requests_;
};

struct Outcome {
  std::vector<BlockRef> given_back;
  std::vector<std::pair<BlockRef, std::string>> delivered;
  absl::Status error;
};

class WebSeedConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = *std::move(loop);
    resolver_ = std::make_unique<Resolver>(loop_.get());
  }

  // Run points a connection at a server answering `reply`, hands it the
  // two blocks of piece 0 once, and runs until they come back either way.
  Outcome Run(const std::string& reply, std::vector<std::string>* requests) {
    ScriptedServer server(loop_.get(), reply);
    auto seed = WebSeed::Create(
        absl::StrFormat("http://127.0.0.1:%d/files/", server.port()), *t_.info);
    EXPECT_TRUE(seed.ok()) << seed.status();
    Outcome out;
    bool picked = false;
    WebSeedConnection::Host host;
    host.pick = [&](uint64_t, int) {
      if (picked) return std::vector<BlockRef>{};
      picked = true;
      return std::vector<BlockRef>{{0, 0}, {0, 1}};
    };
    host.give_back = [&](uint64_t, const std::vector<BlockRef>& b) {
      out.given_back.insert(out.given_back.end(), b.begin(), b.end());
    };
    host.deliver = [&](uint64_t, BlockRef b, std::string data) {
      out.delivered.emplace_back(b, std::move(data));
    };
    host.now = [] { return absl::Now(); };
    host.on_error = [&](uint64_t, const absl::Status& s) { out.error = s; };
    WebSeedConnection c(loop_.get(), resolver_.get(), 7, *std::move(seed), host,
                        {.request_timeout = absl::Milliseconds(500)});
    c.Pump();
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (out.given_back.size() + out.delivered.size() < 2 &&
           absl::Now() < deadline) {
      EXPECT_TRUE(loop_->RunOnce(0.01).ok());
    }
    if (!out.given_back.empty()) {
      EXPECT_EQ(c.seed().failures(), 1);
      EXPECT_FALSE(c.seed().Ready(absl::Now())) << "backing off";
    }
    *requests = server.requests();
    return out;
  }

  std::string Reply(int status, const std::string& headers,
                    const std::string& body) {
    return absl::StrFormat("HTTP/1.1 %d X\r\n%sContent-Length: %d\r\n\r\n%s",
                           status, headers, body.size(), body);
  }

  // One file of 40000 bytes: piece 0 is its first 32 KiB.
  testing::TestTorrent t_ = testing::MakeTestTorrent(
      {{{"a"}, Pattern(40000, 1), ""}, {{"b"}, Pattern(10, 2), ""}});
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Resolver> resolver_;
};

TEST_F(WebSeedConnectionTest, GoodAnswerDeliversTheBlocks) {
  std::vector<std::string> requests;
  Outcome out = Run(Reply(206, "Content-Range: bytes 0-32767/40000\r\n",
                          t_.content.substr(0, 32768)),
                    &requests);
  ASSERT_EQ(out.delivered.size(), 2u) << out.error;
  EXPECT_EQ(out.delivered[1].second, t_.Block(0, kBlockSize, kBlockSize));
  EXPECT_TRUE(out.given_back.empty());
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(requests[0].starts_with("GET /files/t/a HTTP/1.1\r\n"))
      << requests[0];
  EXPECT_NE(requests[0].find("\r\nRange: bytes=0-32767\r\n"), std::string::npos)
      << requests[0];
}

TEST_F(WebSeedConnectionTest, BadServersGiveTheBlocksBackAndBackOff) {
  struct Case {
    const char* name;
    std::string reply;
    absl::StatusCode code;
  };
  const std::string range = "Content-Range: bytes 0-32767/40000\r\n";
  const std::vector<Case> cases = {
      {"silent", "", absl::StatusCode::kUnavailable},
      {"garbage", "\x01\x02 not http\r\n\r\n",
       absl::StatusCode::kInvalidArgument},
      {"overlong", Reply(206, range, std::string(40000, 'x')),
       absl::StatusCode::kResourceExhausted},
      {"short", Reply(206, range, "xyz"), absl::StatusCode::kInvalidArgument},
      {"404", Reply(404, "", "no"), absl::StatusCode::kNotFound},
      {"redirect loop", Reply(302, "Location: /files/t/a\r\n", ""),
       absl::StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> requests;
    const absl::Time start = absl::Now();
    Outcome out = Run(c.reply, &requests);
    EXPECT_TRUE(out.delivered.empty());
    EXPECT_EQ(out.given_back.size(), 2u);
    EXPECT_EQ(out.error.code(), c.code) << out.error;
    EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  }
}

}  // namespace
}  // namespace bt::client
