// WebSeed: BEP 19 URLs, pieces mapped to per-file Range requests (across
// file boundaries, around pad files, the last short piece), response
// checks, back-off and dropping; no sockets.
#include "client/web_seed.h"

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "client/piece_verifier.h"
#include "client/web_seed_connection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/testing/remote_peer.h"

namespace bt::client {
namespace {

using metainfo::testing::Pattern;
using metainfo::testing::Version;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kPiece = 32 * 1024;

// Files "t/a" (40000 bytes) and "t/d/b c" (30000 bytes): piece 1 spans
// both, piece 2 is the short last one.
testing::TestTorrent TwoFiles(Version version = Version::kV1) {
  return testing::MakeTestTorrent(
      {{{"a"}, Pattern(40000, 1), ""}, {{"d", "b c"}, Pattern(30000, 2), ""}},
      kPiece, version);
}

// Serve answers `r` as a server holding `t`'s files would: 206 with the
// range asked.
tracker::HttpResponse Serve(const testing::TestTorrent& t,
                            const WebSeedRequest& r) {
  const metainfo::FileLayout& layout = t.info->layout();
  for (size_t i = 0; i < layout.num_files(); ++i) {
    const metainfo::FileEntry& f = layout.file(i);
    if (!r.url.ends_with(f.path.back() == "b c" ? "b%20c" : f.path.back())) {
      continue;
    }
    tracker::HttpResponse resp;
    resp.status = 206;
    resp.headers = {
        {"content-range", absl::StrFormat("bytes %d-%d/%d", r.first,
                                          r.first + r.length - 1, f.size)}};
    resp.body = t.content.substr(f.offset + r.first, r.length);
    return resp;
  }
  ADD_FAILURE() << "no file for " << r.url;
  return {};
}

// RunAll answers every request of the run and returns its blocks.
std::vector<std::pair<BlockRef, std::string>> RunAll(
    const testing::TestTorrent& t, WebSeed& ws) {
  while (const WebSeedRequest* r = ws.NextRequest()) {
    absl::Status s = ws.OnResponse(Serve(t, *r));
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) break;
  }
  EXPECT_TRUE(ws.RunComplete());
  return ws.TakeBlocks();
}

WebSeed Make(const testing::TestTorrent& t, const std::string& url,
             WebSeedOptions o = {}) {
  absl::StatusOr<WebSeed> ws = WebSeed::Create(url, *t.info, o);
  EXPECT_TRUE(ws.ok()) << ws.status();
  return *std::move(ws);
}

TEST(WebSeedTest, FileUrlsFollowBep19) {
  testing::TestTorrent multi = TwoFiles();
  EXPECT_EQ(Make(multi, "http://m/pub/").FileUrl(1), "http://m/pub/t/d/b%20c");
  // A multi-file URL is a folder even without its slash.
  EXPECT_EQ(Make(multi, "http://m/pub").FileUrl(0), "http://m/pub/t/a");
  testing::TestTorrent single = testing::MakeSingleFile(1000);
  EXPECT_EQ(Make(single, "http://m/x.iso").FileUrl(0), "http://m/x.iso");
  EXPECT_EQ(Make(single, "https://m/d/").FileUrl(0), "https://m/d/single.bin");
}

TEST(WebSeedTest, RefusesUrlsItCannotFetch) {
  testing::TestTorrent t = TwoFiles();
  for (const char* url : {"ftp://m/pub/", "m/pub", "", "http://"}) {
    absl::StatusOr<WebSeed> ws = WebSeed::Create(url, *t.info);
    EXPECT_EQ(ws.status().code(), absl::StatusCode::kInvalidArgument) << url;
  }
}

TEST(WebSeedTest, PieceAcrossTwoFilesIsTwoRanges) {
  testing::TestTorrent t = TwoFiles();
  WebSeed ws = Make(t, "http://m/");
  ASSERT_TRUE(ws.Ready(absl::UnixEpoch()));
  EXPECT_TRUE(ws.Begin({{1, 1}, {1, 0}}).empty());
  ASSERT_NE(ws.NextRequest(), nullptr);
  EXPECT_EQ(ws.NextRequest()->url, "http://m/t/a");
  EXPECT_EQ(ws.NextRequest()->RangeHeader(), "Range: bytes=32768-39999\r\n");
  ASSERT_TRUE(ws.OnResponse(Serve(t, *ws.NextRequest())).ok());
  ASSERT_NE(ws.NextRequest(), nullptr);
  EXPECT_EQ(ws.NextRequest()->url, "http://m/t/d/b%20c");
  EXPECT_EQ(ws.NextRequest()->RangeHeader(), "Range: bytes=0-25535\r\n");
  EXPECT_EQ(ws.NextRequest()->run_offset, 40000 - kPiece);
  ASSERT_TRUE(ws.OnResponse(Serve(t, *ws.NextRequest())).ok());
  auto blocks = ws.TakeBlocks();
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].first, (BlockRef{1, 0}));
  EXPECT_EQ(blocks[0].second, t.Block(1, 0, kBlockSize));
  EXPECT_EQ(blocks[1].second, t.Block(1, kBlockSize, kBlockSize));
  EXPECT_FALSE(ws.busy());
}

