// DaemonSettings: the settings of `bt daemon` that Transmission's RPC
// reads and changes (session-get / session-set) and that outlive a
// restart, saved as JSON in the state directory beside the client's
// state file. Speeds are in Transmission's unit, kB/s (1000 bytes).
//
//   ASSIGN_OR_RETURN(DaemonSettings s, LoadDaemonSettings(dir +
//   "/settings.json")); s.speed_limit_down = 500; s.speed_limit_down_enabled =
//   true; RETURN_IF_ERROR(SaveDaemonSettings(dir + "/settings.json", s));
#ifndef DAEMON_DAEMON_SETTINGS_H_
#define DAEMON_DAEMON_SETTINGS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bt::daemon {

struct DaemonSettings {
  std::string download_dir;
  int64_t speed_limit_down = 100, speed_limit_up = 100;  // kB/s
  bool speed_limit_down_enabled = false, speed_limit_up_enabled = false;
  // The peer port to listen on from the next start (0: any).
  uint16_t peer_port = 0;
  int peer_limit_global = 200, peer_limit_per_torrent = 50;
  bool start_added_torrents = true;
  // "required", "preferred" or "tolerated" (Transmission's words).
  std::string encryption = "preferred";

  // Bytes per second for the client (0: unlimited).
  int64_t DownloadLimitBytes() const {
    return speed_limit_down_enabled ? speed_limit_down * 1000 : 0;
  }
  int64_t UploadLimitBytes() const {
    return speed_limit_up_enabled ? speed_limit_up * 1000 : 0;
  }
  friend bool operator==(const DaemonSettings&,
                         const DaemonSettings&) = default;
};

class JsonArgs;

// ReadSettings reads the settings' keys, by Transmission's names, from
// `args` into `s` (absent keys keep their values), all but "download-dir",
// which callers check themselves. Errors: JsonArgs' (kInvalidArgument
// naming the key), `s` then partly changed.
absl::Status ReadSettings(const JsonArgs& args, DaemonSettings* s);

// kMaxSettingsFile bounds the settings file read.
inline constexpr size_t kMaxSettingsFile = 1 << 20;

std::string EncodeDaemonSettings(const DaemonSettings& s);
// DecodeDaemonSettings parses what EncodeDaemonSettings wrote; keys it
// lacks keep their defaults. Errors: kInvalidArgument naming the key.
absl::StatusOr<DaemonSettings> DecodeDaemonSettings(std::string_view json);
// LoadDaemonSettings: kNotFound when there is no file, else the read's or
// DecodeDaemonSettings' errors with the path.
absl::StatusOr<DaemonSettings> LoadDaemonSettings(const std::string& path);
// SaveDaemonSettings replaces the file atomically.
absl::Status SaveDaemonSettings(const std::string& path,
                                const DaemonSettings& s);

}  // namespace bt::daemon

#endif  // DAEMON_DAEMON_SETTINGS_H_
