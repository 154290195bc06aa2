// Helpers more than one `bt` command uses: reading a torrent file, names and
// formats for what the commands print, their error lines, and the parsers
// of values that several commands' flags and arguments take (host names
// and ports: base/host_port.h).
//
//   absl::StatusOr<metainfo::TorrentInfo> torrent = ReadTorrentFile(path);
//   if (!torrent.ok()) return Fail("check", torrent.status(), 2);
//   std::printf("%s\n", HumanBytes(torrent->content_size(), 2).c_str());
#ifndef CLIENT_CLI_COMMON_H_
#define CLIENT_CLI_COMMON_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/hash.h"
#include "metainfo/torrent_info.h"

namespace bt::client::cli {

// Fail prints "bt COMMAND: MESSAGE" to stderr and returns `exit_code`, for
// `return Fail(...)` from a command. The Status form prints its message.
int Fail(std::string_view command, std::string_view message, int exit_code = 1);
int Fail(std::string_view command, const absl::Status& status,
         int exit_code = 1);

// kMaxFileSize is the most a command reads of a .torrent, state or
// bencoded file: the bencode decoder's default input limit.
inline constexpr size_t kMaxFileSize = size_t{64} << 20;

// ReadTorrentFile reads and parses the .torrent file at `path` with
// `options`. Errors are ReadFileToString's (naming the path) or the
// parser's, prefixed with "PATH: ".
absl::StatusOr<metainfo::TorrentInfo> ReadTorrentFile(
    const std::string& path, const metainfo::ParseOptions& options = {});

// HumanBytes renders a byte count with a binary unit: "512 B" (whole bytes
// always), "1.50 MiB" with `decimals` digits for larger units.
std::string HumanBytes(double bytes, int decimals);

// ParseInfoHash reads a v1 info-hash as 40 hex or 32 base32 characters (the
// two forms magnet links use); errors are kInvalidArgument.
absl::StatusOr<Sha1Hash> ParseInfoHash(std::string_view text);

// FilePriorityArg is a file index and its priority level.
using FilePriorityArg = std::pair<size_t, int>;

// ParseFilePriority reads "INDEX=LEVEL": a file index and a level of skip,
// low, normal or high (storage/file_priority.h), or a number from 0 to 7
// (libtorrent's scale). Errors are kInvalidArgument and quote the text.
absl::StatusOr<FilePriorityArg> ParseFilePriority(std::string_view text);

}  // namespace bt::client::cli

#endif  // CLIENT_CLI_COMMON_H_
