// BEP 19 web seeds against nginx (Debian's nginx-light) on loopback: the
// 67 MiB multi-file payload, in a torrent made by mktorrent with `-w`, is
// downloaded by `bt download` from the web seed alone, byte for byte; and
// with a server that answers 404 and one that serves a corrupted file next
// to a good one, the download still completes, the corrupting server is
// dropped at the verdict on its first bad piece, and the 404 one only
// backs off.
// With a libtorrent seeder as well, web seeds and the peer share the work
// and blame for the corrupting server never falls on the peer.
// (mktorrent lists extras/deep/image.bin first, so the bad file is pieces
// 0-11.)
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "tests/client/interop_support.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;

constexpr char kNginx[] = "/usr/sbin/nginx";
constexpr char kMktorrent[] = "/usr/bin/mktorrent";
constexpr char kBt[] = "client/cli/bt";
constexpr char kPython[] = "/usr/bin/python3";
constexpr char kPeerScript[] = "tests/client/libtorrent_peer.py";

// Nginx serves `root` on a free loopback port, in the foreground, with
// every file it writes under `dir`; the process is killed with the object.
class Nginx {
 public:
  static absl::StatusOr<std::unique_ptr<Nginx>> Start(const std::string& dir,
                                                      const std::string& root,
                                                      absl::Time deadline) {
    const std::string conf = dir + "/nginx.conf";
    absl::StatusOr<::bt::testing::ListeningProcess> listening =
        ::bt::testing::StartListening(
            [&](uint16_t port) {
              std::ofstream(conf) << absl::StrFormat(
                  "daemon off;\nmaster_process off;\nworker_processes 1;\n"
                  "pid %1$s/nginx.pid;\nerror_log %1$s/error.log;\n"
                  "events { worker_connections 64; }\n"
                  "http {\n  access_log %1$s/access.log;\n"
                  "  client_body_temp_path %1$s/body;\n"
                  "  proxy_temp_path %1$s/proxy;\n"
                  "  fastcgi_temp_path %1$s/fastcgi;\n"
                  "  uwsgi_temp_path %1$s/uwsgi;\n  scgi_temp_path %1$s/scgi;\n"
                  "  default_type application/octet-stream;\n"
                  "  server { listen 127.0.0.1:%2$d; root %3$s; }\n}\n",
                  dir, port, root);
              return std::vector<std::string>{
                  kNginx, "-p", dir, "-c", conf, "-e", dir + "/error.log"};
            },
            {.patience = std::min(absl::Seconds(5), deadline - absl::Now())});
    if (!listening.ok()) {
      return absl::UnavailableError(absl::StrCat(listening.status().message(),
                                                 "; see ", dir, "/error.log"));
    }
    auto n = std::unique_ptr<Nginx>(new Nginx);
    n->port_ = listening->port;
    n->process_ = std::move(listening->process);
    return n;
  }

  std::string Url(const std::string& path) const {
    return absl::StrFormat("http://127.0.0.1:%d/%s", port_, path);
  }

 private:
  Nginx() = default;
  uint16_t port_ = 0;
  std::unique_ptr<testing::Subprocess> process_;
};

class WebSeedInteropTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (access(kNginx, X_OK) != 0 || access(kMktorrent, X_OK) != 0) return;
    root_ = testing::TempDir("client_web_seed_interop");
    interop::WritePayload(root_ + "/seed");
    // www/good is the payload as it is; www/bad serves the same files but
    // with one of them (3 MiB, 12 pieces) corrupted in every piece.
    fs::create_directories(root_ + "/www/bad/payload/extras/deep");
    fs::create_directory_symlink(root_ + "/seed", root_ + "/www/good");
    fs::create_symlink(root_ + "/seed/" + interop::kPayloadFiles[0],
                       root_ + "/www/bad/" + interop::kPayloadFiles[0]);
    fs::create_symlink(root_ + "/seed/" + interop::kPayloadFiles[1],
                       root_ + "/www/bad/" + interop::kPayloadFiles[1]);
    const std::string bad = root_ + "/www/bad/" + interop::kPayloadFiles[2];
    fs::copy_file(root_ + "/seed/" + interop::kPayloadFiles[2], bad);
    std::fstream f(bad, std::ios::in | std::ios::out | std::ios::binary);
    for (int piece = 0; piece < 12; ++piece) {
      f.seekp(piece << 18);
      f << std::string(1000, 'X');
    }
  }
  static void TearDownTestSuite() {
    if (!root_.empty()) fs::remove_all(root_);
  }

  void SetUp() override {
    if (access(kNginx, X_OK) != 0) {
      GTEST_SKIP() << "no " << kNginx << " (Debian package nginx-light)";
    }
    if (access(kMktorrent, X_OK) != 0) GTEST_SKIP() << "no " << kMktorrent;
    deadline_ = absl::Now() + absl::Seconds(100);
    const std::string dir =
        root_ + "/" +
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir);
    auto nginx = Nginx::Start(dir, root_ + "/www", deadline_);
    ASSERT_TRUE(nginx.ok()) << nginx.status();
    nginx_ = *std::move(nginx);
    dir_ = dir;
  }

  // MakeTorrent runs mktorrent on the payload with `web_seeds` (no
  // announce URL) and returns the .torrent's path.
  std::string MakeTorrent(const std::vector<std::string>& web_seeds) {
    const std::string path = dir_ + "/payload.torrent";
    auto p = testing::Subprocess::Start({kMktorrent, "-l", "18", "-t", "1",
                                         "-w", absl::StrJoin(web_seeds, ","),
                                         "-o", path, root_ + "/seed/payload"});
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return path;
    absl::StatusOr<int> code = (*p)->Wait(deadline_);
    EXPECT_TRUE(code.ok() && *code == 0) << "mktorrent failed";
    return path;
  }

  // Download is an in-process client downloading a torrent into dir_/dl.
  struct Download {
    std::unique_ptr<Client> client;
    Torrent* torrent = nullptr;
    std::shared_ptr<int> hash_failures = std::make_shared<int>(0);
  };
  Download StartDownload(const std::string& torrent,
                         const std::vector<Endpoint>& peers) {
    Download d;
    ClientOptions options;
    options.local_hosts = {"127.0.0.1"};
    options.enable_dht = false;
    options.enable_lsd = false;
    auto client = Client::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return d;
    d.client = *std::move(client);
    TorrentParams params;
    params.torrent_path = torrent;
    params.save_path = dir_ + "/dl";
    params.peers = peers;
    auto added = d.client->AddTorrent(params);
    EXPECT_TRUE(added.ok()) << added.status();
    if (!added.ok()) return d;
    d.torrent = *added;
    d.torrent->OnEvent(EventType::kPieceHashFail,
                       [failures = d.hash_failures](const Event&) {
                         ++*failures;
                         return true;
                       });
    return d;
  }

  absl::Time deadline_;
  std::string dir_;
  std::unique_ptr<Nginx> nginx_;
  static std::string root_;
};

std::string WebSeedInteropTest::root_;

TEST_F(WebSeedInteropTest, BtDownloadCompletesFromTheWebSeedAlone) {
  const std::string torrent = MakeTorrent({nginx_->Url("good/")});
  const absl::Time start = absl::Now();
  auto bt = testing::Subprocess::Start(
      {kBt, "download", torrent, "-o", dir_ + "/dl", "--bind", "127.0.0.1",
       "--no-dht", "--no-lsd"});
  ASSERT_TRUE(bt.ok()) << bt.status();
  absl::StatusOr<int> code = (*bt)->Wait(deadline_);
  ASSERT_TRUE(code.ok()) << "bt download did not finish: " << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir_ + "/dl"));
  std::printf("bt download from nginx: 67 MiB in %.1f s\n",
              absl::ToDoubleSeconds(absl::Now() - start));
}

