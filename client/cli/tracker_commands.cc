// `bt announce` and `bt scrape`: one announce or scrape against one tracker
// URL (http, https or udp), printing the tracker events and the reply.
//
//   bt announce udp://127.0.0.1:6969/announce 5eedc0de...c0de --event started
//   bt scrape http://tracker.example/announce 5eedc0de...c0de
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "base/hash.h"
#include "base/random.h"
#include "client/net/event_loop.h"
#include "client/net/tracker_client.h"
#include "metainfo/peer_id.h"
#include "tracker/tracker_events.h"

namespace bt::client {
namespace {

constexpr char kAnnounceUsage[] =
    "usage: bt announce URL INFOHASH [--event started|completed|stopped|none]\n"
    "         [--port N] [--left N] [--uploaded N] [--downloaded N]\n"
    "         [--numwant N] [--peer-id HEX] [--timeout SECONDS]";
constexpr char kScrapeUsage[] =
    "usage: bt scrape URL INFOHASH... [--timeout SECONDS]";

bool ParseInt(const std::string& s, int64_t* out) {
  return absl::SimpleAtoi(s, out) && *out >= 0;
}

void PrintEvent(const tracker::TrackerEvent& e) {
  std::string detail;
  if (auto* c = std::get_if<tracker::TrackerConnectEvent>(&e)) {
    detail = absl::StrFormat("event=%s", c->event == tracker::AnnounceEvent::kNone
                                             ? "none"
                                             : tracker::AnnounceEventName(c->event));
  } else if (auto* r = std::get_if<tracker::TrackerReadEvent>(&e)) {
    detail = absl::StrFormat("length=%d", r->length);
  } else if (auto* w = std::get_if<tracker::TrackerWriteEvent>(&e)) {
    detail = absl::StrFormat("length=%d", w->length);
  } else if (auto* f = std::get_if<tracker::TrackerFailureEvent>(&e)) {
    detail = absl::StrFormat("reason=\"%s\"", f->reason);
  } else if (auto* s = std::get_if<tracker::TrackerSuccessEvent>(&e)) {
    detail = absl::StrFormat("complete=%d incomplete=%d peers=%d min_interval=%s",
                             s->complete.value_or(-1), s->incomplete.value_or(-1),
                             s->peers.size(),
                             s->min_interval ? absl::StrFormat("%d", *s->min_interval)
                                             : std::string("-"));
  }
  std::fprintf(stderr, "%s %s\n", tracker::TrackerEventName(e), detail.c_str());
}

template <typename Response>
using ReplyCallback = std::function<void(absl::StatusOr<Response>)>;

// AskTracker runs one exchange with a tracker on a loop of its own: `start`
// begins it on a TrackerClient whose requests time out after `timeout`
// seconds, handing it the callback for the reply. Returns the reply, or
// prints why there is none (as "bt <command>: ...") and returns nullopt; a
// tracker's failure reason counts as none.
template <typename Response>
std::optional<Response> AskTracker(
    const char* command, double timeout,
    const std::function<void(TrackerClient&, ReplyCallback<Response>)>& start) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  TrackerClientOptions opt;
  opt.http.timeout = std::chrono::duration_cast<EventLoop::Duration>(
      std::chrono::duration<double>(timeout));
  absl::StatusOr<std::unique_ptr<TrackerClient>> client =
      loop.ok() ? TrackerClient::Create(loop->get(), opt)
                : absl::StatusOr<std::unique_ptr<TrackerClient>>(loop.status());
  if (!client.ok()) {
    std::fprintf(stderr, "bt %s: %s\n", command,
                 std::string(client.status().message()).c_str());
    return std::nullopt;
  }
  std::optional<absl::StatusOr<Response>> result;
  start(**client, [&](absl::StatusOr<Response> r) { result = std::move(r); });
  const auto deadline =
      EventLoop::Now() + std::chrono::duration_cast<EventLoop::Duration>(
                             std::chrono::duration<double>(timeout + 1));
  while (!result && EventLoop::Now() < deadline &&
         (*loop)->RunOnce(0.1).ok()) {
  }
  if (!result) {
    std::fprintf(stderr, "bt %s: no answer within %.0f s\n", command, timeout);
    return std::nullopt;
  }
  if (!result->ok()) {
    std::fprintf(stderr, "bt %s: %s\n", command,
                 std::string(result->status().message()).c_str());
    return std::nullopt;
  }
  if ((*result)->failure_reason) {
    std::fprintf(stderr, "bt %s: tracker: %s\n", command,
                 (*result)->failure_reason->c_str());
    return std::nullopt;
  }
  return **std::move(result);
}

}  // namespace

