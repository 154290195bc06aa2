#include "daemon/transmission_rpc.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "daemon/rpc_state.h"

namespace bt::daemon {
namespace {

const absl::flat_hash_map<std::string_view, RpcMethod>& Methods() {
  static const auto* methods =
      new absl::flat_hash_map<std::string_view, RpcMethod>{
          {"session-get", SessionGet},
          {"session-set", SessionSet},
          {"session-stats", SessionStats},
          {"session-close", SessionClose},
          {"free-space", FreeSpace},
          {"port-test", PortTest},
          {"torrent-get", TorrentGet},
          {"torrent-add", TorrentAdd},
          {"torrent-start", TorrentStart},
          {"torrent-start-now", TorrentStart},
          {"torrent-stop", TorrentStop},
          {"torrent-verify", TorrentVerify},
          {"torrent-reannounce", TorrentReannounce},
          {"torrent-remove", TorrentRemove},
          {"torrent-set", TorrentSet},
          {"torrent-set-location", TorrentSetLocation},
      };
  return *methods;
}

// Watch keeps the book's per-torrent records from the client's events:
// tracker answers, failed pieces, completion.
void Watch(RpcState& s) {
  using client::Event;
  using client::EventType;
  auto tracker = [&s](const Event& e) {
    TorrentRecord* r = s.book.Find(e.info_hash);
    if (r == nullptr) return true;
    TrackerRecord& tr = r->trackers[e.tracker];
    tr.last_announce = absl::Now();
    tr.succeeded = e.type == EventType::kTrackerSuccess;
    tr.result = tr.succeeded ? "Success" : e.reason;
    if (tr.succeeded) {
      tr.seeders = e.complete.value_or(-1);
      tr.leechers = e.incomplete.value_or(-1);
      tr.last_peer_count = static_cast<int64_t>(e.peers.size());
      tr.interval_seconds = e.interval.value_or(0);
    }
    return true;
  };
  s.client->OnEvent(EventType::kTrackerSuccess, tracker);
  s.client->OnEvent(EventType::kTrackerFailure, tracker);
  // Only downloaded pieces that fail count as corrupt: a check (at the add,
  // a verify) reports every piece missing from disk as failing too.
  s.client->OnEvent(EventType::kPieceHashFail, [&s](const Event& e) {
    client::Torrent* t = s.Find(e.info_hash);
    TorrentRecord* r = s.book.Find(e.info_hash);
    if (t != nullptr && r != nullptr && t->has_metadata() &&
        t->state() != client::TorrentState::kChecking &&
        e.index < t->info().num_pieces()) {
      r->corrupt_bytes += t->info().layout().PieceSize(e.index);
    }
    return true;
  });
  s.client->OnEvent(EventType::kPieceHashPass, [&s](const Event& e) {
    TorrentRecord* r = s.book.Find(e.info_hash);
    if (r == nullptr) return true;
    r->last_activity = absl::Now();
    client::Torrent* t = s.Find(e.info_hash);
    if (t != nullptr && r->done == absl::InfinitePast() && t->complete()) {
      r->done = absl::Now();
    }
    return true;
  });
}

std::string Reply(const Json& request, absl::string_view result, Json args) {
  Json reply = {{"result", std::string(result)},
                {"arguments", std::move(args)}};
  if (request.is_object()) {
    auto tag = request.find("tag");
    if (tag != request.end() && tag->is_number_integer()) reply["tag"] = *tag;
  }
  return reply.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

TorrentRecord& RpcState::Record(client::Torrent* t) {
  book.Add(t->info_hash(), absl::Now());
  return *book.Find(t->info_hash());
}

TransmissionRpc::TransmissionRpc(client::Client* client,
                                 DaemonSettings* settings, RpcOptions options)
    : state_(std::make_unique<RpcState>()) {
  state_->client = client;
  state_->settings = settings;
  state_->options = std::move(options);
  for (client::Torrent* t : client->torrents()) {
    TorrentRecord& r = state_->Record(t);
    r.loaded = t->state() != client::TorrentState::kStopped;
    if (r.loaded) r.started = absl::Now();
    if (t->complete()) r.done = absl::Now();
  }
  Watch(*state_);
}

TransmissionRpc::~TransmissionRpc() = default;

std::string TransmissionRpc::Handle(std::string_view body) {
  absl::StatusOr<Json> request = ParseJson(body);
  if (!request.ok())
    return Reply(Json(), request.status().message(), Json::object());
  if (!request->is_object()) {
    return Reply(*request, "request must be a JSON object", Json::object());
  }
  auto method = request->find("method");
  if (method == request->end() || !method->is_string()) {
    return Reply(*request, "no method name", Json::object());
  }
  auto it = Methods().find(method->get<std::string>());
  if (it == Methods().end()) {
    return Reply(*request, "method name not recognized", Json::object());
  }
  Json none = Json::object();
  auto args = request->find("arguments");
  if (args != request->end() && !args->is_object()) {
    return Reply(*request, "'arguments' must be an object", Json::object());
  }
  const Json& arguments = args == request->end() ? none : *args;
  Json out = Json::object();
  state_->changed = false;
  absl::Status status;
  try {
    status = it->second(*state_, arguments, out);
  } catch (const Json::exception& e) {
    // Every method checks types before reading; this is the last guard.
    status =
        absl::InvalidArgumentError(absl::StrCat("bad arguments: ", e.what()));
  }
  if (state_->changed && state_->options.on_change) state_->options.on_change();
  if (!status.ok()) return Reply(*request, status.message(), Json::object());
  return Reply(*request, "success", std::move(out));
}

std::string TransmissionRpc::SaveRecords() const { return state_->book.Save(); }

absl::Status TransmissionRpc::RestoreRecords(std::string_view json) {
  absl::Status status = state_->book.Restore(json);
  for (client::Torrent* t : state_->client->torrents()) {
    const TorrentRecord& r = state_->Record(t);
    t->SetRateLimits(r.UploadLimitBytes(), r.DownloadLimitBytes());
  }
  return status;
}

void TransmissionRpc::ApplySettings() { daemon::ApplySettings(*state_); }

}  // namespace bt::daemon