TEST(WebSeedTest, RunSpansPiecesAndEndsWithTheShortLastPiece) {
  testing::TestTorrent t = TwoFiles();
  WebSeed ws = Make(t, "http://m/");
  std::vector<BlockRef> all = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 0}};
  EXPECT_TRUE(ws.Begin(all).empty());
  auto blocks = RunAll(t, ws);
  ASSERT_EQ(blocks.size(), 5u);
  EXPECT_EQ(blocks[4].first, (BlockRef{2, 0}));
  EXPECT_EQ(blocks[4].second.size(), 70000u - 2 * kPiece);
  std::string joined;
  for (const auto& [b, data] : blocks) joined += data;
  EXPECT_EQ(joined, t.content);
}

TEST(WebSeedTest, PadFilesAreZerosAndNeverRequested) {
  // Hybrid: "a", a pad to the piece boundary, then "b c".
  testing::TestTorrent t = TwoFiles(Version::kHybrid);
  ASSERT_TRUE(t.info->layout().file(1).pad());
  WebSeed ws = Make(t, "http://m/");
  EXPECT_TRUE(ws.Begin({{1, 0}, {1, 1}, {2, 0}, {2, 1}}).empty());
  std::vector<std::string> urls;
  while (const WebSeedRequest* r = ws.NextRequest()) {
    urls.push_back(absl::StrFormat("%s %d+%d", r->url, r->first, r->length));
    ASSERT_TRUE(ws.OnResponse(Serve(t, *r)).ok());
  }
  // Blocks of one file are one range.
  EXPECT_THAT(urls, ElementsAre("http://m/t/a 32768+7232",
                                "http://m/t/d/b%20c 0+30000"));
  auto blocks = ws.TakeBlocks();
  ASSERT_EQ(blocks.size(), 4u);
  // Piece 1 holds 7232 bytes of "a", then padding.
  EXPECT_EQ(blocks[0].second, t.Block(1, 0, kBlockSize));
  EXPECT_EQ(blocks[0].second.substr(40000 - kPiece),
            std::string(kBlockSize - (40000 - kPiece), '\0'));
  EXPECT_EQ(blocks[1].second, std::string(kBlockSize, '\0'));
  EXPECT_EQ(blocks[2].second, t.Block(2, 0, kBlockSize));
}

TEST(WebSeedTest, RunIsOneContiguousStretchWithinItsBound) {
  testing::TestTorrent t = TwoFiles();
  WebSeed ws = Make(t, "http://m/", {.max_run_bytes = 2 * kBlockSize});
  EXPECT_EQ(ws.MaxBlocks(), 2);
  // A gap after {0,0}: {1,0} is not next to it, and the bound stops {0,1}+.
  EXPECT_THAT(ws.Begin({{1, 0}, {0, 0}, {1, 1}}),
              ElementsAre(BlockRef{1, 0}, BlockRef{1, 1}));
  ws.Abandon();
  EXPECT_THAT(ws.Begin({{0, 0}, {0, 1}, {1, 0}}), ElementsAre(BlockRef{1, 0}));
}

