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

#include "absl/strings/str_format.h"
#include "base/hash.h"
#include "base/random.h"
#include "client/cli/command.h"
#include "client/cli/common.h"
#include "client/net/event_loop.h"
#include "client/net/tracker_client.h"
#include "metainfo/peer_id.h"
#include "tracker/tracker_events.h"

namespace bt::client::cli {
namespace {

struct AnnounceArgs {
  AnnounceArgs() {
    request.port = 6881;
    request.peer_id = metainfo::GeneratePeerId();
  }
  std::string url;
  tracker::AnnounceRequest request;
  double timeout = 60;
};

struct ScrapeArgs {
  std::string url;
  std::vector<Sha1Hash> info_hashes;
  double timeout = 60;
};

void DeclareTimeout(FlagSet& flags, double* timeout) {
  flags.Double("--timeout SECONDS", timeout, "how long to wait for the answer")
      .Positive();
}

void DeclareAnnounce(FlagSet& flags, AnnounceArgs& a) {
  using tracker::AnnounceEvent;
  tracker::AnnounceRequest& r = a.request;
  flags.String("URL", &a.url, "the tracker's announce URL (http, https, udp)");
  flags.Parsed("INFOHASH", &r.info_hash, ParseInfoHash,
               "the v1 info-hash (40 hex or 32 base32 characters)");
  flags.Enum("--event", &r.event,
             {{"started", AnnounceEvent::kStarted},
              {"completed", AnnounceEvent::kCompleted},
              {"stopped", AnnounceEvent::kStopped},
              {"none", AnnounceEvent::kNone}},
             "the announce event");
  flags.Int("--port N", &r.port, "the port peers should connect to");
  flags.Int("--left N", &r.left, "bytes left to download").Min(0);
  flags.Int("--uploaded N", &r.uploaded, "bytes uploaded").Min(0);
  flags.Int("--downloaded N", &r.downloaded, "bytes downloaded").Min(0);
  flags.Int("--numwant N", &r.numwant, "peers wanted (default: the tracker's)")
      .Min(0)
      .Max(100000);
  flags.Parsed("--peer-id HEX", &r.peer_id, PeerId::FromHex,
               "our 20-byte peer id in hex (default: a fresh one)");
  DeclareTimeout(flags, &a.timeout);
}

void DeclareScrape(FlagSet& flags, ScrapeArgs& a) {
  flags.String("URL", &a.url, "the tracker's announce or scrape URL");
  flags.Parsed("INFOHASH", &a.info_hashes, ParseInfoHash,
               "a v1 info-hash (40 hex or 32 base32 characters)");
  DeclareTimeout(flags, &a.timeout);
}

void PrintEvent(const tracker::TrackerEvent& e) {
  std::string detail;
  if (auto* c = std::get_if<tracker::TrackerConnectEvent>(&e)) {
    detail =
        absl::StrFormat("event=%s", c->event == tracker::AnnounceEvent::kNone
                                        ? "none"
                                        : tracker::AnnounceEventName(c->event));
  } else if (auto* r = std::get_if<tracker::TrackerReadEvent>(&e)) {
    detail = absl::StrFormat("length=%d", r->length);
  } else if (auto* w = std::get_if<tracker::TrackerWriteEvent>(&e)) {
    detail = absl::StrFormat("length=%d", w->length);
  } else if (auto* f = std::get_if<tracker::TrackerFailureEvent>(&e)) {
    detail = absl::StrFormat("reason=\"%s\"", f->reason);
  } else if (auto* s = std::get_if<tracker::TrackerSuccessEvent>(&e)) {
    detail = absl::StrFormat(
        "complete=%d incomplete=%d peers=%d min_interval=%s",
        s->complete.value_or(-1), s->incomplete.value_or(-1), s->peers.size(),
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
    Fail(command, client.status());
    return std::nullopt;
  }
  std::optional<absl::StatusOr<Response>> result;
  start(**client, [&](absl::StatusOr<Response> r) { result = std::move(r); });
  const auto deadline =
      EventLoop::Now() + std::chrono::duration_cast<EventLoop::Duration>(
                             std::chrono::duration<double>(timeout + 1));
  while (!result && EventLoop::Now() < deadline && (*loop)->RunOnce(0.1).ok()) {
  }
  if (!result) {
    Fail(command, absl::StrFormat("no answer within %.0f s", timeout));
    return std::nullopt;
  }
  if (!result->ok()) {
    Fail(command, result->status());
    return std::nullopt;
  }
  if ((*result)->failure_reason) {
    Fail(command, "tracker: " + *(*result)->failure_reason);
    return std::nullopt;
  }
  return **std::move(result);
}

void PrintAnnounceResponse(const tracker::AnnounceResponse& r) {
  if (r.warning_message)
    std::printf("warning: %s\n", r.warning_message->c_str());
  std::printf("interval: %s\n",
              r.interval ? std::to_string(*r.interval).c_str() : "-");
  if (r.min_interval)
    std::printf("min interval: %lld\n",
                static_cast<long long>(*r.min_interval));
  std::printf("complete: %s\nincomplete: %s\n",
              r.complete ? std::to_string(*r.complete).c_str() : "-",
              r.incomplete ? std::to_string(*r.incomplete).c_str() : "-");
  if (r.external_ip)
    std::printf("external ip: %s\n", r.external_ip->AddressString().c_str());
  std::printf("peers: %zu\n", r.peers.size());
  for (const tracker::TrackerPeer& p : r.peers) {
    std::printf("  %s\n", p.endpoint.ToString().c_str());
  }
}

int RunAnnounce(const AnnounceArgs& a) {
  tracker::AnnounceRequest req = a.request;
  req.key = RandomU32();
  std::optional<tracker::AnnounceResponse> reply =
      AskTracker<tracker::AnnounceResponse>(
          "announce", a.timeout,
          [&](TrackerClient& c, ReplyCallback<tracker::AnnounceResponse> done) {
            c.Announce(a.url, req, PrintEvent, std::move(done));
          });
  if (!reply) return 1;
  PrintAnnounceResponse(*reply);
  return 0;
}

int RunScrape(const ScrapeArgs& a) {
  const std::vector<Sha1Hash>& hashes = a.info_hashes;
  std::optional<tracker::ScrapeResponse> reply =
      AskTracker<tracker::ScrapeResponse>(
          "scrape", a.timeout,
          [&](TrackerClient& c, ReplyCallback<tracker::ScrapeResponse> done) {
            c.Scrape(a.url, hashes, std::move(done));
          });
  if (!reply) return 1;
  for (const Sha1Hash& h : hashes) {
    const tracker::ScrapeEntry* e = reply->Find(h);
    if (e == nullptr) {
      std::printf("%s not known to the tracker\n", h.ToHex().c_str());
    } else {
      std::printf("%s complete=%lld incomplete=%lld downloaded=%lld\n",
                  h.ToHex().c_str(), static_cast<long long>(e->complete),
                  static_cast<long long>(e->incomplete),
                  static_cast<long long>(e->downloaded));
    }
  }
  return 0;
}

[[maybe_unused]] const bool kAnnounceRegistered =
    RegisterCommand(MakeCommand<AnnounceArgs>(
        {"announce", "announce to one tracker",
         "Sends one announce to one tracker and prints the tracker events\n"
         "(stderr) and the reply: interval, swarm counts, peers.",
         DeclareAnnounce, RunAnnounce}));
[[maybe_unused]] const bool kScrapeRegistered =
    RegisterCommand(MakeCommand<ScrapeArgs>(
        {"scrape", "ask a tracker about swarms",
         "Prints what the tracker knows of each info-hash: complete,\n"
         "incomplete and downloaded counts.",
         DeclareScrape, RunScrape}));

}  // namespace
}  // namespace bt::client::cli
