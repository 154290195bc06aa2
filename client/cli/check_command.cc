// `bt check FILE.torrent DIR [--threads N] [--read-size BYTES] [--quiet]`:
// hash-checks the
// torrent's data under DIR (the directory holding the torrent's name), with
// a progress bar on stderr, and prints the result. Exit status 0 only when
// every piece passes, 1 when some fail, 2 on bad usage or an unreadable
// torrent.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "metainfo/torrent_info.h"
#include "storage/hash_checker.h"

namespace bt::client {

namespace {

constexpr char kUsage[] =
    "usage: bt check FILE.torrent DIR [--threads N] [--read-size BYTES] "
    "[--quiet]\n";

const char* VersionName(metainfo::TorrentVersion v) {
  switch (v) {
    case metainfo::TorrentVersion::kV1:
      return "v1";
    case metainfo::TorrentVersion::kV2:
      return "v2";
    case metainfo::TorrentVersion::kHybrid:
      return "hybrid";
  }
  return "?";
}

}  // namespace

int RunCheckCommand(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  bool quiet = false;
  storage::CheckOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--quiet") {
      quiet = true;
    } else if (args[i] == "--threads" && i + 1 < args.size()) {
      if (!absl::SimpleAtoi(args[++i], &options.threads) ||
          options.threads < 0) {
        std::fprintf(stderr, "bt check: bad --threads value\n%s", kUsage);
        return 2;
      }
    } else if (args[i] == "--read-size" && i + 1 < args.size()) {
      if (!absl::SimpleAtoi(args[++i], &options.read_size) ||
          options.read_size <= 0) {
        std::fprintf(stderr, "bt check: bad --read-size value\n%s", kUsage);
        return 2;
      }
    } else if (!args[i].empty() && args[i][0] == '-') {
      std::fprintf(stderr, "bt check: unknown option %s\n%s", args[i].c_str(),
                   kUsage);
      return 2;
    } else {
      positional.push_back(args[i]);
    }
  }
  if (positional.size() != 2) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  std::ifstream in(positional[0], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "bt check: cannot open %s\n", positional[0].c_str());
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<metainfo::TorrentInfo> torrent =
      metainfo::TorrentInfo::Parse(ss.str());
  if (!torrent.ok()) {
    std::fprintf(stderr, "bt check: %s: %s\n", positional[0].c_str(),
                 std::string(torrent.status().message()).c_str());
    return 2;
  }
  bool tty = isatty(2);
  auto start = std::chrono::steady_clock::now();
  int last_permille = -1;
  if (!quiet) {
    options.on_progress = [&](const storage::CheckProgress& p) {
      int permille = p.bytes_total > 0
                         ? static_cast<int>(p.bytes_done * 1000 / p.bytes_total)
                         : 1000;
      if (permille == last_permille || (!tty && permille % 100 != 0)) return;
      last_permille = permille;
      double secs = std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start)
                        .count();
      double mib = p.bytes_done / 1048576.0;
      std::fprintf(stderr, "%schecking %5.1f%%  %u/%u pieces  %.0f MiB/s%s",
                   tty ? "\r" : "", permille / 10.0, p.pieces_done,
                   p.pieces_total, secs > 0 ? mib / secs : 0.0,
                   tty ? "" : "\n");
      std::fflush(stderr);
    };
  }
  absl::StatusOr<storage::CheckResult> r =
      storage::CheckDirectory(*torrent, positional[1], options);
  double secs = std::chrono::duration<double>(
                    std::chrono::steady_clock::now() - start)
                    .count();
  if (!quiet && tty) std::fprintf(stderr, "\n");
  if (!r.ok()) {
    std::fprintf(stderr, "bt check: %s\n",
                 std::string(r.status().message()).c_str());
    return 2;
  }
  std::printf("%s (%s): %u of %u pieces pass, %u fail; %.1f MiB in %.2f s\n",
              torrent->name().c_str(), VersionName(torrent->version()),
              r->passed, torrent->num_pieces(), r->failed,
              r->bytes_read / 1048576.0, secs);
  if (r->failed > 0) {
    std::printf("failed pieces:");
    int shown = 0;
    for (uint32_t p = 0; p < torrent->num_pieces() && shown < 50; ++p) {
      if (r->checked.Get(p) && !r->have.Get(p)) {
        std::printf(" %u", p);
        ++shown;
      }
    }
    std::printf(r->failed > 50 ? " ...\n" : "\n");
  }
  return r->failed == 0 && r->passed == torrent->num_pieces() ? 0 : 1;
}

}  // namespace bt::client
