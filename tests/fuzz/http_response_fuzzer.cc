// Feeds arbitrary bytes to the HTTP/1.1 response parser (whole and split at
// a data-chosen point) and the body to the tracker reply parsers.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tracker/http_response.h"
#include "tracker/http_tracker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t split = size > 0 ? data[0] % (size + 1) : 0;

  bt::tracker::HttpResponseLimits limits;
  limits.max_body_bytes = 64 << 10;
  limits.max_header_bytes = 4 << 10;
  bt::tracker::HttpResponseParser whole(limits);
  absl::Status a = whole.Feed(in);
  if (a.ok()) a = whole.FinishAtEof();

  bt::tracker::HttpResponseParser parts(limits);
  absl::Status b = parts.Feed(in.substr(0, split));
  if (b.ok()) b = parts.Feed(in.substr(split));
  if (b.ok()) b = parts.FinishAtEof();

  // Splitting must not change the outcome.
  if (a.ok() != b.ok()) __builtin_trap();
  if (a.ok() && whole.response().body != parts.response().body) __builtin_trap();

  std::string_view body = a.ok() ? std::string_view(whole.response().body) : in;
  (void)bt::tracker::ParseHttpAnnounceResponse(body);
  (void)bt::tracker::ParseHttpScrapeResponse(body);
  return 0;
}
