// Times the tracker layer's parsers and builders and prints each beside a
// reference from the same run, with the ratio:
//   - announce: HTTP announce bodies (compact peers 50 and 200, a
//     dictionary-form list of 50 with peer ids, peers6 of 50);
//   - scrape: HTTP scrape bodies for 1 and 100 info-hashes;
//   - http: HttpResponseParser framing a whole tracker reply (headers and a
//     Content-Length body of 200 compact peers);
//   - udp-parse / udp-build: BEP 15 packets both ways (connect, announce,
//     scrape, error);
//   - url: the HTTP announce URL (percent-encoded info-hash and peer id)
//     and a scrape URL of 100 info-hashes.
// libtorrent's tracker response parser and URL escaping are not exported
// by libtorrent-rasterbar (checked with nm -DC), so the references are
// floors: `memcpy` copies the input (for builders: the output) once, and
// for bencoded bodies `lt_bdecode` is libtorrent's bdecode of the same
// bytes, the first step of its own parser (btkit's rows also pull every
// field out and build the peer list).
//
//   bazel run //benchmarks/tracker:tracker_benchmark -- --benchmark_min_time=0.2
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "bencode/encoder.h"
#include "benchmark/benchmark.h"
#include "benchmarks/common/ratio_reporter.h"
#include "libtorrent/bdecode.hpp"
#include "tracker/announce.h"
#include "tracker/http_response.h"
#include "tracker/http_tracker.h"
#include "tracker/udp_tracker.h"

namespace {

using bt::bencode::Value;
namespace tr = bt::tracker;

// Keep stores an input for the whole run (registered benchmarks point into
// it; a deque never moves its elements on push_back).
const std::string* Keep(std::string s) {
  static auto* inputs = new std::deque<std::string>();
  inputs->push_back(std::move(s));
  return &inputs->back();
}

std::string Bytes(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + seed);
  return s;
}

bt::Endpoint Peer4(int i) {
  return bt::Endpoint::V4({10, static_cast<uint8_t>(i >> 8),
                           static_cast<uint8_t>(i), 1},
                          static_cast<uint16_t>(6881 + i));
}

bt::Endpoint Peer6(int i) {
  std::array<uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8};
  a[14] = static_cast<uint8_t>(i >> 8);
  a[15] = static_cast<uint8_t>(i);
  return bt::Endpoint::V6(a, static_cast<uint16_t>(6881 + i));
}

std::string Compact(int n, bool v6) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    const bt::Endpoint e = v6 ? Peer6(i) : Peer4(i);
    out.append(reinterpret_cast<const char*>(e.address_bytes().data()),
               e.address_bytes().size());
    out.push_back(static_cast<char>(e.port() >> 8));
    out.push_back(static_cast<char>(e.port()));
  }
  return out;
}

std::string AnnounceBody(const std::string& peers_key, Value peers) {
  Value::Dict d{{"complete", 120}, {"incomplete", 35}, {"interval", 1800},
                {"min interval", 900}};
  d[peers_key] = std::move(peers);
  return bt::bencode::Encode(Value(std::move(d)));
}

std::string DictPeers(int n) {
  Value::List peers;
  for (int i = 0; i < n; ++i) {
    peers.push_back(Value::Dict{{"ip", Peer4(i).AddressString()},
                                {"peer id", Bytes(20, i)},
                                {"port", Peer4(i).port()}});
  }
  return AnnounceBody("peers", std::move(peers));
}

std::vector<bt::Sha1Hash> Hashes(int n) {
  std::vector<bt::Sha1Hash> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(bt::Sha1Hash::FromBytes(bt::AsBytes(Bytes(20, i))));
  }
  return out;
}

std::string ScrapeBody(int n) {
  Value::Dict files;
  for (const bt::Sha1Hash& h : Hashes(n)) {
    files[h.ToString()] =
        Value::Dict{{"complete", 7}, {"downloaded", 1234}, {"incomplete", 3}};
  }
  return bt::bencode::Encode(Value(Value::Dict{{"files", std::move(files)}}));
}

tr::AnnounceRequest Request() {
  tr::AnnounceRequest r;
  r.info_hash = bt::Sha1Hash::FromBytes(bt::AsBytes(Bytes(20, 3)));
  r.peer_id = bt::PeerId::FromBytes(bt::AsBytes("-BT0100-" + Bytes(12, 9)));
  r.port = 6881;
  r.uploaded = 123456789;
  r.downloaded = 987654321;
  r.left = 1 << 30;
  r.event = tr::AnnounceEvent::kStarted;
  r.numwant = 200;
  r.key = 0x1234abcd;
  return r;
}

