// Fuzz target for the BEP 19 web seed state machine (client/web_seed.h):
// runs of blocks of a single-file or a multi-file torrent (with pad files)
// are answered with fuzzed responses, either raw HTTP through the response
// parser or a chosen status, Content-Range and body length. Whatever the
// answers, every request stays inside its file and its run, a response is
// only taken when it is a 200/206 of exactly the asked length whose
// Content-Range is plain digits, and a completed run hands back each block
// at its length; failures back off within the bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "bencode/encoder.h"
#include "client/web_seed.h"
#include "metainfo/torrent_info.h"
#include "tests/metainfo/test_torrents.h"
#include "tracker/http_response.h"

namespace {

using bt::client::BlockRef;
using bt::client::WebSeed;
using bt::client::WebSeedRequest;

constexpr int64_t kPiece = 32 * 1024;

void Check(bool ok) {
  if (!ok) std::abort();
}

bt::metainfo::TorrentInfo Parse(const bt::bencode::Value& v) {
  auto t = bt::metainfo::TorrentInfo::Parse(bt::bencode::Encode(v));
  Check(t.ok());
  return *std::move(t);
}

// Torrents: a single file, and three files with pad files between them.
struct Torrents {
  Torrents() {
    using bt::metainfo::testing::MakeTorrent;
    using bt::metainfo::testing::Pattern;
    using bt::metainfo::testing::Version;
    single = Parse(MakeTorrent("f", {{{"f"}, Pattern(70000, 1), ""}}, kPiece,
                               Version::kV1, true));
    multi = Parse(MakeTorrent("t",
                              {{{"a"}, Pattern(40000, 1), ""},
                               {{"d", "b c"}, Pattern(5, 2), ""},
                               {{"e"}, Pattern(30000, 3), ""}},
                              kPiece, Version::kHybrid));
  }
  bt::metainfo::TorrentInfo single;
  bt::metainfo::TorrentInfo multi;
};

// Input reads the fuzz bytes front to back; zeros once they run out.
class Input {
 public:
  explicit Input(std::string_view in) : in_(in) {}
  bool empty() const { return in_.empty(); }
  uint8_t Byte() {
    if (in_.empty()) return 0;
    uint8_t b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return b;
  }
  uint16_t Short() { return static_cast<uint16_t>(Byte() << 8 | Byte()); }
  // Chunk: up to a length-prefixed run of bytes.
  std::string_view Chunk() {
    size_t n = std::min<size_t>(Short(), in_.size());
    std::string_view c = in_.substr(0, n);
    in_.remove_prefix(n);
    return c;
  }

