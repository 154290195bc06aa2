// Interop with libtorrent's DHT on loopback: three python3-libtorrent
// sessions (DHT only) and one btkit node know each other; btkit's get_peers
// finds a peer libtorrent announced, and libtorrent's get_peers finds a peer
// btkit announced. Also runs `bt dht get-peers` against the same sessions.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/match.h"
#include "base/endpoint.h"
#include "client/net/dht_udp_node.h"
#include "client/net/event_loop.h"
#include "client/net/udp_socket.h"
#include "dht/item.h"
#include "gtest/gtest.h"

namespace bt::client {
namespace {

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kScript[] = "tests/dht/libtorrent_dht_peers.py";
constexpr char kBt[] = "client/cli/bt";

// A child process with pipes to its stdin and from its stdout, killed on
// destruction.
class Child {
 public:
  static std::unique_ptr<Child> Start(const std::vector<std::string>& argv) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return nullptr;
    pid_t pid = fork();
    if (pid < 0) return nullptr;
    if (pid == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    auto c = std::make_unique<Child>();
    c->pid_ = pid;
    c->stdin_ = in[1];
    c->stdout_ = out[0];
    return c;
  }
  ~Child() {
    if (stdin_ >= 0) close(stdin_);
    if (stdout_ >= 0) close(stdout_);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  void Send(const std::string& line) {
    std::string l = line + "\n";
    ASSERT_EQ(write(stdin_, l.data(), l.size()), static_cast<ssize_t>(l.size()));
  }
  int stdout_fd() const { return stdout_; }
  // Read collects complete lines from the child's stdout.
  void Read() {
    char buf[4096];
    ssize_t n;
    while ((n = read(stdout_, buf, sizeof buf)) > 0) partial_.append(buf, n);
    size_t nl;
    while ((nl = partial_.find('\n')) != std::string::npos) {
      lines_.push_back(partial_.substr(0, nl));
      partial_.erase(0, nl + 1);
    }
  }
  // TakeLine pops the first line starting with `prefix`.
  std::optional<std::string> TakeLine(const std::string& prefix) {
    for (auto it = lines_.begin(); it != lines_.end(); ++it) {
      if (absl::StartsWith(*it, prefix)) {
        std::string l = *it;
        lines_.erase(it);
        return l;
      }
    }
    return std::nullopt;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string partial_;
  std::deque<std::string> lines_;
};

class LibtorrentDhtInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kPython, X_OK) != 0 ||
        std::system("/usr/bin/python3 -c 'import libtorrent' 2>/dev/null") != 0) {
      GTEST_SKIP() << "python3-libtorrent is not installed";
    }
    loop_ = *EventLoop::Create();
    dht::NodeOptions options;
    auto udp = UdpSocket::Bind(loop_.get(), Endpoint::V4({127, 0, 0, 1}, 0));
    ASSERT_TRUE(udp.ok()) << udp.status();
    udp_ = std::move(*udp);
    auto node = DhtUdpNode::Create(loop_.get(), udp_.get(), options);
    ASSERT_TRUE(node.ok()) << node.status();
    dht_ = std::move(*node);
    lt_ = Child::Start({kPython, kScript,
                        std::to_string(dht_->local_endpoint().port()), "3"});
    ASSERT_NE(lt_, nullptr);
    ASSERT_TRUE(loop_->Watch(lt_->stdout_fd(), EventLoop::kReadable,
                             [this](uint32_t) { lt_->Read(); })
                    .ok());
  }
  void TearDown() override {
    if (lt_) loop_->Unwatch(lt_->stdout_fd());
  }

  // WaitFor runs the loop until `done` or `seconds` pass.
  bool WaitFor(const std::function<bool()>& done, double seconds) {
    absl::Time end = DhtUdpNode::Now() + absl::Seconds(seconds);
    while (!done()) {
      if (DhtUdpNode::Now() > end) return false;
      EXPECT_TRUE(loop_->RunOnce(0.05).ok());
    }
    return true;
  }
  std::optional<std::string> WaitLine(const std::string& prefix, double seconds) {
    std::optional<std::string> line;
    WaitFor([&] { return (line = lt_->TakeLine(prefix)).has_value(); }, seconds);
    return line;
  }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<UdpSocket> udp_;  // before dht_: it must outlive the node
  std::unique_ptr<DhtUdpNode> dht_;
  std::unique_ptr<Child> lt_;
};

