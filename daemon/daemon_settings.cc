#include "daemon/daemon_settings.h"

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/status_macros.h"
#include "daemon/json_args.h"

namespace bt::daemon {

absl::Status ReadSettings(const JsonArgs& a, DaemonSettings* s) {
  RETURN_IF_ERROR(
      a.Int("speed-limit-down", &s->speed_limit_down, 0, kMaxSpeed));
  RETURN_IF_ERROR(
      a.Bool("speed-limit-down-enabled", &s->speed_limit_down_enabled));
  RETURN_IF_ERROR(a.Int("speed-limit-up", &s->speed_limit_up, 0, kMaxSpeed));
  RETURN_IF_ERROR(a.Bool("speed-limit-up-enabled", &s->speed_limit_up_enabled));
  RETURN_IF_ERROR(a.Int("peer-port", &s->peer_port, 0, 65535));
  RETURN_IF_ERROR(
      a.Int("peer-limit-global", &s->peer_limit_global, 1, kMaxPeers));
  RETURN_IF_ERROR(a.Int("peer-limit-per-torrent", &s->peer_limit_per_torrent, 1,
                        kMaxPeers));
  RETURN_IF_ERROR(a.Bool("start-added-torrents", &s->start_added_torrents));
  return a.OneOf("encryption", &s->encryption,
                 {"required", "preferred", "tolerated"});
}

std::string EncodeDaemonSettings(const DaemonSettings& s) {
  Json j = {
      {"download-dir", s.download_dir},
      {"speed-limit-down", s.speed_limit_down},
      {"speed-limit-down-enabled", s.speed_limit_down_enabled},
      {"speed-limit-up", s.speed_limit_up},
      {"speed-limit-up-enabled", s.speed_limit_up_enabled},
      {"peer-port", s.peer_port},
      {"peer-limit-global", s.peer_limit_global},
      {"peer-limit-per-torrent", s.peer_limit_per_torrent},
      {"start-added-torrents", s.start_added_torrents},
      {"encryption", s.encryption},
  };
  return j.dump(2);
}

absl::StatusOr<DaemonSettings> DecodeDaemonSettings(std::string_view json) {
  ASSIGN_OR_RETURN(Json j, ParseJson(json));
  if (!j.is_object())
    return absl::InvalidArgumentError("settings: not an object");
  DaemonSettings s;
  RETURN_IF_ERROR(JsonArgs(j).String("download-dir", &s.download_dir));
  RETURN_IF_ERROR(ReadSettings(JsonArgs(j), &s));
  return s;
}

absl::StatusOr<DaemonSettings> LoadDaemonSettings(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, kMaxSettingsFile));
  absl::StatusOr<DaemonSettings> s = DecodeDaemonSettings(bytes);
  if (!s.ok()) {
    return absl::Status(s.status().code(),
                        absl::StrCat(path, ": ", s.status().message()));
  }
  return s;
}

absl::Status SaveDaemonSettings(const std::string& path,
                                const DaemonSettings& s) {
  return WriteFileAtomically(path, EncodeDaemonSettings(s));
}

}  // namespace bt::daemon