 private:
  std::string_view in_;
};

// PlainContentRange: "bytes " then only digits, '-', '/' and '*', with
// one '-' before one '/' (RFC 9110: "bytes FIRST-LAST/TOTAL", TOTAL may be
// '*').
bool PlainContentRange(std::string_view value) {
  absl::string_view v =
      absl::StripAsciiWhitespace(absl::string_view(value.data(), value.size()));
  if (!absl::ConsumePrefix(&v, "bytes ")) return false;
  for (char c : v) {
    if (!absl::ascii_isdigit(c) && c != '-' && c != '/' && c != '*') {
      return false;
    }
  }
  const size_t dash = v.find('-'), slash = v.find('/');
  return dash != v.npos && slash != v.npos && dash < slash &&
         v.rfind('-') == dash && v.rfind('/') == slash;
}

// Answer builds the response to `r` the input asks for: raw HTTP, or a
// status, Content-Range text and a body near the asked length.
bool Answer(Input& in, const WebSeedRequest& r,
            bt::tracker::HttpResponse* out) {
  const uint8_t mode = in.Byte();
  if (mode & 1) {
    bt::tracker::HttpResponseLimits limits;
    limits.max_body_bytes = 256 << 10;
    bt::tracker::HttpResponseParser parser(limits);
    if (!parser.Feed(in.Chunk()).ok() || !parser.FinishAtEof().ok()) {
      return false;
    }
    *out = parser.response();
    return true;
  }
  static constexpr int kStatuses[] = {206, 200, 404, 500, 206, 301, 416, 0};
  out->status = kStatuses[(mode >> 1) % 8];
  if (mode & 0x10) {
    out->headers.emplace_back("content-range", std::string(in.Chunk()));
  }
  const int delta = static_cast<int8_t>(in.Byte());
  const int64_t length = (mode & 0x20) ? r.length : r.length + delta;
  out->body.assign(static_cast<size_t>(std::clamp<int64_t>(length, 0, 1 << 20)),
                   'x');
  return true;
}

void CheckRequest(const WebSeedRequest& r, int64_t run_bytes) {
  Check(r.first >= 0 && r.length > 0 && r.first + r.length <= r.file_size);
  Check(r.run_offset >= 0 && r.run_offset + r.length <= run_bytes);
}

// Run starts a run at a piece the input picks and answers its requests.
void Run(Input& in, const bt::metainfo::TorrentInfo& info, WebSeed& ws,
         absl::Time now) {
  const uint32_t first = in.Byte() % info.num_pieces();
  std::vector<BlockRef> asked;
  int64_t run_bytes = 0;
  for (uint32_t p = first; p < info.num_pieces() && asked.size() < 4; ++p) {
    const int64_t size = info.layout().PieceSize(p);
    for (uint32_t b = 0; int64_t{b} * bt::client::kBlockSize < size; ++b) {
      asked.push_back({p, b});
      run_bytes += bt::client::BlockLengthIn({p, b}, size);
    }
  }
  std::vector<BlockRef> rest = ws.Begin(asked);
  Check(rest.empty());  // contiguous and within max_run_bytes
  while (const WebSeedRequest* r = ws.NextRequest()) {
    CheckRequest(*r, run_bytes);
    const int64_t length = r->length;
    bt::tracker::HttpResponse resp;
    const bool parsed = Answer(in, *r, &resp);
    const bool ok = parsed && ws.OnResponse(resp).ok();
    if (!ok) {
      const int failures = ws.failures();
      Check(ws.Fail(now).size() == asked.size());
      Check(ws.failures() == failures + 1 && !ws.busy());
      Check(ws.retry_at() > now && ws.retry_at() <= now + absl::Minutes(5));
      return;
    }
    Check(resp.status == 200 || resp.status == 206);
    Check(static_cast<int64_t>(resp.body.size()) == length);
    if (resp.status == 206) {
      Check(PlainContentRange(*resp.Header("content-range")));
    }
    if (in.empty() && ws.NextRequest() != nullptr) {
      Check(ws.Abandon().size() == asked.size());
      return;
    }
  }
  Check(ws.RunComplete());
  std::vector<std::pair<BlockRef, std::string>> blocks = ws.TakeBlocks();
  Check(blocks.size() == asked.size());
  for (const auto& [b, data] : blocks) {
    Check(data.size() ==
          bt::client::BlockLengthIn(b, info.layout().PieceSize(b.piece)));
  }
  Check(ws.failures() == 0 && !ws.busy());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Torrents* torrents = new Torrents();
  Input in(std::string_view(reinterpret_cast<const char*>(data), size));
  const uint8_t pick = in.Byte();
  const bt::metainfo::TorrentInfo& info =
      (pick & 1) ? torrents->multi : torrents->single;
  auto ws = WebSeed::Create((pick & 2) ? "http://m/pub/" : "http://m/f", info);
  Check(ws.ok());
  absl::Time now = absl::UnixEpoch();
  for (int runs = 0; runs < 8 && !in.empty(); ++runs) {
    if (!ws->Ready(now)) now = ws->retry_at();
    Check(ws->Ready(now));
    Run(in, info, *ws, now);
  }
  return 0;
}
