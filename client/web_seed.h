// WebSeed: one BEP 19 web seed (a `url-list` URL) as a state machine,
// sans-I/O. It turns a run of blocks the picker gave it into HTTP Range
// requests (one per file the run crosses; pad files are zeros and never
// requested), checks each response (status, Content-Range, exact length),
// assembles the run and splits it back into blocks. A failing server backs
// off exponentially and is retried; a server blamed for a bad piece is
// dropped for good. Time is passed in; the adapter (web_seed_connection.h)
// does the HTTP.
//
//   ASSIGN_OR_RETURN(bt::client::WebSeed ws,
//                    bt::client::WebSeed::Create("http://m/pub/", info));
//   if (ws.Ready(now)) {
//     std::vector<BlockRef> unused = ws.Begin(picked_blocks);
//     while (const WebSeedRequest* r = ws.NextRequest()) {
//       ... GET r->url with "Range: " + r->RangeHeader() ...
//       if (!ws.OnResponse(response).ok()) { giveback(ws.Fail(now)); break; }
//     }
//     if (ws.RunComplete()) for (auto& [block, data] : ws.TakeBlocks()) ...
//   }
#ifndef CLIENT_WEB_SEED_H_
#define CLIENT_WEB_SEED_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/session/block_ref.h"
#include "metainfo/torrent_info.h"
#include "tracker/http_response.h"

namespace bt::client {

// WebSeedRequest is one HTTP GET of a run: bytes [first, first + length)
// of the file at `url`, landing at `run_offset` in the run.
struct WebSeedRequest {
  std::string url;
  int64_t first = 0;
  int64_t length = 0;
  int64_t file_size = 0;
  int64_t run_offset = 0;

  // RangeHeader is the "Range" header line, CRLF included.
  std::string RangeHeader() const;
};

struct WebSeedOptions {
  // Back-off after consecutive failures: initial, doubled each time, capped.
  absl::Duration initial_backoff = absl::Seconds(2);
  absl::Duration max_backoff = absl::Minutes(5);
  // max_run_bytes bounds one run (the memory a web seed holds).
  int64_t max_run_bytes = int64_t{4} << 20;
};

class WebSeed {
 public:
  // Create checks `url` (http or https, parsed as tracker/tracker_url.h
  // does) against `info`, which must outlive the WebSeed. kInvalidArgument
  // naming the URL otherwise.
  static absl::StatusOr<WebSeed> Create(std::string url,
                                        const metainfo::TorrentInfo& info,
                                        WebSeedOptions options = {});

  const std::string& url() const { return url_; }
  // FileUrl is the URL of layout file `file`: BEP 19's base URL + name +
  // path (each component percent-encoded) when the URL ends in '/' or the
  // torrent has several files, else the URL itself.
  std::string FileUrl(size_t file) const;

  // MaxBlocks is how many blocks to ask the picker for at a time: a
  // piece's worth, within max_run_bytes.
  int MaxBlocks() const;
  // Ready: not dropped, no run in progress, and any back-off is over.
  bool Ready(absl::Time now) const;
  bool busy() const { return !run_.empty(); }
  bool dropped() const { return dropped_; }
  const std::string& drop_reason() const { return drop_reason_; }
  int failures() const { return failures_; }
  absl::Time retry_at() const { return retry_at_; }

  // Begin starts a run with the longest contiguous stretch of `blocks`
  // (sorted first) within max_run_bytes and returns the blocks it does not
  // take, which the caller gives back to the picker. Requires Ready().
  std::vector<BlockRef> Begin(std::vector<BlockRef> blocks);
  // NextRequest is the request to send next in the run; null when every
  // request has been answered (or there is no run). Valid until the next
  // call of a non-const method.
  const WebSeedRequest* NextRequest() const;
  // OnResponse takes the answer to NextRequest(): a 206 whose
  // Content-Range matches, or a 200 when the request covers the whole file,
  // with exactly the asked length. Errors name the URL: kNotFound (404),
  // kUnavailable (other statuses), kInvalidArgument (wrong range or
  // length). After an error the caller must call Fail().
  absl::Status OnResponse(const tracker::HttpResponse& response);
  // Fail ends the run after an error and backs off (2 s, 4 s, ... up to
  // max_backoff, from `now`); returns the run's blocks for the picker.
  std::vector<BlockRef> Fail(absl::Time now);
  // RunComplete: every request of the run was answered.
  bool RunComplete() const;
  // TakeBlocks ends a complete run and returns its blocks with their data;
  // a success clears the back-off.
  std::vector<std::pair<BlockRef, std::string>> TakeBlocks();
  // Abandon ends a run in progress without blame or back-off (the torrent
  // paused or stopped); returns its blocks.
  std::vector<BlockRef> Abandon();
  // Drop stops using this server for good (it sent data that failed a
  // hash check); returns the blocks of a run in progress.
  std::vector<BlockRef> Drop(std::string reason);

 private:
  WebSeed(std::string url, const metainfo::TorrentInfo& info,
          WebSeedOptions options)
      : url_(std::move(url)), info_(&info), options_(options) {}
  uint32_t BlockLength(BlockRef b) const;
  // PlanRequests maps the run onto file requests.
  void PlanRequests();
  // EndRun forgets the run and returns its blocks.
  std::vector<BlockRef> EndRun();

  std::string url_;
  const metainfo::TorrentInfo* info_;
  WebSeedOptions options_;
  bool dropped_ = false;
  std::string drop_reason_;
  int failures_ = 0;
  absl::Time retry_at_ = absl::InfinitePast();

  std::vector<BlockRef> run_;
  std::string data_;  // the run's bytes, pad bytes zero
  std::vector<WebSeedRequest> requests_;
  size_t next_request_ = 0;
};

}  // namespace bt::client

#endif  // CLIENT_WEB_SEED_H_