std::string Name(const std::string& group, const char* impl,
                 const std::string& name) {
  return absl::StrCat(group, "/", impl, "/", name);
}

// Registers btkit's `op` (returns false on a failure) for group/name; fails
// the whole program first if `op` fails on its input.
template <typename Op>
void AddBtkit(const std::string& group, const std::string& name, Op op) {
  if (!op()) {
    std::fprintf(stderr, "%s/%s: btkit failed on its input\n", group.c_str(),
                 name.c_str());
    std::exit(1);
  }
  benchmark::RegisterBenchmark(Name(group, "btkit", name).c_str(),
                               [op](benchmark::State& state) {
                                 for (auto _ : state) {
                                   if (!op()) {
                                     state.SkipWithError("btkit failed");
                                     return;
                                   }
                                 }
                               });
}

// The floor: one memcpy of `bytes` into a buffer of the same size.
void AddMemcpy(const std::string& group, const std::string& name,
               const std::string* bytes) {
  benchmark::RegisterBenchmark(
      Name(group, "memcpy", name).c_str(), [bytes](benchmark::State& state) {
        std::string copy(bytes->size(), '\0');
        for (auto _ : state) {
          std::memcpy(copy.data(), bytes->data(), bytes->size());
          benchmark::DoNotOptimize(copy.data());
          benchmark::ClobberMemory();
        }
      });
}

// libtorrent's bdecode of the same body, token storage reused.
void AddBdecode(const std::string& group, const std::string& name,
                const std::string* bytes) {
  benchmark::RegisterBenchmark(
      Name(group, "lt_bdecode", name).c_str(),
      [bytes](benchmark::State& state) {
        lt::bdecode_node node;
        lt::error_code ec;
        for (auto _ : state) {
          int pos = 0;
          if (lt::bdecode(bytes->data(), bytes->data() + bytes->size(), node,
                          ec, &pos, 100, 1000000) != 0) {
            state.SkipWithError("libtorrent rejected the body");
            return;
          }
          benchmark::DoNotOptimize(node);
        }
      });
}

void AddAnnounceBodies() {
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"compact-50", AnnounceBody("peers", Compact(50, false))},
      {"compact-200", AnnounceBody("peers", Compact(200, false))},
      {"dict-50", DictPeers(50)},
      {"peers6-50", AnnounceBody("peers6", Compact(50, true))},
  };
  for (const auto& [name, body] : bodies) {
    const std::string* in = Keep(body);
    const size_t want = name.ends_with("200") ? 200 : 50;
    AddBtkit("announce", name, [in, want] {
      auto r = tr::ParseHttpAnnounceResponse(*in);
      benchmark::DoNotOptimize(r);
      return r.ok() && r->peers.size() == want;
    });
    AddBdecode("announce", name, in);
    AddMemcpy("announce", name, in);
  }
  for (int n : {1, 100}) {
    const std::string* in = Keep(ScrapeBody(n));
    const std::string name = absl::StrCat("hashes-", n);
    AddBtkit("scrape", name, [in, n] {
      auto r = tr::ParseHttpScrapeResponse(*in);
      benchmark::DoNotOptimize(r);
      return r.ok() && r->files.size() == static_cast<size_t>(n);
    });
    AddBdecode("scrape", name, in);
    AddMemcpy("scrape", name, in);
  }
  const std::string body = AnnounceBody("peers", Compact(200, false));
  const std::string* reply = Keep(absl::StrCat(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: opentracker\r\n"
      "Content-Length: ",
      body.size(), "\r\nConnection: close\r\n\r\n", body));
  AddBtkit("http", "reply-200-peers", [reply] {
    tr::HttpResponseParser parser;
    bool ok = parser.Feed(*reply).ok() && parser.done();
    benchmark::DoNotOptimize(parser.response());
    return ok;
  });
  AddMemcpy("http", "reply-200-peers", reply);
}

