#include "client/cli/common.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "base/file_util.h"

namespace bt::client::cli {

int Fail(std::string_view command, std::string_view message, int exit_code) {
  std::fprintf(stderr, "bt %s: %s\n", std::string(command).c_str(),
               std::string(message).c_str());
  return exit_code;
}

int Fail(std::string_view command, const absl::Status& status, int exit_code) {
  return Fail(command, std::string(status.message()), exit_code);
}

absl::StatusOr<metainfo::TorrentInfo> ReadTorrentFile(
    const std::string& path, const metainfo::ParseOptions& options) {
  absl::StatusOr<std::string> bytes = ReadFileToString(path, kMaxFileSize);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<metainfo::TorrentInfo> torrent =
      metainfo::TorrentInfo::Parse(*bytes, options);
  if (!torrent.ok()) {
    return absl::Status(
        torrent.status().code(),
        absl::StrFormat("%s: %s", path, torrent.status().message()));
  }
  return torrent;
}

std::string HumanBytes(double bytes, int decimals) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return absl::StrFormat("%.*f %s", u == 0 ? 0 : decimals, bytes, units[u]);
}

absl::StatusOr<Sha1Hash> ParseInfoHash(std::string_view text) {
  if (text.size() == 32) return Sha1Hash::FromBase32(text);
  return Sha1Hash::FromHex(text);
}

}  // namespace bt::client::cli