TEST(WebSeedTest, BadResponsesAreErrorsNamingTheUrl) {
  testing::TestTorrent t = TwoFiles();
  WebSeed ws = Make(t, "http://m/");
  ws.Begin({{0, 0}});
  const WebSeedRequest r = *ws.NextRequest();
  tracker::HttpResponse good = Serve(t, r);

  tracker::HttpResponse missing;
  missing.status = 404;
  EXPECT_EQ(ws.OnResponse(missing).code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(ws.OnResponse(missing).message(), HasSubstr("http://m/t/a"));

  tracker::HttpResponse error = good;
  error.status = 503;
  EXPECT_EQ(ws.OnResponse(error).code(), absl::StatusCode::kUnavailable);

  tracker::HttpResponse shifted = good;
  shifted.headers = {{"content-range", "bytes 1-16384/40000"}};
  EXPECT_EQ(ws.OnResponse(shifted).code(), absl::StatusCode::kInvalidArgument);

  tracker::HttpResponse no_range = good;
  no_range.headers.clear();
  EXPECT_EQ(ws.OnResponse(no_range).code(), absl::StatusCode::kInvalidArgument);

  tracker::HttpResponse short_body = good;
  short_body.body.pop_back();
  EXPECT_THAT(ws.OnResponse(short_body).message(), HasSubstr("expected 16384"));

  tracker::HttpResponse whole = good;  // Range ignored: the whole file
  whole.status = 200;
  whole.body = Pattern(40000, 1);
  EXPECT_EQ(ws.OnResponse(whole).code(), absl::StatusCode::kInvalidArgument);

  EXPECT_FALSE(ws.RunComplete()) << "no bad answer was taken";
  EXPECT_TRUE(ws.OnResponse(good).ok());
  EXPECT_TRUE(ws.RunComplete());
}

// RFC 9110 Content-Range numbers are plain digits: a sign, blanks inside
// or a negative total (which would skip the total's check) are refused.
TEST(WebSeedTest, ContentRangeNumbersArePlainDigits) {
  testing::TestTorrent t = TwoFiles();
  WebSeed ws = Make(t, "http://m/");
  ws.Begin({{0, 0}});
  tracker::HttpResponse resp = Serve(t, *ws.NextRequest());
  for (const char* range :
       {"bytes +0-16383/40000", "bytes 0-16383/-1", "bytes 0 -16383/40000",
        "bytes 0-+16383/40000", "bytes 0-16383/ 40000", "bytes 0-16383/"}) {
    resp.headers = {{"content-range", range}};
    EXPECT_EQ(ws.OnResponse(resp).code(), absl::StatusCode::kInvalidArgument)
        << range;
  }
  resp.headers = {{"content-range", " bytes 00-16383/040000 "}};
  EXPECT_TRUE(ws.OnResponse(resp).ok());
}

TEST(WebSeedTest, PlainOkIsTakenWhenTheWholeFileWasAsked) {
  testing::TestTorrent t = testing::MakeSingleFile(20000);
  WebSeed ws = Make(t, "http://m/f");
  ws.Begin({{0, 0}, {0, 1}});
  tracker::HttpResponse whole;
  whole.status = 200;
  whole.body = t.content;
  ASSERT_TRUE(ws.OnResponse(whole).ok());
  auto blocks = ws.TakeBlocks();
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].second + blocks[1].second, t.content);
}

TEST(WebSeedTest, FailuresBackOffExponentiallyAndSuccessResets) {
  testing::TestTorrent t = TwoFiles();
  WebSeed ws = Make(
      t, "http://m/",
      {.initial_backoff = absl::Seconds(2), .max_backoff = absl::Seconds(10)});
  absl::Time now = absl::UnixEpoch();
  for (int wait : {2, 4, 8, 10, 10}) {
    ASSERT_TRUE(ws.Ready(now));
    ws.Begin({{0, 0}, {0, 1}});
    EXPECT_FALSE(ws.Ready(now)) << "busy";
    EXPECT_THAT(ws.Fail(now), ElementsAre(BlockRef{0, 0}, BlockRef{0, 1}));
    EXPECT_FALSE(ws.Ready(now + absl::Seconds(wait) - absl::Milliseconds(1)));
    now += absl::Seconds(wait);
  }
  EXPECT_EQ(ws.failures(), 5);
  ASSERT_TRUE(ws.Ready(now));
  ws.Begin({{0, 0}});
  RunAll(t, ws);
  EXPECT_EQ(ws.failures(), 0);
  EXPECT_TRUE(ws.Ready(now));
}

TEST(WebSeedTest, DroppedSeedGivesBackItsRunAndIsNeverReadyAgain) {
  testing::TestTorrent t = TwoFiles();
  WebSeed ws = Make(t, "http://m/");
  ws.Begin({{0, 0}});
  EXPECT_THAT(ws.Drop("bad data"), ElementsAre(BlockRef{0, 0}));
  EXPECT_TRUE(ws.dropped());
  EXPECT_EQ(ws.drop_reason(), "bad data");
  EXPECT_FALSE(ws.Ready(absl::InfiniteFuture()));
}

TEST(WebSeedTest, BlameFallsOnTheWebSeedThatSentTheWholePiece) {
  const Endpoint a = WebSeedConnection::BlameAddress(uint64_t{1} << 62);
  const Endpoint b = WebSeedConnection::BlameAddress((uint64_t{1} << 62) + 1);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.port(), 0);
  PieceVerifier v;
  v.OnBlock(3, 0, 2, b);
  v.OnBlock(3, 1, 2, b);
  std::vector<Sha1Hash> hashes(2);
  EXPECT_THAT(v.OnVerified(3, /*passed=*/false, hashes), ElementsAre(b));
}

}  // namespace
}  // namespace bt::client
