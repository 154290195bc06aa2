#include "client/cli/common.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "base/file_util.h"
#include "storage/file_priority.h"

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

absl::StatusOr<FilePriorityArg> ParseFilePriority(std::string_view text) {
  static constexpr std::pair<std::string_view, int> kLevels[] = {
      {"skip", storage::kFilePrioritySkip},
      {"low", storage::kFilePriorityLow},
      {"normal", storage::kFilePriorityNormal},
      {"high", storage::kFilePriorityHigh},
  };
  // Digits only: SimpleAtoi alone also takes signs and spaces.
  auto number = [](std::string_view digits, uint32_t* out) {
    return !digits.empty() &&
           digits.find_first_not_of("0123456789") == std::string_view::npos &&
           absl::SimpleAtoi(std::string(digits), out);
  };
  const size_t eq = text.find('=');
  uint32_t index = 0, level = 0;
  if (eq != std::string_view::npos && number(text.substr(0, eq), &index)) {
    const std::string_view word = text.substr(eq + 1);
    for (const auto& [name, value] : kLevels) {
      if (word == name) return FilePriorityArg{index, value};
    }
    if (number(word, &level) && level <= 7) {
      return FilePriorityArg{index, static_cast<int>(level)};
    }
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "'%s' is not INDEX=LEVEL with a level of skip, low, normal, high or "
      "0 to 7",
      text));
}

}  // namespace bt::client::cli