void AddUdp() {
  tr::UdpAnnounceReply announce4{.transaction_id = 7, .interval = 1800,
                                 .leechers = 35, .seeders = 120};
  tr::UdpAnnounceReply announce6 = announce4;
  for (int i = 0; i < 50; ++i) {
    announce4.peers.push_back(Peer4(i));
    announce6.peers.push_back(Peer6(i));
  }
  tr::UdpScrapeReply scrape{.transaction_id = 7};
  scrape.counts.assign(tr::kMaxUdpScrapeHashes, {120, 4000, 35});
  const std::vector<bt::Sha1Hash> hashes = Hashes(tr::kMaxUdpScrapeHashes);
  const tr::AnnounceRequest request = Request();

  // Replies as a client parses them.
  const std::vector<std::tuple<std::string, std::string, bool>> replies = {
      {"connect-reply", tr::BuildUdpConnectReply(7, 0x0123456789abcdefULL),
       false},
      {"announce-reply-50", tr::BuildUdpAnnounceReply(announce4), false},
      {"announce6-reply-50", tr::BuildUdpAnnounceReply(announce6), true},
      {"scrape-reply-74", tr::BuildUdpScrapeReply(scrape), false},
      {"error-reply", tr::BuildUdpErrorReply(7, "unregistered torrent"),
       false},
  };
  for (const auto& [name, packet, ipv6] : replies) {
    const std::string* in = Keep(packet);
    const bool v6 = ipv6;
    AddBtkit("udp-parse", name, [in, v6] {
      auto r = tr::ParseUdpTrackerReply(*in, v6);
      benchmark::DoNotOptimize(r);
      return r.ok();
    });
    AddMemcpy("udp-parse", name, in);
  }
  // Requests as a tracker parses them.
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"connect-request", tr::BuildUdpConnectRequest(7)},
      {"announce-request",
       tr::BuildUdpAnnounceRequest(0x0123456789abcdefULL, 7, request,
                                   "/announce?passkey=0123456789abcdef")},
      {"scrape-request-74",
       tr::BuildUdpScrapeRequest(0x0123456789abcdefULL, 7, hashes)},
  };
  for (const auto& [name, packet] : requests) {
    const std::string* in = Keep(packet);
    AddBtkit("udp-parse", name, [in] {
      auto r = tr::ParseUdpTrackerRequest(*in);
      benchmark::DoNotOptimize(r);
      return r.ok();
    });
    AddMemcpy("udp-parse", name, in);
  }

  // Builders; the floor copies the packet they produce.
  AddBtkit("udp-build", "connect-request", [] {
    std::string p = tr::BuildUdpConnectRequest(7);
    benchmark::DoNotOptimize(p.data());
    return p.size() == 16;
  });
  AddMemcpy("udp-build", "connect-request", Keep(requests[0].second));
  AddBtkit("udp-build", "announce-request", [request] {
    std::string p = tr::BuildUdpAnnounceRequest(
        0x0123456789abcdefULL, 7, request, "/announce?passkey=0123456789abcdef");
    benchmark::DoNotOptimize(p.data());
    return p.size() > 98;
  });
  AddMemcpy("udp-build", "announce-request", Keep(requests[1].second));
  AddBtkit("udp-build", "scrape-request-74", [hashes] {
    std::string p = tr::BuildUdpScrapeRequest(0x0123456789abcdefULL, 7, hashes);
    benchmark::DoNotOptimize(p.data());
    return p.size() == 16 + 20 * hashes.size();
  });
  AddMemcpy("udp-build", "scrape-request-74", Keep(requests[2].second));
  AddBtkit("udp-build", "announce-reply-50", [announce4] {
    std::string p = tr::BuildUdpAnnounceReply(announce4);
    benchmark::DoNotOptimize(p.data());
    return p.size() == 20 + 6 * announce4.peers.size();
  });
  AddMemcpy("udp-build", "announce-reply-50", Keep(std::get<1>(replies[1])));
  AddBtkit("udp-build", "error-reply", [] {
    std::string p = tr::BuildUdpErrorReply(7, "unregistered torrent");
    benchmark::DoNotOptimize(p.data());
    return !p.empty();
  });
  AddMemcpy("udp-build", "error-reply", Keep(std::get<1>(replies[4])));
}

void AddUrls() {
  const tr::AnnounceRequest request = Request();
  const std::string base = "http://tracker.example.org:6969/announce";
  AddBtkit("url", "announce", [request, base] {
    std::string url = tr::BuildHttpAnnounceUrl(base, request);
    benchmark::DoNotOptimize(url.data());
    return url.size() > base.size();
  });
  AddMemcpy("url", "announce", Keep(tr::BuildHttpAnnounceUrl(base, request)));
  const std::vector<bt::Sha1Hash> hashes = Hashes(100);
  const std::string scrape = "http://tracker.example.org:6969/scrape";
  AddBtkit("url", "scrape-100", [hashes, scrape] {
    std::string url = tr::BuildHttpScrapeUrl(scrape, hashes);
    benchmark::DoNotOptimize(url.data());
    return url.size() > scrape.size();
  });
  AddMemcpy("url", "scrape-100", Keep(tr::BuildHttpScrapeUrl(scrape, hashes)));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  AddAnnounceBodies();
  AddUdp();
  AddUrls();
  bt::benchmarks::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintTable();
  return 0;
}
