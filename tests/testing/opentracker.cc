#include "tests/testing/opentracker.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tests/testing/http_client.h"
#include "tests/testing/ports.h"
#include "tracker/announce.h"
#include "tracker/http_tracker.h"
#include "tracker/tracker_url.h"

namespace bt::testing {
namespace {

namespace fs = std::filesystem;

// Body is the body of a raw HTTP reply, or kUnavailable without one.
absl::StatusOr<std::string> Body(const absl::StatusOr<std::string>& raw) {
  if (!raw.ok()) return raw.status();
  HttpReply reply = ParseHttpReply(*raw);
  if (reply.status == 0) {
    return absl::UnavailableError(absl::StrFormat("not HTTP: %s", *raw));
  }
  return reply.body;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Opentracker>> Opentracker::Start(
    const std::vector<Sha1Hash>& whitelist, absl::Time deadline) {
  std::unique_ptr<Opentracker> t(new Opentracker());
  t->dir_ = TempDir("opentracker");
  fs::create_directories(t->dir_);
  chmod(t->dir_.c_str(), 0755);  // it may drop privileges before reading
  {
    std::ofstream wl(t->dir_ + "/whitelist");
    for (const Sha1Hash& h : whitelist) wl << h.ToHex() << "\n";
  }
  chmod((t->dir_ + "/whitelist").c_str(), 0644);
  // One port number for HTTP and UDP, both held by this opentracker (it
  // exits when it cannot bind).
  absl::StatusOr<ListeningProcess> p = StartListening(
      [&](uint16_t port) {
        // It chroots to -d, so the whitelist path is relative to it.
        return std::vector<std::string>{kPath,
                                        "-i",
                                        "127.0.0.1",
                                        "-p",
                                        std::to_string(port),
                                        "-P",
                                        std::to_string(port),
                                        "-d",
                                        t->dir_,
                                        "-w",
                                        "whitelist"};
      },
      {.patience = std::max(deadline - absl::Now(), absl::ZeroDuration()),
       .udp_too = true});
  if (!p.ok()) return p.status();
  t->port_ = p->port;
  t->process_ = std::move(p->process);
  // It listens before it reads the whitelist, and lets "stopped" announces
  // through before that: probe with "started" until every info-hash is
  // accepted, then take the probe peer away with "stopped".
  for (const Sha1Hash& h : whitelist) {
    while (true) {
      absl::StatusOr<std::string> r = t->Announce(h, 1, 1, "started");
      absl::StatusOr<std::string> body = Body(r);
      absl::StatusOr<tracker::AnnounceResponse> parsed =
          body.ok() ? tracker::ParseHttpAnnounceResponse(*body)
                    : absl::StatusOr<tracker::AnnounceResponse>(body.status());
      if (parsed.ok() && !parsed->failure_reason) {
        (void)t->Announce(h, 1, 1, "stopped");
        break;
      }
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrFormat("opentracker did not accept %s: %s", h.ToHex(),
                            r.ok() ? *r : r.status().ToString()));
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  return t;
}

absl::StatusOr<std::string> Opentracker::Announce(const Sha1Hash& info_hash,
                                                  uint16_t peer_port,
                                                  int64_t left,
                                                  const std::string& event) {
  return HttpGet(
      port_, absl::StrFormat(
                 "/announce?info_hash=%s&peer_id=-ZZ0000-probeprobepr&port=%d"
                 "&uploaded=0&downloaded=0&left=%d&event=%s&compact=1",
                 tracker::UrlEncode(info_hash.span()), peer_port, left, event));
}

std::string Opentracker::http_url() const {
  return absl::StrFormat("http://127.0.0.1:%d/announce", port_);
}

std::string Opentracker::udp_url() const {
  return absl::StrFormat("udp://127.0.0.1:%d/announce", port_);
}

absl::StatusOr<std::pair<int, int>> Opentracker::Scrape(
    const Sha1Hash& info_hash) {
  absl::StatusOr<std::string> body = Body(
      HttpGet(port_, absl::StrFormat("/scrape?info_hash=%s",
                                     tracker::UrlEncode(info_hash.span()))));
  if (!body.ok()) return body.status();
  absl::StatusOr<tracker::ScrapeResponse> r =
      tracker::ParseHttpScrapeResponse(*body);
  if (!r.ok()) return r.status();
  const tracker::ScrapeEntry* e = r->Find(info_hash);
  if (e == nullptr) {
    return absl::UnavailableError(
        absl::StrFormat("no %s in the scrape reply", info_hash.ToHex()));
  }
  return std::make_pair(static_cast<int>(e->complete),
                        static_cast<int>(e->incomplete));
}

absl::Status Opentracker::WaitForPeers(const Sha1Hash& info_hash, int seeders,
                                       int leechers, absl::Time deadline) {
  while (true) {
    absl::StatusOr<std::pair<int, int>> s = Scrape(info_hash);
    if (s.ok() && s->first >= seeders && s->second >= leechers) {
      return absl::OkStatus();
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrFormat("tracker knows %s, want %d seeders and %d leechers",
                          s.ok() ? absl::StrFormat("%d/%d", s->first, s->second)
                                 : s.status().ToString(),
                          seeders, leechers));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

}  // namespace bt::testing
