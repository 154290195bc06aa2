// The session methods of the Transmission RPC: session-get, session-set,
// session-stats, session-close, free-space, port-test.
#include <sys/statvfs.h>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "daemon/rpc_state.h"

namespace bt::daemon {
namespace {

constexpr int kRpcVersion = 16;  // Transmission 3.00's
constexpr char kVersion[] = "3.00 (btkit)";

int64_t FreeBytes(const std::string& path) {
  struct statvfs st;
  if (statvfs(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

// Settings reports the session's settings; session-set accepts these keys
// (changing the fixed ones is refused).
Json Settings(const RpcState& s) {
  const DaemonSettings& d = *s.settings;
  const client::ClientOptions& o = s.client->options();
  Json units = {
      {"speed-units", {"kB/s", "MB/s", "GB/s", "TB/s"}}, {"speed-bytes", 1000},
      {"size-units", {"kB", "MB", "GB", "TB"}},          {"size-bytes", 1000},
      {"memory-units", {"KiB", "MiB", "GiB", "TiB"}},    {"memory-bytes", 1024},
  };
  return {
      {"alt-speed-down", 50},
      {"alt-speed-enabled", false},
      {"alt-speed-time-begin", 540},
      {"alt-speed-time-day", 127},
      {"alt-speed-time-enabled", false},
      {"alt-speed-time-end", 1020},
      {"alt-speed-up", 50},
      {"blocklist-enabled", false},
      {"blocklist-size", 0},
      {"blocklist-url", ""},
      {"cache-size-mb", 4},
      {"config-dir", s.options.state_dir},
      {"dht-enabled", o.enable_dht},
      {"download-dir", d.download_dir},
      {"download-dir-free-space", FreeBytes(d.download_dir)},
      {"download-queue-enabled", false},
      {"download-queue-size", 5},
      {"encryption", d.encryption},
      {"idle-seeding-limit", 30},
      {"idle-seeding-limit-enabled", false},
      {"incomplete-dir", d.download_dir},
      {"incomplete-dir-enabled", false},
      {"lpd-enabled", o.enable_lsd},
      {"peer-limit-global", d.peer_limit_global},
      {"peer-limit-per-torrent", d.peer_limit_per_torrent},
      {"peer-port", s.client->port()},
      {"peer-port-random-on-start", false},
      {"pex-enabled", true},
      {"port-forwarding-enabled", false},
      {"queue-stalled-enabled", false},
      {"queue-stalled-minutes", 30},
      {"rename-partial-files", false},
      {"rpc-version", kRpcVersion},
      {"rpc-version-minimum", 1},
      {"script-torrent-done-enabled", false},
      {"script-torrent-done-filename", ""},
      {"seed-queue-enabled", false},
      {"seed-queue-size", 10},
      {"seedRatioLimit", 2},
      {"seedRatioLimited", false},
      {"session-id", s.options.session_id},
      {"speed-limit-down", d.speed_limit_down},
      {"speed-limit-down-enabled", d.speed_limit_down_enabled},
      {"speed-limit-up", d.speed_limit_up},
      {"speed-limit-up-enabled", d.speed_limit_up_enabled},
      {"start-added-torrents", d.start_added_torrents},
      {"trash-original-torrent-files", false},
      {"units", units},
      {"utp-enabled", o.transport != client::PeerTransport::kTcp},
      {"version", kVersion},
  };
}

// The keys session-set changes; every other key of Settings() is fixed.
absl::Status SetSettings(RpcState& s, const JsonArgs& a) {
  DaemonSettings d = *s.settings;
  std::string dir;
  RETURN_IF_ERROR(a.String("download-dir", &dir));
  if (a.Has("download-dir")) {
    ASSIGN_OR_RETURN(d.download_dir, s.options.roots.Check(dir));
  }
  RETURN_IF_ERROR(ReadSettings(a, &d));
  if (d != *s.settings) {
    *s.settings = std::move(d);
    ApplySettings(s);
    s.changed = true;
  }
  return absl::OkStatus();
}

constexpr std::string_view kSettable[] = {
    "download-dir",
    "speed-limit-down",
    "speed-limit-down-enabled",
    "speed-limit-up",
    "speed-limit-up-enabled",
    "peer-limit-global",
    "peer-limit-per-torrent",
    "start-added-torrents",
    "encryption",
    "peer-port",
};

}  // namespace

void ApplySettings(RpcState& s) {
  const DaemonSettings& d = *s.settings;
  s.client->SetRateLimits(d.UploadLimitBytes(), d.DownloadLimitBytes());
  s.client->SetConnectionLimits(d.peer_limit_global, d.peer_limit_per_torrent);
  s.client->SetEncryption(
      d.encryption == "required"    ? protocol::EncryptionPolicy::kForced
      : d.encryption == "tolerated" ? protocol::EncryptionPolicy::kDisabled
                                    : protocol::EncryptionPolicy::kEnabled);
}

absl::Status SessionGet(RpcState& s, const Json& args, Json& out) {
  Json all = Settings(s);
  JsonArgs a(args);
  const Json* fields = a.Value("fields");
  if (fields == nullptr) {
    out = std::move(all);
    return absl::OkStatus();
  }
  if (!fields->is_array()) {
    return absl::InvalidArgumentError("'fields' must be an array");
  }
  for (const Json& f : *fields) {
    if (!f.is_string() || !all.contains(f.get<std::string>())) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown session field ", f.dump()));
    }
    out[f.get<std::string>()] = all[f.get<std::string>()];
  }
  return absl::OkStatus();
}

absl::Status SessionSet(RpcState& s, const Json& args, Json& out) {
  const Json current = Settings(s);
  for (const auto& [key, value] : args.items()) {
    if (std::find(std::begin(kSettable), std::end(kSettable), key) !=
        std::end(kSettable)) {
      continue;
    }
    if (!current.contains(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown session setting '", key, "'"));
    }
    // A fixed setting may be sent back as it is (the web client sends
    // its whole preferences form); a change is refused.
    if (current[key] != value && !current[key].is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", key, "' cannot be changed in btkit's daemon"));
    }
  }
  return SetSettings(s, JsonArgs(args));
}

absl::Status SessionStats(RpcState& s, const Json& args, Json& out) {
  int64_t up = s.removed_uploaded, down = s.removed_downloaded;
  double up_rate = 0, down_rate = 0;
  int active = 0, paused = 0, total = 0;
  for (client::Torrent* t : s.client->torrents()) {
    ++total;
    up += t->uploaded();
    down += t->downloaded();
    up_rate += t->upload_rate();
    down_rate += t->download_rate();
    const client::TorrentState st = t->state();
    if (st == client::TorrentState::kStopped ||
        st == client::TorrentState::kPaused) {
      ++paused;
    } else {
      ++active;
    }
  }
  const int64_t seconds = absl::ToInt64Seconds(absl::Now() - s.session_start);
  Json stats = {{"uploadedBytes", up},
                {"downloadedBytes", down},
                {"filesAdded", s.torrents_added},
                {"sessionCount", 1},
                {"secondsActive", seconds}};
  out = {{"activeTorrentCount", active},
         {"pausedTorrentCount", paused},
         {"torrentCount", total},
         {"downloadSpeed", static_cast<int64_t>(down_rate)},
         {"uploadSpeed", static_cast<int64_t>(up_rate)},
         {"cumulative-stats", stats},
         {"current-stats", stats}};
  return absl::OkStatus();
}

absl::Status SessionClose(RpcState& s, const Json& args, Json& out) {
  if (s.options.on_close) s.options.on_close();
  return absl::OkStatus();
}

absl::Status FreeSpace(RpcState& s, const Json& args, Json& out) {
  std::string path;
  RETURN_IF_ERROR(JsonArgs(args).String("path", &path));
  ASSIGN_OR_RETURN(std::string checked, s.options.roots.Check(path));
  const int64_t free = FreeBytes(checked);
  if (free < 0)
    return absl::NotFoundError(absl::StrCat("no such directory: ", path));
  out = {{"path", path}, {"size-bytes", free}};
  return absl::OkStatus();
}

absl::Status PortTest(RpcState& s, const Json& args, Json& out) {
  // Testing needs a server outside; this daemon reaches none.
  return absl::UnimplementedError("port testing is not available");
}

}  // namespace bt::daemon
