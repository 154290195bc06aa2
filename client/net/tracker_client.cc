#include "client/net/tracker_client.h"

#include "absl/strings/str_format.h"
#include "tracker/tracker_url.h"

namespace bt::client {
namespace {

using tracker::AnnounceResponse;
using tracker::TrackerEvent;

// HttpStatusError is the failure for a non-200 reply; trackers often put a
// bencoded failure reason or a short text in the body.
absl::Status HttpStatusError(const tracker::HttpResponse& r) {
  std::string body = r.body.substr(0, 200);
  for (char& c : body) {
    if (static_cast<uint8_t>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return absl::UnavailableError(absl::StrFormat(
      "HTTP %d %s%s%s", r.status, r.reason, body.empty() ? "" : ": ", body));
}

}  // namespace

absl::StatusOr<std::unique_ptr<TrackerClient>> TrackerClient::Create(
    EventLoop* loop, TrackerClientOptions options) {
  std::unique_ptr<TrackerClient> client(new TrackerClient(loop, std::move(options)));
  absl::StatusOr<std::unique_ptr<UdpTrackerClient>> udp =
      UdpTrackerClient::Create(loop, client->options_.udp, &client->resolver_);
  if (!udp.ok()) return udp.status();
  client->udp_ = std::move(*udp);
  return client;
}

TrackerClient::~TrackerClient() = default;

uint64_t TrackerClient::Announce(const std::string& url,
                                 const tracker::AnnounceRequest& request,
                                 EventSink sink, AnnounceDone done) {
  const uint64_t id = next_id_++;
  const tracker::AnnounceEvent event = request.event;
  auto emit = [sink](TrackerEvent e) {
    if (sink) sink(e);
  };
  // finish reports the outcome as events, then calls done.
  auto finish = [url, event, emit, done](absl::StatusOr<AnnounceResponse> r) {
    if (!r.ok()) {
      emit(tracker::TrackerFailureEvent{url, event, std::string(r.status().message())});
    } else if (r->failure_reason) {
      emit(tracker::TrackerFailureEvent{
          url, event, absl::StrFormat("tracker: %s", *r->failure_reason)});
    } else {
      emit(tracker::MakeSuccessEvent(url, event, *r));
    }
    done(std::move(r));
  };

  absl::StatusOr<tracker::TrackerUrl> parsed = tracker::TrackerUrl::Parse(url);
  if (parsed.ok() && parsed->is_udp()) {
    UdpTrackerClient::Hooks hooks;
    hooks.on_read = [url, emit](size_t n) { emit(tracker::TrackerReadEvent{url, n}); };
    hooks.on_write = [url, emit](size_t n) { emit(tracker::TrackerWriteEvent{url, n}); };
    Liveness::Token token = liveness_.token();
    udp_ids_[id] = udp_->Announce(
        url, request, std::move(hooks),
        [this, token, id, finish](absl::StatusOr<AnnounceResponse> r) {
          if (!token.alive()) return;
          udp_ids_.erase(id);
          finish(std::move(r));
        });
    return id;
  }

  // HTTP(S), or a URL that does not parse (HttpFetch reports why).
  std::string full = tracker::BuildHttpAnnounceUrl(url, request);
  HttpFetchHooks hooks;
  hooks.on_connect = [url, event, emit] {
    emit(tracker::TrackerConnectEvent{url, event});
  };
  hooks.on_disconnect = [url, emit] { emit(tracker::TrackerDisconnectEvent{url}); };
  hooks.on_read = [url, emit](size_t n) { emit(tracker::TrackerReadEvent{url, n}); };
  hooks.on_write = [url, emit](size_t n) { emit(tracker::TrackerWriteEvent{url, n}); };
  Liveness::Token token = liveness_.token();
  tracker::HttpTrackerParseOptions parse = options_.parse;
  http_[id] = HttpFetch::Start(
      loop_, std::move(full), options_.http, std::move(hooks),
      [this, token, id, finish, parse](absl::StatusOr<tracker::HttpResponse> r) {
        if (!token.alive()) return;
        // HttpFetch allows being destroyed from its callback.
        std::unique_ptr<HttpFetch> self = std::move(http_[id]);
        http_.erase(id);
        if (!r.ok()) return finish(r.status());
        if (r->status != 200) return finish(HttpStatusError(*r));
        finish(tracker::ParseHttpAnnounceResponse(r->body, parse));
      });
  return id;
}

uint64_t TrackerClient::Scrape(const std::string& url,
                               std::vector<Sha1Hash> info_hashes,
                               ScrapeDone done) {
  const uint64_t id = next_id_++;
  absl::StatusOr<tracker::TrackerUrl> parsed = tracker::TrackerUrl::Parse(url);
  if (parsed.ok() && parsed->is_udp()) {
    Liveness::Token token = liveness_.token();
    udp_ids_[id] = udp_->Scrape(
        url, std::move(info_hashes), {},
        [this, token, id, done](absl::StatusOr<tracker::ScrapeResponse> r) {
          if (!token.alive()) return;
          udp_ids_.erase(id);
          done(std::move(r));
        });
    return id;
  }
  absl::StatusOr<std::string> scrape_url = tracker::ScrapeUrlFromAnnounce(url);
  if (!scrape_url.ok()) {
    absl::Status status = scrape_url.status();
    Liveness::Token token = liveness_.token();
    loop_->Post([token, done, status] {
      if (token.alive()) done(status);
    });
    return id;
  }
  std::string full = tracker::BuildHttpScrapeUrl(*scrape_url, info_hashes);
  Liveness::Token token = liveness_.token();
  tracker::HttpTrackerParseOptions parse = options_.parse;
  http_[id] = HttpFetch::Start(
      loop_, std::move(full), options_.http, {},
      [this, token, id, done, parse](absl::StatusOr<tracker::HttpResponse> r) {
        if (!token.alive()) return;
        std::unique_ptr<HttpFetch> self = std::move(http_[id]);
        http_.erase(id);
        if (!r.ok()) {
          done(r.status());
        } else if (r->status != 200) {
          done(HttpStatusError(*r));
        } else {
          done(tracker::ParseHttpScrapeResponse(r->body, parse));
        }
      });
  return id;
}

void TrackerClient::Cancel(uint64_t id) {
  http_.erase(id);
  if (auto it = udp_ids_.find(id); it != udp_ids_.end()) {
    udp_->Cancel(it->second);
    udp_ids_.erase(it);
  }
}

}  // namespace bt::client
