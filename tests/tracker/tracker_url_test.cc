#include "tracker/tracker_url.h"

#include "gtest/gtest.h"

namespace bt::tracker {
namespace {

TEST(TrackerUrlTest, ParsesSchemesHostsPorts) {
  absl::StatusOr<TrackerUrl> u = TrackerUrl::Parse("HTTP://Tracker.Example/announce?x=1");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, TrackerUrl::Scheme::kHttp);
  EXPECT_EQ(u->host, "tracker.example");
  EXPECT_EQ(u->port, 80);
  EXPECT_FALSE(u->explicit_port);
  EXPECT_EQ(u->path_query, "/announce?x=1");
  EXPECT_EQ(u->HostHeader(), "tracker.example");
  EXPECT_EQ(u->ToString(), "http://tracker.example/announce?x=1");

  u = TrackerUrl::Parse("https://t.example:8443");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->path_query, "/");
  EXPECT_EQ(u->HostHeader(), "t.example:8443");

  u = TrackerUrl::Parse("udp://[::1]:6969/announce#frag");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->is_udp());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 6969);
  EXPECT_EQ(u->path_query, "/announce");
  EXPECT_EQ(u->ToString(), "udp://[::1]:6969/announce");

  u = TrackerUrl::Parse("http://127.0.0.1:6969?info=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->path_query, "/?info=1");
}

TEST(TrackerUrlTest, RejectsBadUrls) {
  for (const char* bad :
       {"", "tracker.example/announce", "ftp://t/announce", "udp://t/announce",
        "http://", "http:///x", "http://t:0/", "http://t:65536/", "http://t:x/",
        "http://u:p@t/", "http://t /a", "http://t/a b", "http://[::1/",
        "http://[zz]/", "http://t\x01/", "udp://t:", "http://t:/a",
        "http://ex%41mple/"}) {
    absl::StatusOr<TrackerUrl> u = TrackerUrl::Parse(bad);
    EXPECT_FALSE(u.ok()) << bad;
    if (!u.ok()) EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(TrackerUrl::Parse("http://t/" + std::string(5000, 'a')).ok());
}

TEST(TrackerUrlTest, UrlEncodeKeepsOnlyUnreserved) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string enc = UrlEncode(all);
  // 66 unreserved characters stay, 190 become %XX.
  EXPECT_EQ(enc.size(), 66u + 190u * 3u);
  EXPECT_EQ(UrlEncode(std::string_view("\x12\x34\x56\x78\x9a\xbc\xde\xf1 a-Z~.")),
            "%124Vx%9A%BC%DE%F1%20a-Z~.");
}

TEST(TrackerUrlTest, AppendQueryChoosesSeparator) {
  std::string u = "http://t/a";
  AppendQuery(&u, "k", "v");
  AppendQuery(&u, "x", "y");
  EXPECT_EQ(u, "http://t/a?k=v&x=y");
  u = "http://t/a?";
  AppendQuery(&u, "k", "v");
  EXPECT_EQ(u, "http://t/a?k=v");
  u = "http://t/a?p=1&";
  AppendQuery(&u, "k", "v");
  EXPECT_EQ(u, "http://t/a?p=1&k=v");
}

TEST(TrackerUrlTest, ScrapeUrlFollowsBep48Rule) {
  struct Case {
    const char* announce;
    const char* scrape;  // nullptr: no scrape URL
  } cases[] = {
      {"http://example.com/announce", "http://example.com/scrape"},
      {"http://example.com/x/announce", "http://example.com/x/scrape"},
      {"http://example.com/announce.php", "http://example.com/scrape.php"},
      {"http://example.com/a/announce?x2%0644", "http://example.com/a/scrape?x2%0644"},
      {"https://example.com:8443/announce?k=announce", "https://example.com:8443/scrape?k=announce"},
      {"http://example.com/announce/x", nullptr},
      {"http://example.com/a", nullptr},
      {"http://example.com/x%064announce", nullptr},
      {"http://example.com/", nullptr},
      {"http://example.com", nullptr},
      {"http://example.com?announce", nullptr},
      {"udp://example.com:80/announce", "udp://example.com:80/announce"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> s = ScrapeUrlFromAnnounce(c.announce);
    if (c.scrape) {
      ASSERT_TRUE(s.ok()) << c.announce << ": " << s.status();
      EXPECT_EQ(*s, c.scrape);
    } else {
      EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound) << c.announce;
    }
  }
  EXPECT_EQ(ScrapeUrlFromAnnounce("nonsense").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TrackerUrlTest, ResolveRedirect) {
  TrackerUrl base = *TrackerUrl::Parse("http://t.example:8080/dir/announce?a=1");
  EXPECT_EQ(*ResolveRedirect(base, "https://other/x"), "https://other/x");
  EXPECT_EQ(*ResolveRedirect(base, "//other2/y"), "http://other2/y");
  EXPECT_EQ(*ResolveRedirect(base, "/new?b=2"), "http://t.example:8080/new?b=2");
  EXPECT_EQ(*ResolveRedirect(base, "rel?c=3"), "http://t.example:8080/dir/rel?c=3");
  EXPECT_FALSE(ResolveRedirect(base, "udp://t:1/").ok());
  EXPECT_FALSE(ResolveRedirect(base, "ftp://t/").ok());
  EXPECT_FALSE(ResolveRedirect(base, "http://bad host/").ok());
}

}  // namespace
}  // namespace bt::tracker
