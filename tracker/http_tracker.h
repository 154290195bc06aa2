// HTTP(S) tracker protocol (BEP 3, 7, 23, 24, 48) as pure functions: build
// the announce/scrape URL, parse the bencoded body of the reply. No I/O:
// client/ fetches the URL (http_fetch.h there) and hands the body here.
//
//   std::string url = bt::tracker::BuildHttpAnnounceUrl(
//       "http://tracker.example/announce", request);
//   ... GET url ...
//   ASSIGN_OR_RETURN(bt::tracker::AnnounceResponse r,
//                    bt::tracker::ParseHttpAnnounceResponse(body));
//   if (r.failure_reason) ...;   // the tracker said no
#ifndef TRACKER_HTTP_TRACKER_H_
#define TRACKER_HTTP_TRACKER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/hash.h"
#include "tracker/announce.h"

namespace bt::tracker {

// BuildHttpAnnounceUrl appends the announce parameters to `announce_url`
// (which may already carry a query): info_hash, peer_id (binary,
// percent-encoded), port, uploaded, downloaded, left, compact=1 (when
// requested), event (unless kNone), numwant, key (8 hex digits), trackerid,
// ip, ipv6, no_peer_id=1 (when requested).
std::string BuildHttpAnnounceUrl(std::string_view announce_url,
                                 const AnnounceRequest& request);

// BuildHttpScrapeUrl appends one info_hash parameter per hash to
// `scrape_url` (see ScrapeUrlFromAnnounce in tracker_url.h).
std::string BuildHttpScrapeUrl(std::string_view scrape_url,
                               absl::Span<const Sha1Hash> info_hashes);

struct HttpTrackerParseOptions {
  // Replies with more peers than this are refused (kResourceExhausted).
  size_t max_peers = 10000;
  // Scrape replies with more files than this are refused.
  size_t max_scrape_files = 10000;
  // Bodies longer than this are refused (kResourceExhausted).
  size_t max_body_size = size_t{4} << 20;
};

// ParseHttpAnnounceResponse decodes an announce reply body. A "failure
// reason" is not an error: it comes back in `failure_reason`. Errors:
// kInvalidArgument when the body is not a bencoded dictionary or a field
// has the wrong type or an impossible value (the message names the field
// and byte offset); kResourceExhausted for a limit in `options`.
// Dictionary-form peers given by host name are skipped and counted.
absl::StatusOr<AnnounceResponse> ParseHttpAnnounceResponse(
    std::string_view body, const HttpTrackerParseOptions& options = {});

// ParseHttpScrapeResponse decodes a scrape reply body ("files" keyed by the
// 20-byte info-hash). Errors as for ParseHttpAnnounceResponse.
absl::StatusOr<ScrapeResponse> ParseHttpScrapeResponse(
    std::string_view body, const HttpTrackerParseOptions& options = {});

}  // namespace bt::tracker

#endif  // TRACKER_HTTP_TRACKER_H_
