// HTTP/1.1 for trackers, sans I/O: BuildHttpGetRequest writes the request
// bytes, HttpResponseParser reads a response incrementally from whatever
// the socket delivers (status line, headers, a body framed by chunked
// encoding, Content-Length, or the end of the connection), with hard caps
// on header and body size.
//
//   std::string req = bt::tracker::BuildHttpGetRequest(url, "btkit/0.1");
//   bt::tracker::HttpResponseParser parser;
//   while (!parser.done()) {
//     n = read(...);
//     if (n == 0) { RETURN_IF_ERROR(parser.FinishAtEof()); break; }
//     RETURN_IF_ERROR(parser.Feed(std::string_view(buf, n)));
//   }
//   const bt::tracker::HttpResponse& r = parser.response();
//   if (r.IsRedirect()) ... r.Header("location") ...
#ifndef TRACKER_HTTP_RESPONSE_H_
#define TRACKER_HTTP_RESPONSE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "tracker/tracker_url.h"

namespace bt::tracker {

// BuildHttpGetRequest returns "GET <path_query> HTTP/1.1" with Host,
// User-Agent, "Accept-Encoding: identity" and "Connection: close", then
// `extra_headers` as given (whole lines, each ending in CRLF, e.g.
// "Range: bytes=0-99\r\n").
std::string BuildHttpGetRequest(const TrackerUrl& url,
                                std::string_view user_agent,
                                std::string_view extra_headers = "");

struct HttpResponse {
  int status = 0;        // e.g. 200
  std::string reason;    // e.g. "OK"
  // headers: names lower-cased, values with surrounding blanks trimmed, in
  // the order received.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;      // de-chunked

  // Header returns the first value of header `lower_case_name`.
  std::optional<std::string_view> Header(std::string_view lower_case_name) const;
  // IsRedirect is true for 301, 302, 303, 307 and 308.
  bool IsRedirect() const;
};

struct HttpResponseLimits {
  size_t max_header_bytes = 16 << 10;  // status line + headers
  size_t max_headers = 64;
  size_t max_body_bytes = 2 << 20;     // after de-chunking
};

class HttpResponseParser {
 public:
  explicit HttpResponseParser(HttpResponseLimits limits = {})
      : limits_(limits) {}

  // Feed consumes the next bytes of the response. Once an error is
  // returned, every later call returns it again. Errors: kInvalidArgument
  // for malformed HTTP (bad status line, bad header, bad chunk size,
  // conflicting lengths; the message gives the byte offset in the stream),
  // kResourceExhausted when a limit is exceeded. Bytes after a complete
  // response are ignored.
  absl::Status Feed(std::string_view data);

  // FinishAtEof tells the parser the peer closed the connection. OK when
  // the response is complete (a body without length ends here); otherwise
  // kInvalidArgument "truncated" naming what was missing.
  absl::Status FinishAtEof();

  bool done() const { return state_ == State::kDone; }
  // response is valid once done().
  const HttpResponse& response() const { return response_; }
  // bytes_consumed counts the bytes fed so far.
  size_t bytes_consumed() const { return consumed_; }

 private:
  enum class State {
    kStatusLine,
    kHeaders,
    kBodyLength,
    kBodyUntilEof,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kDone,
    kError,
  };

  absl::Status Fail(absl::Status s);
  absl::Status ParseStatusLine(std::string_view line);
  absl::Status ParseHeaderLine(std::string_view line);
  absl::Status StartBody();
  absl::Status AppendBody(std::string_view data);
  // TakeLine extracts one CRLF- (or LF-) terminated line from pending_.
  // Returns false when no full line is buffered yet.
  bool TakeLine(std::string* line);

  HttpResponseLimits limits_;
  State state_ = State::kStatusLine;
  HttpResponse response_;
  absl::Status error_;
  std::string pending_;      // unparsed bytes
  size_t pending_offset_ = 0;  // stream offset of pending_[0]
  size_t consumed_ = 0;
  size_t header_bytes_ = 0;
  uint64_t remaining_ = 0;   // body or chunk bytes still expected
};

}  // namespace bt::tracker

#endif  // TRACKER_HTTP_RESPONSE_H_