int RunAnnounceCommand(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  tracker::AnnounceRequest req;
  req.port = 6881;
  req.peer_id = metainfo::GeneratePeerId();
  double timeout = 60;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    int64_t n;
    std::optional<std::string> v;
    if (a.rfind("--", 0) == 0 && !(v = value())) {
      std::fprintf(stderr, "bt announce: %s needs a value\n%s\n", a.c_str(), kAnnounceUsage);
      return 2;
    }
    if (a == "--event") {
      if (*v == "started") req.event = tracker::AnnounceEvent::kStarted;
      else if (*v == "completed") req.event = tracker::AnnounceEvent::kCompleted;
      else if (*v == "stopped") req.event = tracker::AnnounceEvent::kStopped;
      else if (*v == "none") req.event = tracker::AnnounceEvent::kNone;
      else {
        std::fprintf(stderr, "bt announce: unknown event '%s'\n", v->c_str());
        return 2;
      }
    } else if (a == "--port" && ParseInt(*v, &n) && n <= 65535) {
      req.port = static_cast<uint16_t>(n);
    } else if (a == "--left" && ParseInt(*v, &n)) {
      req.left = n;
    } else if (a == "--uploaded" && ParseInt(*v, &n)) {
      req.uploaded = n;
    } else if (a == "--downloaded" && ParseInt(*v, &n)) {
      req.downloaded = n;
    } else if (a == "--numwant" && ParseInt(*v, &n) && n <= 100000) {
      req.numwant = static_cast<int32_t>(n);
    } else if (a == "--timeout" && absl::SimpleAtod(*v, &timeout) && timeout > 0) {
    } else if (a == "--peer-id") {
      absl::StatusOr<PeerId> id = PeerId::FromHex(*v);
      if (!id.ok()) {
        std::fprintf(stderr, "bt announce: %s\n", std::string(id.status().message()).c_str());
        return 2;
      }
      req.peer_id = *id;
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "bt announce: bad option %s %s\n%s\n", a.c_str(), v->c_str(),
                   kAnnounceUsage);
      return 2;
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) {
    std::fprintf(stderr, "%s\n", kAnnounceUsage);
    return 2;
  }
  absl::StatusOr<Sha1Hash> ih = Sha1Hash::FromHex(positional[1]);
  if (!ih.ok()) {
    std::fprintf(stderr, "bt announce: %s\n", std::string(ih.status().message()).c_str());
    return 2;
  }
  req.info_hash = *ih;
  req.key = RandomU32();

  std::optional<tracker::AnnounceResponse> reply =
      AskTracker<tracker::AnnounceResponse>(
          "announce", timeout,
          [&](TrackerClient& c, ReplyCallback<tracker::AnnounceResponse> done) {
            c.Announce(positional[0], req, PrintEvent, std::move(done));
          });
  if (!reply) return 1;
  const tracker::AnnounceResponse& r = *reply;
  if (r.warning_message) std::printf("warning: %s\n", r.warning_message->c_str());
  std::printf("interval: %s\n", r.interval ? std::to_string(*r.interval).c_str() : "-");
  if (r.min_interval) std::printf("min interval: %lld\n", static_cast<long long>(*r.min_interval));
  std::printf("complete: %s\nincomplete: %s\n",
              r.complete ? std::to_string(*r.complete).c_str() : "-",
              r.incomplete ? std::to_string(*r.incomplete).c_str() : "-");
  if (r.external_ip) std::printf("external ip: %s\n", r.external_ip->AddressString().c_str());
  std::printf("peers: %zu\n", r.peers.size());
  for (const tracker::TrackerPeer& p : r.peers) {
    std::printf("  %s\n", p.endpoint.ToString().c_str());
  }
  return 0;
}

int RunScrapeCommand(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  double timeout = 60;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--timeout" && i + 1 < args.size() &&
        absl::SimpleAtod(args[i + 1], &timeout) && timeout > 0) {
      ++i;
    } else if (args[i].rfind("--", 0) == 0) {
      std::fprintf(stderr, "bt scrape: bad option %s\n%s\n", args[i].c_str(), kScrapeUsage);
      return 2;
    } else {
      positional.push_back(args[i]);
    }
  }
  if (positional.size() < 2) {
    std::fprintf(stderr, "%s\n", kScrapeUsage);
    return 2;
  }
  std::vector<Sha1Hash> hashes;
  for (size_t i = 1; i < positional.size(); ++i) {
    absl::StatusOr<Sha1Hash> ih = Sha1Hash::FromHex(positional[i]);
    if (!ih.ok()) {
      std::fprintf(stderr, "bt scrape: %s\n", std::string(ih.status().message()).c_str());
      return 2;
    }
    hashes.push_back(*ih);
  }
  std::optional<tracker::ScrapeResponse> reply =
      AskTracker<tracker::ScrapeResponse>(
          "scrape", timeout,
          [&](TrackerClient& c, ReplyCallback<tracker::ScrapeResponse> done) {
            c.Scrape(positional[0], hashes, std::move(done));
          });
  if (!reply) return 1;
  for (const Sha1Hash& h : hashes) {
    const tracker::ScrapeEntry* e = reply->Find(h);
    if (e == nullptr) {
      std::printf("%s not known to the tracker\n", h.ToHex().c_str());
    } else {
      std::printf("%s complete=%lld incomplete=%lld downloaded=%lld\n", h.ToHex().c_str(),
                  static_cast<long long>(e->complete), static_cast<long long>(e->incomplete),
                  static_cast<long long>(e->downloaded));
    }
  }
  return 0;
}

}  // namespace bt::client
