// Transmission's web client (Debian's transmission-common) in headless
// Chromium against `bt daemon`: the page it renders from our RPC replies
// lists both torrents the daemon holds, by name, with their progress (a
// complete seed and a torrent with half its data on disk).
//
// Chromium dumps the DOM once the page's JavaScript has run for a virtual
// 8 s (the client's first session-get and torrent-get); the dump is retried
// until the rows show up or a deadline passes. With
// $TEST_UNDECLARED_OUTPUTS_DIR set, a screenshot and the last DOM are kept
// there.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file_util.h"
#include "bencode/encoder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/daemon/bt_daemon_process.h"
#include "tests/metainfo/test_torrents.h"
#include "tests/testing/subprocess.h"

namespace bt::daemon {
namespace {

namespace fs = std::filesystem;
using metainfo::testing::MakeTorrent;
using metainfo::testing::Pattern;
using metainfo::testing::Version;
using ::testing::StartsWith;
using Subprocess = ::bt::testing::Subprocess;

constexpr char kChromium[] = "/usr/bin/chromium";
constexpr char kRemote[] = "/usr/bin/transmission-remote";
constexpr char kWebClient[] = "/usr/share/transmission/web";
constexpr size_t kMaxOutput = size_t{64} << 20;
constexpr int64_t kPiece = 16384;

// Row is what the web client shows of one torrent.
struct Row {
  std::string progress;   // the text under the bar
  std::string bar_width;  // the filled part of the bar, "50%"
};

// TextAfter returns the text from just after `marker` (searched from `from`)
// up to the next '<', or "" without the marker.
std::string TextAfter(const std::string& html, const std::string& marker,
                      size_t from = 0) {
  size_t at = html.find(marker, from);
  if (at == std::string::npos) return "";
  at += marker.size();
  return html.substr(at, html.find('<', at) - at);
}

// ParseRows maps each row's torrent name to what it shows (rows are
// <li class="torrent"> items written by the client's torrent-row.js).
std::map<std::string, Row> ParseRows(const std::string& dom) {
  std::map<std::string, Row> rows;
  const std::string start = "<li class=\"torrent";
  for (size_t at = dom.find(start); at != std::string::npos;
       at = dom.find(start, at + 1)) {
    const std::string li = dom.substr(at, dom.find("</li>", at) - at);
    Row row;
    row.progress = TextAfter(li, "class=\"torrent_progress_details\">");
    const size_t bar = li.find("torrent_progress_bar complete");
    if (bar != std::string::npos) {
      const std::string style = TextAfter(li, "style=\"width: ", bar);
      row.bar_width = style.substr(0, style.find(';'));
    }
    rows[TextAfter(li, "class=\"torrent_name\">")] = row;
  }
  return rows;
}

// ReadOrEmpty is the file at `path`, or "" if it cannot be read.
std::string ReadOrEmpty(const std::string& path) {
  return ReadFileToString(path, kMaxOutput).value_or("");
}

class WebUiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* path : {kChromium, kWebClient}) {
      if (!fs::exists(path)) {
        GTEST_SKIP() << path << " is not installed (Debian: chromium, "
                     << "transmission-common); the web client is not tried";
      }
    }
    root_ = bt::testing::TempDir("web_ui");
    dl_ = root_ + "/dl";
    fs::create_directories(dl_);
  }
  void TearDown() override {
    daemon_.reset();
    if (!root_.empty()) fs::remove_all(root_);
  }

  // WriteTorrent writes `name`.torrent (one file of `size` bytes in
  // 16 KiB pieces) into the download directory with its first `on_disk`
  // bytes in place; returns the .torrent's path.
  std::string WriteTorrent(const std::string& name, size_t size, size_t on_disk,
                           uint32_t seed) {
    const std::string data = Pattern(size, seed);
    fs::create_directories(dl_ + "/" + name);
    std::ofstream(dl_ + "/" + name + "/data.bin", std::ios::binary)
        << data.substr(0, on_disk);
    const std::string path = dl_ + "/" + name + ".torrent";
    std::ofstream(path, std::ios::binary) << bencode::Encode(
        MakeTorrent(name, {{{"data.bin"}, data}}, kPiece, Version::kV1));
    return path;
  }

  // StartDaemon runs `bt daemon` with its RPC on a loopback port it
  // picks and sets port_ once it serves.
  void StartDaemon() {
    absl::StatusOr<BtDaemonProcess> d =
        StartBtDaemon(root_ + "/state", dl_, root_ + "/daemon.err");
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(d->process);
    port_ = d->port;
  }

  // Add sends torrent-add for the .torrent at `path` with
  // transmission-remote.
  void Add(const std::string& path) {
    EXPECT_EQ(RunToEnd({kRemote, absl::StrCat("127.0.0.1:", port_), "-a", path},
                       {}, absl::Now() + absl::Seconds(30)),
              0)
        << "transmission-remote -a " << path;
  }

  // Chromium loads the web client in headless Chromium with `action`
  // (--dump-dom, --screenshot=...) and returns its exit status; stdout goes
  // to `out`.
  int Chromium(const std::string& action, const std::string& out) {
    return RunToEnd(
        {kChromium, "--headless", "--no-sandbox", "--disable-gpu",
         "--user-data-dir=" + root_ + "/chromium-profile",
         "--window-size=1280,800", "--virtual-time-budget=8000", action,
         absl::StrCat("http://127.0.0.1:", port_, "/transmission/web/")},
        {.stdout_path = out, .stderr_path = root_ + "/chromium.err"},
        absl::Now() + absl::Seconds(60));
  }

  std::string root_, dl_;
  std::unique_ptr<Subprocess> daemon_;
  int port_ = 0;
};

