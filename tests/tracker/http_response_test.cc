#include "tracker/http_response.h"

#include <string>

#include "gtest/gtest.h"

namespace bt::tracker {
namespace {

// FeedAll feeds `data` in pieces of `step` bytes, then EOF if `eof`.
absl::Status FeedAll(HttpResponseParser& p, std::string_view data, size_t step,
                     bool eof = true) {
  for (size_t i = 0; i < data.size(); i += step) {
    absl::Status s = p.Feed(data.substr(i, step));
    if (!s.ok()) return s;
  }
  return eof ? p.FinishAtEof() : absl::OkStatus();
}

TEST(HttpResponseTest, BuildsGetRequest) {
  TrackerUrl u = *TrackerUrl::Parse("http://t.example:6969/announce?a=%01");
  EXPECT_EQ(BuildHttpGetRequest(u, "btkit/0.1"),
            "GET /announce?a=%01 HTTP/1.1\r\nHost: t.example:6969\r\n"
            "User-Agent: btkit/0.1\r\nAccept-Encoding: identity\r\n"
            "Connection: close\r\n\r\n");
  u = *TrackerUrl::Parse("https://[::1]/x");
  EXPECT_NE(BuildHttpGetRequest(u, "b").find("Host: [::1]\r\n"), std::string::npos);
}

TEST(HttpResponseTest, ContentLengthInEverySplit) {
  const std::string resp =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
      "X-Empty:\r\n\r\nhello world";
  for (size_t step = 1; step <= resp.size(); ++step) {
    HttpResponseParser p;
    ASSERT_TRUE(FeedAll(p, resp, step, /*eof=*/false).ok()) << step;
    ASSERT_TRUE(p.done()) << step;
    EXPECT_EQ(p.response().status, 200);
    EXPECT_EQ(p.response().reason, "OK");
    EXPECT_EQ(p.response().body, "hello world");
    EXPECT_EQ(p.response().Header("content-type"), "text/plain");
    EXPECT_EQ(p.response().Header("x-empty"), "");
    EXPECT_FALSE(p.response().Header("nope"));
  }
}

TEST(HttpResponseTest, ChunkedInEverySplit) {
  const std::string resp =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n";
  for (size_t step = 1; step <= resp.size(); ++step) {
    HttpResponseParser p;
    ASSERT_TRUE(FeedAll(p, resp, step, false).ok()) << step;
    ASSERT_TRUE(p.done()) << step;
    EXPECT_EQ(p.response().body, "hello 0123456789");
  }
}

TEST(HttpResponseTest, BodyUntilEofAndLfOnlyLines) {
  HttpResponseParser p;
  ASSERT_TRUE(p.Feed("HTTP/1.0 200 OK\nServer: x\n\nbody").ok());
  EXPECT_FALSE(p.done());
  ASSERT_TRUE(p.Feed(" more").ok());
  ASSERT_TRUE(p.FinishAtEof().ok());
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.response().body, "body more");
}

TEST(HttpResponseTest, NoBodyStatusesAndInterimResponses) {
  HttpResponseParser p;
  ASSERT_TRUE(p.Feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n").ok());
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.response().status, 204);
}

TEST(HttpResponseTest, RedirectExposesLocation) {
  HttpResponseParser p;
  ASSERT_TRUE(p.Feed("HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n"
                     "Content-Length: 0\r\n\r\n")
                  .ok());
  ASSERT_TRUE(p.done());
  EXPECT_TRUE(p.response().IsRedirect());
  EXPECT_EQ(p.response().Header("location"), "/elsewhere");
}

TEST(HttpResponseTest, IgnoresBytesAfterCompleteResponse) {
  HttpResponseParser p;
  ASSERT_TRUE(p.Feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabEXTRA").ok());
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.response().body, "ab");
  EXPECT_TRUE(p.Feed("more").ok());
  EXPECT_EQ(p.response().body, "ab");
}

TEST(HttpResponseTest, RejectsMalformed) {
  struct Case {
    std::string data;
    const char* expect;
  } cases[] = {
      {"HTTP/2 200 OK\r\n\r\n", "status line"},
      {"HTTP/1.1 20 OK\r\n\r\n", "status line"},
      {"HTTP/1.1 200OK\r\n\r\n", "status line"},
      {"HTTP/1.1 099 X\r\n\r\n", "status code"},
      {"garbage\r\n\r\n", "status line"},
      {"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "bad header"},
      {"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "bad header"},
      {"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", "folded"},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "conflicting"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "Transfer-Encoding"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", "chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", "CRLF after chunk"},
  };
  for (const Case& c : cases) {
    HttpResponseParser p;
    absl::Status s = FeedAll(p, c.data, c.data.size(), /*eof=*/false);
    ASSERT_FALSE(s.ok()) << c.data;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << c.data << " -> " << s;
    EXPECT_EQ(p.Feed("x"), s);  // sticky
  }
}

TEST(HttpResponseTest, TruncationIsAnErrorAtEveryPrefix) {
  const std::string resps[] = {
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  };
  for (const std::string& resp : resps) {
    for (size_t n = 0; n < resp.size(); ++n) {
      HttpResponseParser p;
      absl::Status s = FeedAll(p, resp.substr(0, n), 7, /*eof=*/true);
      EXPECT_FALSE(s.ok()) << n;
      EXPECT_NE(s.message().find("truncated"), std::string::npos) << s;
    }
  }
}

TEST(HttpResponseTest, LimitsAreEnforced) {
  HttpResponseLimits limits;
  limits.max_body_bytes = 10;
  limits.max_header_bytes = 100;
  limits.max_headers = 3;
  {
    HttpResponseParser p(limits);
    absl::Status s = p.Feed("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n");
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  }
  {
    HttpResponseParser p(limits);
    EXPECT_TRUE(p.Feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789").ok());
    EXPECT_TRUE(p.done());
  }
  {
    HttpResponseParser p(limits);
    ASSERT_TRUE(p.Feed("HTTP/1.1 200 OK\r\n\r\n0123456789").ok());
    EXPECT_EQ(p.Feed("x").code(), absl::StatusCode::kResourceExhausted);
  }
  {
    HttpResponseParser p(limits);
    absl::Status s = FeedAll(
        p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n", 3,
        false);
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  }
  {
    HttpResponseParser p(limits);
    absl::Status s = p.Feed("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  }
  {
    // A header line that never ends is stopped at the cap, not buffered.
    HttpResponseParser p(limits);
    ASSERT_TRUE(p.Feed("HTTP/1.1 200 OK\r\nX: ").ok());
    absl::Status s;
    for (int i = 0; i < 100 && s.ok(); ++i) s = p.Feed("aaaaaaaaaa");
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  }
}

}  // namespace
}  // namespace bt::tracker