TEST_F(WebSeedInteropTest, CorruptServerIsDroppedAndA404ServerBacksOff) {
  const std::string torrent = MakeTorrent(
      {nginx_->Url("missing/"), nginx_->Url("bad/"), nginx_->Url("good/")});
  Download d = StartDownload(torrent, {});
  ASSERT_TRUE(d.torrent);
  Torrent* t = d.torrent;
  ASSERT_TRUE(interop::DownloadAll(*d.client, *t, deadline_));
  EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir_ + "/dl"));
  const int failed = *d.hash_failures;

  std::vector<WebSeedInfo> seeds = t->web_seeds();
  ASSERT_EQ(seeds.size(), 3u);
  EXPECT_FALSE(seeds[0].dropped) << "a 404 is not bad data";
  EXPECT_GT(seeds[0].failures, 0);
  EXPECT_NE(seeds[0].last_error.find("404"), std::string::npos)
      << seeds[0].last_error;
  EXPECT_EQ(seeds[0].bytes_received, 0);
  // The corrupt server gets some of the 12 bad pieces (each goes to it or
  // to the good one) and is dropped at the first verdict. Pieces it sent
  // before that verdict fail too (hashing runs behind the transfer), but
  // each bad piece fails at most once: it is fetched again from the good
  // server only.
  EXPECT_TRUE(seeds[1].dropped);
  EXPECT_EQ(seeds[1].drop_reason, "sent data that failed a hash check");
  EXPECT_GE(failed, 1);
  EXPECT_LE(failed, 12) << "hash failures must not loop";
  EXPECT_FALSE(seeds[2].dropped);
  EXPECT_GT(seeds[2].bytes_received, 0);
  std::printf("bad server: %s, %lld bytes; hash failures: %d\n",
              seeds[1].dropped ? "dropped" : "kept",
              static_cast<long long>(seeds[1].bytes_received), failed);
}

TEST_F(WebSeedInteropTest, WebSeedsAndALibtorrentSeederShareTheDownload) {
  if (access(kPython, X_OK) != 0) GTEST_SKIP() << "no " << kPython;
  const std::string torrent =
      MakeTorrent({nginx_->Url("bad/"), nginx_->Url("good/")});
  const std::string port_file = dir_ + "/lt_port";
  auto lt =
      testing::Subprocess::Start({kPython, kPeerScript, "seed", torrent,
                                  root_ + "/seed", port_file, "disabled"});
  ASSERT_TRUE(lt.ok()) << lt.status();
  auto port_text = testing::WaitForFile(port_file, deadline_);
  ASSERT_TRUE(port_text.ok()) << port_text.status();
  uint32_t port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(*port_text, &port));
  const Endpoint lt_peer = *Endpoint::ParseAddress("127.0.0.1", port);

  Download d = StartDownload(torrent, {lt_peer});
  ASSERT_TRUE(d.torrent);
  ASSERT_TRUE(interop::DownloadAll(*d.client, *d.torrent, deadline_));
  EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir_ + "/dl"));
  EXPECT_FALSE(d.torrent->Banned(lt_peer)) << "blame fell on the peer";
  std::vector<WebSeedInfo> seeds = d.torrent->web_seeds();
  ASSERT_EQ(seeds.size(), 2u);
  // The corrupting server is dropped whenever it sent a bad piece.
  EXPECT_EQ(seeds[0].dropped, *d.hash_failures > 0);
  EXPECT_LE(*d.hash_failures, 12);
  EXPECT_FALSE(seeds[1].dropped);
  EXPECT_GT(seeds[1].bytes_received, 0);
  std::printf("with libtorrent: good server %lld bytes, bad %s; %d failures\n",
              static_cast<long long>(seeds[1].bytes_received),
              seeds[0].dropped ? "dropped" : "kept", *d.hash_failures);
}

}  // namespace
}  // namespace bt::client