TEST_F(LibtorrentDhtInteropTest, PeersFoundBothWays) {
  std::optional<std::string> ports_line = WaitLine("PORTS ", 20);
  ASSERT_TRUE(ports_line.has_value()) << "libtorrent sessions did not start";
  std::vector<std::string> ports = absl::StrSplit(ports_line->substr(6), ' ');
  ASSERT_EQ(ports.size(), 3u);
  for (const std::string& p : ports) {
    dht_->node().AddBootstrapNode(Endpoint::V4({127, 0, 0, 1}, std::stoi(p)));
  }
  std::optional<dht::LookupResult> boot;
  dht_->Bootstrap([&](const dht::LookupResult& r) { boot = r; });
  ASSERT_TRUE(WaitFor([&] { return boot.has_value(); }, 15));
  EXPECT_GE(dht_->node().table().size(), 3u);

  // libtorrent announces; btkit's get_peers finds it.
  const std::string ih1 = "0123456789abcdef0123456789abcdef01234567";
  lt_->Send("announce 0 " + ih1);
  std::optional<std::string> announced = WaitLine("ANNOUNCED ", 20);
  ASSERT_TRUE(announced.has_value());
  std::vector<std::string> words = absl::StrSplit(*announced, ' ');
  Endpoint lt_peer = Endpoint::V4({127, 0, 0, 1}, std::stoi(words[1]));
  bool found = false;
  for (int attempt = 0; attempt < 5 && !found; ++attempt) {
    std::optional<dht::LookupResult> r;
    dht_->GetPeers(*Sha1Hash::FromHex(ih1),
                   [&](const dht::LookupResult& res) { r = res; });
    ASSERT_TRUE(WaitFor([&] { return r.has_value(); }, 15));
    std::printf("btkit get_peers: %zu peers, %zu queries, %zu responses\n",
                r->peers.size(), r->queries, r->responses);
    for (const Endpoint& e : r->peers) found |= e == lt_peer;
    if (!found) WaitFor([] { return false; }, 1);
  }
  EXPECT_TRUE(found) << "btkit did not find " << lt_peer.ToString();

  // btkit announces; libtorrent's get_peers finds it.
  const std::string ih2 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  std::optional<dht::LookupResult> ann;
  dht_->Announce(*Sha1Hash::FromHex(ih2), 7002, false,
                 [&](const dht::LookupResult& r) { ann = r; });
  ASSERT_TRUE(WaitFor([&] { return ann.has_value(); }, 15));
  std::printf("btkit announce: acknowledged by %zu nodes, %zu messages\n",
              ann->announced, ann->queries);
  EXPECT_GE(ann->announced, 1u);
  lt_->Send("get_peers 2 " + ih2 + " 10");
  std::optional<std::string> peers = WaitLine("PEERS", 20);
  ASSERT_TRUE(peers.has_value());
  std::printf("libtorrent get_peers: %s\n", peers->c_str());
  EXPECT_TRUE(absl::StrContains(*peers, "127.0.0.1:7002"));

  // BEP 44: btkit puts an immutable item that libtorrent gets, and gets
  // one that libtorrent put.
  dht::DhtItem hello = dht::MakeImmutableItem("12:Hello World!");
  std::optional<dht::LookupResult> put;
  dht_->node().PutItem(hello, DhtUdpNode::Now(),
                       [&](const dht::LookupResult& r) { put = r; });
  dht_->Flush();
  ASSERT_TRUE(WaitFor([&] { return put.has_value(); }, 15));
  EXPECT_GE(put->announced, 1u);
  lt_->Send("get_immutable 2 " + dht::ItemTarget(hello).ToHex() + " 10");
  std::optional<std::string> item_line = WaitLine("ITEM", 20);
  ASSERT_TRUE(item_line.has_value());
  std::printf("libtorrent get: %s\n", item_line->c_str());
  // "12:Hello World!" in hex.
  EXPECT_EQ(*item_line, "ITEM 31323a48656c6c6f20576f726c6421");

  lt_->Send("put_immutable 1 interop-from-libtorrent");
  std::optional<std::string> put_line = WaitLine("PUT ", 20);
  ASSERT_TRUE(put_line.has_value());
  std::printf("libtorrent put: %s\n", put_line->c_str());
  std::vector<std::string> put_words = absl::StrSplit(*put_line, ' ');
  ASSERT_GE(put_words.size(), 2u);
  absl::StatusOr<NodeId> lt_target = NodeId::FromHex(put_words[1]);
  ASSERT_TRUE(lt_target.ok());
  std::optional<dht::LookupResult> got;
  dht_->node().GetItem(*lt_target, "", DhtUdpNode::Now(),
                       [&](const dht::LookupResult& r) { got = r; });
  dht_->Flush();
  ASSERT_TRUE(WaitFor([&] { return got.has_value(); }, 15));
  ASSERT_TRUE(got->item.has_value());
  EXPECT_EQ(got->item->value, "23:interop-from-libtorrent");

  // The command-line tool finds libtorrent's peer too.
  if (access(kBt, X_OK) == 0) {
    std::string cmd = std::string(kBt) + " dht get-peers " + ih1 +
                      " --bootstrap 127.0.0.1:" + ports[1] +
                      " --bind 127.0.0.1 --timeout 20 2>/dev/null";
    // Keep serving libtorrent's queries while the tool runs in a child.
    std::unique_ptr<Child> bt = Child::Start({"/bin/sh", "-c", cmd});
    ASSERT_NE(bt, nullptr);
    std::optional<std::string> line;
    WaitFor([&] {
      bt->Read();
      return (line = bt->TakeLine("127.0.0.1:")).has_value();
    }, 25);
    ASSERT_TRUE(line.has_value()) << "bt dht get-peers printed no peer";
    EXPECT_EQ(*line, lt_peer.ToString());
  }
  lt_->Send("quit");
}

}  // namespace
}  // namespace bt::client
