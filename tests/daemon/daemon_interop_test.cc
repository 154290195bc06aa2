// `bt daemon` as a process on loopback, driven the way users drive it:
// Debian's transmission-remote adds a .torrent and a magnet that a
// libtorrent seeder serves (found through opentracker), lists, limits,
// stops, starts, verifies and removes them; a daemon killed with SIGKILL
// mid-download comes back from its state directory and fetches only what it
// lacked; and bad requests (malformed, mistyped, oversized, unauthenticated,
// outside the allowed directories) get errors while the daemon keeps
// serving. Payloads are a few MiB so the suite stays quick.
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/client/interop_support.h"
#include "tests/daemon/bt_daemon_process.h"
#include "tests/testing/files.h"
#include "tests/testing/http_client.h"
#include "tests/testing/opentracker.h"
#include "tests/testing/subprocess.h"

namespace bt::daemon {
namespace {

namespace fs = std::filesystem;
namespace interop = ::bt::client::interop;
using Json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kPeerScript[] = "tests/client/libtorrent_peer.py";
constexpr int64_t kPieceSize = 256 << 10;  // WriteTorrent's

// WritePayload writes `size` pseudo-random bytes (from `seed`) to
// dir/payload/data.bin and a small second file to dir/payload/docs/notes.txt.
void WritePayload(const std::string& dir, size_t size, uint32_t seed) {
  std::mt19937_64 rng(seed);
  auto write = [&](const fs::path& p, size_t n) {
    fs::create_directories(p.parent_path());
    std::string data(n, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    std::ofstream(p, std::ios::binary).write(data.data(), data.size());
  };
  write(fs::path(dir) / "payload/data.bin", size);
  write(fs::path(dir) / "payload/docs/notes.txt", 3001);
}

::testing::AssertionResult SamePayload(const std::string& want_dir,
                                       const std::string& got_dir) {
  for (const char* f : {"payload/data.bin", "payload/docs/notes.txt"}) {
    const std::string want = testing::ReadFileOrDie(want_dir + "/" + f);
    if (want.empty() || testing::ReadFileOrDie(got_dir + "/" + f) != want) {
      return ::testing::AssertionFailure() << got_dir << "/" << f << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

// ListLine is the line of `transmission-remote -l` output for torrent `id`.
std::string ListLine(const std::string& list, int64_t id) {
  for (absl::string_view line : absl::StrSplit(list, '\n')) {
    std::vector<absl::string_view> words =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    int64_t n;
    if (!words.empty() &&
        absl::SimpleAtoi(absl::StripSuffix(words[0], "*"), &n) && n == id) {
      return std::string(line);
    }
  }
  return "";
}

// Rpc POSTs `request` to the daemon, doing the session-id handshake, and
// returns the parsed reply (null if it is not JSON).
Json Rpc(uint16_t port, const Json& request, const std::string& auth = "") {
  const std::string body = request.dump();
  testing::HttpReply first = testing::HttpExchange(
      port, testing::HttpRequest("POST", "/transmission/rpc", auth, body));
  EXPECT_EQ(first.status, 409);
  const std::string session = absl::StrCat(
      "X-Transmission-Session-Id: ", first.headers["x-transmission-session-id"],
      "\r\n");
  testing::HttpReply reply = testing::HttpExchange(
      port,
      testing::HttpRequest("POST", "/transmission/rpc", auth + session, body));
  EXPECT_EQ(reply.status, 200) << reply.body;
  return Json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
}

// Torrents returns torrent-get's list with a few fields.
Json Torrents(uint16_t port) {
  Json reply = Rpc(port, {{"method", "torrent-get"},
                          {"arguments",
                           {{"fields",
                             {"id", "hashString", "percentDone", "haveValid",
                              "downloadedEver", "status", "totalSize"}}}}});
  if (!reply.is_object() || !reply["arguments"].is_object()) {
    return Json::array();
  }
  return reply["arguments"]["torrents"];
}

// TorrentOf is the entry for `hash` in Torrents(port), or null.
Json TorrentOf(uint16_t port, const Sha1Hash& hash) {
  for (const Json& t : Torrents(port)) {
    if (t.value("hashString", "") == hash.ToHex()) return t;
  }
  return nullptr;
}

// WaitComplete polls until the torrent is complete and checked.
::testing::AssertionResult WaitComplete(uint16_t port, const Sha1Hash& hash,
                                        absl::Time deadline) {
  Json t;
  while (absl::Now() < deadline) {
    t = TorrentOf(port, hash);
    if (t.is_object() && t["percentDone"] == 1 &&
        t["haveValid"] == t["totalSize"] && t["status"] == 6) {
      return ::testing::AssertionSuccess();
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return ::testing::AssertionFailure() << "not complete: " << t.dump();
}

// Seeder runs libtorrent_peer.py seeding `torrent` from `dir`; its stdout
// (the totals it prints when stopped) goes to `log` when given.
std::unique_ptr<testing::Subprocess> StartSeeder(
    const std::string& torrent, const std::string& dir,
    const std::string& port_file, const std::vector<std::string>& extra = {},
    const std::string& log = "") {
  std::vector<std::string> argv = {kPython,    kPeerScript, "seed",
                                   torrent,    dir,         port_file,
                                   "disabled", "--timeout", "300"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  absl::StatusOr<std::unique_ptr<testing::Subprocess>> p =
      testing::Subprocess::Start(argv, {.stdout_path = log, .stderr_path = ""});
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) return nullptr;
  absl::StatusOr<std::string> port =
      testing::WaitForFile(port_file, absl::Now() + absl::Seconds(30));
  EXPECT_TRUE(port.ok()) << port.status();
  return std::move(*p);
}

std::string Magnet(const Sha1Hash& hash, const std::string& tracker) {
  std::string tr;
  for (char c : tracker) {
    if (absl::ascii_isalnum(c) || c == '.' || c == '-') {
      tr += c;
    } else {
      absl::StrAppendFormat(&tr, "%%%02X", static_cast<unsigned char>(c));
    }
  }
  return absl::StrCat("magnet:?xt=urn:btih:", hash.ToHex(),
                      "&dn=payload&tr=", tr);
}

class DaemonInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool :
         {kRemotePath, kPython, ::bt::testing::Opentracker::kPath}) {
      if (access(tool, X_OK) != 0) GTEST_SKIP() << "no " << tool;
    }
    root_ = testing::TempDir(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { fs::remove_all(root_); }

  // Prepare writes a payload of `size` bytes under root/`name` and
  // root/`name`.torrent without trackers (Announced adds the tracker once
  // it runs; the info-hash stays); returns its info-hash.
  Sha1Hash Prepare(const std::string& name, size_t size, uint32_t seed) {
    WritePayload(root_ + "/" + name, size, seed);
    absl::StatusOr<Sha1Hash> ih =
        interop::WriteTorrent(root_ + "/" + name, Torrent(name), {});
    EXPECT_TRUE(ih.ok()) << ih.status();
    return ih.value_or(Sha1Hash());
  }
  void StartTracker(const std::vector<Sha1Hash>& hashes) {
    auto t = ::bt::testing::Opentracker::Start(hashes,
                                               absl::Now() + absl::Seconds(30));
    ASSERT_TRUE(t.ok()) << t.status();
    tracker_ = std::move(*t);
  }
  // Announced rewrites root/`name`.torrent with the tracker's URL.
  void Announced(const std::string& name) {
    ASSERT_TRUE(interop::WriteTorrent(root_ + "/" + name, Torrent(name),
                                      {tracker_->http_url()})
                    .ok());
  }
  std::string Torrent(const std::string& name) const {
    return root_ + "/" + name + ".torrent";
  }
  absl::StatusOr<BtDaemonProcess> StartDaemon(
      const std::string& state, const std::string& download_dir,
      std::vector<std::string> extra = {}) {
    // The libtorrent peers take TCP only: no uTP attempt to wait out.
    for (const char* flag : {"--web-root=", "--transport", "tcp"}) {
      extra.push_back(flag);
    }
    return StartBtDaemon(state, download_dir, root_ + "/daemon.err", extra);
  }
  RemoteResult Remote(uint16_t port, const std::vector<std::string>& args) {
    return RunRemote(port, args, root_ + "/remote.out");
  }

  std::string root_;
  std::unique_ptr<::bt::testing::Opentracker> tracker_;
};

TEST_F(DaemonInteropTest, TransmissionRemoteDrivesTheDaemon) {
  const absl::Time deadline = absl::Now() + absl::Seconds(100);
  const Sha1Hash a = Prepare("a", 4 << 20, 1), b = Prepare("b", 3 << 20, 2);
  StartTracker({a, b});
  Announced("a");
  Announced("b");
  auto seed_a = StartSeeder(Torrent("a"), root_ + "/a", root_ + "/a.port");
  auto seed_b = StartSeeder(Torrent("b"), root_ + "/b", root_ + "/b.port");
  ASSERT_TRUE(seed_a && seed_b);
  ASSERT_TRUE(tracker_->WaitForPeers(a, 1, 0, deadline).ok());
  ASSERT_TRUE(tracker_->WaitForPeers(b, 1, 0, deadline).ok());

  const std::string dl = root_ + "/dl";
  fs::create_directories(dl + "/b");
  absl::StatusOr<BtDaemonProcess> d = StartDaemon(root_ + "/state", dl);
  ASSERT_TRUE(d.ok()) << d.status();
  const uint16_t port = d->port;

  RemoteResult added = Remote(port, {"-a", Torrent("a")});
  EXPECT_EQ(added.status, 0);
  EXPECT_THAT(added.out, HasSubstr("success"));
  added =
      Remote(port, {"-a", Magnet(b, tracker_->http_url()), "-w", dl + "/b"});
  EXPECT_EQ(added.status, 0);
  EXPECT_THAT(added.out, HasSubstr("success"));

  Json ta = TorrentOf(port, a), tb = TorrentOf(port, b);
  ASSERT_TRUE(ta.is_object() && tb.is_object()) << Torrents(port).dump();
  const int64_t id_a = ta["id"], id_b = tb["id"];
  RemoteResult list = Remote(port, {"-l"});
  EXPECT_EQ(list.status, 0);
  EXPECT_THAT(ListLine(list.out, id_a), HasSubstr("payload")) << list.out;
  // The magnet's size is "n/a" until its metadata arrives.
  EXPECT_THAT(ListLine(list.out, id_b), HasSubstr("payload")) << list.out;

  ASSERT_TRUE(WaitComplete(port, a, deadline));
  ASSERT_TRUE(WaitComplete(port, b, deadline));
  EXPECT_TRUE(SamePayload(root_ + "/a", dl));
  EXPECT_TRUE(SamePayload(root_ + "/b", dl + "/b"));
  list = Remote(port, {"-l"});
  EXPECT_THAT(ListLine(list.out, id_a), HasSubstr("100%")) << list.out;
  EXPECT_THAT(ListLine(list.out, id_b), HasSubstr("100%")) << list.out;

  RemoteResult info = Remote(port, {"-si"});
  EXPECT_EQ(info.status, 0);
  EXPECT_THAT(info.out, HasSubstr("RPC version: 16"));
  RemoteResult stats = Remote(port, {"-st"});
  EXPECT_EQ(stats.status, 0);
  EXPECT_THAT(stats.out, HasSubstr("CURRENT SESSION"));
  EXPECT_THAT(stats.out, HasSubstr("MB"))
      << "nothing downloaded: " << stats.out;

  EXPECT_EQ(Remote(port, {"-d", "100"}).status, 0);
  EXPECT_EQ(Remote(port, {"-u", "200"}).status, 0);
  info = Remote(port, {"-si"});
  EXPECT_THAT(info.out, HasSubstr("Download speed limit: 100 kB/s"));
  EXPECT_THAT(info.out, HasSubstr("Upload speed limit: 200 kB/s"));

  // Stop, damage a piece on disk and verify (the check finds the damage);
  // started again, it announces and fetches the piece back.
  const std::string ida = absl::StrCat(id_a);
  EXPECT_EQ(Remote(port, {"-d", "10000", "-u", "10000"}).status, 0);
  EXPECT_EQ(Remote(port, {"-t", ida, "-S"}).status, 0);
  EXPECT_THAT(ListLine(Remote(port, {"-l"}).out, id_a), HasSubstr("Stopped"));
  {
    std::fstream f(dl + "/payload/data.bin",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(kPieceSize + 17);
    f.put('\x5a' ^ testing::ReadFileOrDie(
                       root_ + "/a/payload/data.bin")[kPieceSize + 17]);
  }
  EXPECT_EQ(Remote(port, {"-t", ida, "-v"}).status, 0);
  EXPECT_EQ(Remote(port, {"-t", ida, "-s"}).status, 0);
  EXPECT_THAT(ListLine(Remote(port, {"-l"}).out, id_a),
              Not(HasSubstr("Stopped")));
  while (!SamePayload(root_ + "/a", dl) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(SamePayload(root_ + "/a", dl));
  ASSERT_TRUE(WaitComplete(port, a, deadline));

  RemoteResult removed = Remote(port, {"-t", ida, "--remove-and-delete"});
  EXPECT_EQ(removed.status, 0);
  list = Remote(port, {"-l"});
  EXPECT_EQ(ListLine(list.out, id_a), "") << list.out;
  EXPECT_NE(ListLine(list.out, id_b), "") << list.out;
  const absl::Time gone = absl::Now() + absl::Seconds(10);
  while (fs::exists(dl + "/payload") && absl::Now() < gone) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_FALSE(fs::exists(dl + "/payload"));
  EXPECT_TRUE(SamePayload(root_ + "/b", dl + "/b"));
}

// SeederUploaded reads the "totals: uploaded N bytes" line a stopped
// libtorrent_peer.py wrote to `log`; -1 if there is none.
int64_t SeederUploaded(const std::string& log) {
  const std::string text = testing::ReadFileOrDie(log);
  const size_t at = text.find("totals: uploaded ");
  int64_t n = -1;
  if (at == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(text).substr(
                            at + 17, text.find(' ', at + 17) - (at + 17)),
                        &n)) {
    ADD_FAILURE() << log << ": " << text;
  }
  return n;
}

TEST_F(DaemonInteropTest, KilledMidDownloadResumesWithoutRefetching) {
  const absl::Time deadline = absl::Now() + absl::Seconds(100);
  constexpr int64_t kSize = 8 << 20;
  const Sha1Hash h = Prepare("p", kSize, 3);
  StartTracker({h});
  Announced("p");
  // About 8 s for the whole payload.
  auto slow = StartSeeder(Torrent("p"), root_ + "/p", root_ + "/slow.port",
                          {"--upload-limit", "1000000"});
  ASSERT_TRUE(slow);
  ASSERT_TRUE(tracker_->WaitForPeers(h, 1, 0, deadline).ok());

  const std::string state = root_ + "/state", dl = root_ + "/dl";
  fs::create_directories(dl);
  absl::StatusOr<BtDaemonProcess> d = StartDaemon(state, dl);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(Remote(d->port, {"-a", Torrent("p")}).status, 0);
  Json t;
  double done = 0;
  while (done < 0.3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    t = TorrentOf(d->port, h);
    done = t.is_object() ? t["percentDone"].get<double>() : 0;
  }
  ASSERT_GE(done, 0.3) << t.dump();
  ASSERT_LE(done, 0.7) << "the download ran past the point to kill it";
  const int64_t have_at_kill = t["haveValid"], total = t["totalSize"];
  d->process->Kill(SIGKILL);
  ASSERT_EQ(d->process->Wait(deadline).value_or(-1), 128 + SIGKILL);
  slow->Kill(SIGTERM);
  ASSERT_TRUE(slow->Wait(deadline).ok());

  // A fresh seeder counts what the restarted daemon fetches.
  const std::string log = root_ + "/fast.log";
  auto fast =
      StartSeeder(Torrent("p"), root_ + "/p", root_ + "/fast.port", {}, log);
  ASSERT_TRUE(fast);
  d = StartDaemon(state, dl);
  ASSERT_TRUE(d.ok()) << d.status();
  RemoteResult list = Remote(d->port, {"-l"});
  EXPECT_THAT(list.out, HasSubstr("payload"));
  ASSERT_TRUE(WaitComplete(d->port, h, deadline));
  EXPECT_TRUE(SamePayload(root_ + "/p", dl));
  const int64_t downloaded = TorrentOf(d->port, h)["downloadedEver"];
  fast->Kill(SIGTERM);
  ASSERT_TRUE(fast->Wait(deadline).ok());
  const int64_t uploaded = SeederUploaded(log);
  std::printf(
      "killed at %lld of %lld bytes; after the restart the seeder sent "
      "%lld, the daemon says downloadedEver %lld\n",
      static_cast<long long>(have_at_kill), static_cast<long long>(total),
      static_cast<long long>(uploaded), static_cast<long long>(downloaded));
  // Pieces complete at the kill are not fetched again (one or two written
  // but not yet flushed may be).
  EXPECT_LE(uploaded, total - have_at_kill + 2 * kPieceSize);
  // downloadedEver is the torrent's lifetime total: this run's bytes and
  // what the last resume data before the kill recorded.
  EXPECT_GE(downloaded, uploaded);
  EXPECT_LE(downloaded, total + 2 * kPieceSize);
}

TEST_F(DaemonInteropTest, BadRequestsGetErrorsAndTheDaemonServesOn) {
  const std::string dl = root_ + "/dl", outside = root_ + "/outside";
  fs::create_directories(dl);
  fs::create_directories(outside);
  WritePayload(dl, 1 << 20, 4);
  absl::StatusOr<Sha1Hash> inside =
      interop::WriteTorrent(dl, dl + "/in.torrent", {});
  ASSERT_TRUE(inside.ok());
  ASSERT_TRUE(interop::WriteTorrent(dl, outside + "/out.torrent", {}).ok());
  absl::StatusOr<BtDaemonProcess> d =
      StartDaemon(root_ + "/state", dl, {"--rpc-auth", "alice:s3cret"});
  ASSERT_TRUE(d.ok()) << d.status();
  const uint16_t port = d->port;
  const std::string auth = absl::StrCat(
      "Authorization: Basic ", absl::Base64Escape("alice:s3cret"), "\r\n");
  ASSERT_EQ(
      Remote(port, {"-n", "alice:s3cret", "-a", dl + "/in.torrent"}).status, 0);

  // HTTP-level refusals.
  const std::string rpc = "/transmission/rpc";
  const std::string get = R"({"method":"session-get"})";
  EXPECT_EQ(
      testing::HttpExchange(port, testing::HttpRequest("POST", rpc, "", get))
          .status,
      401);
  EXPECT_EQ(
      testing::HttpExchange(
          port, testing::HttpRequest(
                    "POST", rpc,
                    absl::StrCat("Authorization: Basic ",
                                 absl::Base64Escape("alice:wrong"), "\r\n"),
                    get))
          .status,
      401);
  testing::HttpReply handshake =
      testing::HttpExchange(port, testing::HttpRequest("POST", rpc, auth, get));
  EXPECT_EQ(handshake.status, 409);
  const std::string session =
      absl::StrCat(auth, "X-Transmission-Session-Id: ",
                   handshake.headers["x-transmission-session-id"], "\r\n");
  // Over 16 MiB declared: refused without reading it.
  EXPECT_EQ(testing::HttpExchange(
                port, absl::StrCat("POST ", rpc,
                                   " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   "Connection: close\r\n",
                                   session, "Content-Length: ", (16 << 20) + 1,
                                   "\r\n\r\n{"))
                .status,
            413);

  // Protocol-level errors: 200 with a result other than "success".
  auto result = [&](const std::string& body) {
    testing::HttpReply r = testing::HttpExchange(
        port, testing::HttpRequest("POST", rpc, session, body));
    EXPECT_EQ(r.status, 200) << body;
    Json j = Json::parse(r.body, nullptr, false);
    return j.is_object() && j["result"].is_string()
               ? j["result"].get<std::string>()
               : "unparsed reply: " + r.body;
  };
  for (
      const char* body : {
          "{not json",
          "[1,2]",
          R"({"method":42})",
          R"({"method":"torrent-get","arguments":{"fields":"name"}})",
          R"({"method":"torrent-get","arguments":{"fields":["id"],"ids":{}}})",
          R"({"method":"session-set","arguments":{"speed-limit-down":"fast"}})",
          R"({"method":"torrent-add","arguments":{"filename":7}})",
          R"({"method":"torrent-add","arguments":{"metainfo":"!!notbase64"}})",
          R"({"method":"torrent-start","arguments":{"ids":[{"a":1}]}})",
      }) {
    EXPECT_NE(result(body), "success") << body;
  }
  const Json outside_file = {
      {"method", "torrent-add"},
      {"arguments", {{"filename", outside + "/out.torrent"}}}};
  EXPECT_THAT(result(outside_file.dump()), HasSubstr("outside"));
  const Json outside_dir = {
      {"method", "torrent-add"},
      {"arguments",
       {{"filename", dl + "/in.torrent"}, {"download-dir", outside}}}};
  EXPECT_THAT(result(outside_dir.dump()), HasSubstr("outside"));
  const Json outside_setting = {{"method", "session-set"},
                                {"arguments", {{"download-dir", outside}}}};
  EXPECT_THAT(result(outside_setting.dump()), HasSubstr("outside"));
  EXPECT_NE(Remote(port, {"-n", "alice:s3cret", "-a", outside + "/out.torrent",
                          "-w", outside})
                .status,
            0);

  // Still serving, with only the one torrent added properly.
  RemoteResult list = Remote(port, {"-n", "alice:s3cret", "-l"});
  EXPECT_EQ(list.status, 0);
  EXPECT_THAT(ListLine(list.out, 1), HasSubstr("payload")) << list.out;
  EXPECT_EQ(ListLine(list.out, 2), "") << list.out;
  Json t = Rpc(port,
               {{"method", "torrent-get"},
                {"arguments", {{"fields", {"hashString", "downloadDir"}}}}},
               auth)["arguments"]["torrents"];
  ASSERT_EQ(t.size(), 1u) << t.dump();
  EXPECT_EQ(t[0]["hashString"], inside->ToHex());
  EXPECT_NE(Remote(port, {"-n", "alice:wrong", "-l"}).status, 0);
}

}  // namespace
}  // namespace bt::daemon