TEST_F(WebUiTest, ListsBothTorrentsWithTheirProgress) {
  // 200000 bytes all in place; 8 pieces with the first 4 in place.
  const std::string seed = WriteTorrent("complete-seed", 200000, 200000, 1);
  const std::string half =
      WriteTorrent("half-there", 8 * kPiece, 4 * kPiece, 2);
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  Add(seed);
  Add(half);

  const std::string dom_path = root_ + "/dom.html";
  std::map<std::string, Row> rows;
  auto shown = [&rows] {
    return rows.count("complete-seed") && rows.count("half-there") &&
           rows["complete-seed"].bar_width == "100%" &&
           rows["half-there"].bar_width == "50%";
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  int attempts = 0;
  while (!shown() && absl::Now() < deadline) {
    ++attempts;
    const int code = Chromium("--dump-dom", dom_path);
    rows = ParseRows(ReadOrEmpty(dom_path));
    if (code != 0) {
      ADD_FAILURE() << "chromium exited with " << code << ": "
                    << ReadOrEmpty(root_ + "/chromium.err");
      break;
    }
  }
  // The list, or the whole page when there is none.
  const std::string dom = ReadOrEmpty(dom_path);
  const size_t list = dom.find("id=\"torrent_list\"");
  SCOPED_TRACE(
      absl::StrCat(attempts, " dumps; last DOM:\n",
                   list == std::string::npos ? dom : dom.substr(list)));
  EXPECT_EQ(rows.size(), 2u);
  ASSERT_TRUE(rows.count("complete-seed"));
  ASSERT_TRUE(rows.count("half-there"));
  // A seed shows its size and what it uploaded; the other what it has.
  EXPECT_EQ(rows["complete-seed"].bar_width, "100%");
  EXPECT_THAT(rows["complete-seed"].progress, StartsWith("200.0 kB, uploaded"));
  EXPECT_EQ(rows["half-there"].bar_width, "50%");
  EXPECT_THAT(rows["half-there"].progress,
              StartsWith("65.5 kB of 131.0 kB (50.0%)"));

  if (const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {
    fs::copy_file(dom_path, std::string(outputs) + "/web_ui.html",
                  fs::copy_options::overwrite_existing);
    const std::string png = std::string(outputs) + "/web_ui.png";
    if (Chromium("--screenshot=" + png, "") != 0) {
      std::cerr << "no screenshot: " << ReadOrEmpty(root_ + "/chromium.err");
    }
  }
}

}  // namespace
}  // namespace bt::daemon
