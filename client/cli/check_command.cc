// `bt check FILE.torrent DIR [--threads N] [--read-size BYTES] [--quiet]`:
// hash-checks the torrent's data under DIR (the directory holding the
// torrent's name), with a progress bar on stderr, and prints the result.
// Exit status 0 only when every piece passes, 1 when some fail, 2 on bad
// usage or an unreadable torrent.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include "client/cli/command.h"
#include "client/cli/common.h"
#include "metainfo/torrent_info.h"
#include "storage/hash_checker.h"

namespace bt::client::cli {
namespace {

struct CheckArgs {
  std::string torrent;
  std::string dir;
  bool quiet = false;
  storage::CheckOptions options;
};

void DeclareCheck(FlagSet& flags, CheckArgs& a) {
  flags.String("FILE.torrent", &a.torrent, "the torrent to check against");
  flags.String("DIR", &a.dir, "the directory holding the torrent's name");
  flags
      .Int("--threads N", &a.options.threads,
           "hashing threads; 0 uses one per core")
      .Min(0);
  flags.Int("--read-size BYTES", &a.options.read_size, "bytes per read")
      .Positive();
  flags.Bool("--quiet", &a.quiet, "no progress on stderr");
}

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ProgressPrinter draws "checking  42.0%  7/16 pieces  900 MiB/s" on stderr:
// redrawn in place on a terminal, else one line per 10%.
std::function<void(const storage::CheckProgress&)> ProgressPrinter(
    bool tty, Clock::time_point start) {
  return [tty, start,
          last_permille = -1](const storage::CheckProgress& p) mutable {
    int permille = p.bytes_total > 0
                       ? static_cast<int>(p.bytes_done * 1000 / p.bytes_total)
                       : 1000;
    if (permille == last_permille || (!tty && permille % 100 != 0)) return;
    last_permille = permille;
    double secs = SecondsSince(start);
    double mib = p.bytes_done / 1048576.0;
    std::fprintf(stderr, "%schecking %5.1f%%  %u/%u pieces  %.0f MiB/s%s",
                 tty ? "\r" : "", permille / 10.0, p.pieces_done,
                 p.pieces_total, secs > 0 ? mib / secs : 0.0, tty ? "" : "\n");
    std::fflush(stderr);
  };
}

// PrintResult prints the summary line and the first 50 failed pieces.
void PrintResult(const metainfo::TorrentInfo& torrent,
                 const storage::CheckResult& r, double secs) {
  std::printf("%s (%s): %u of %u pieces pass, %u fail; %.1f MiB in %.2f s\n",
              torrent.name().c_str(),
              metainfo::TorrentVersionName(torrent.version()), r.passed,
              torrent.num_pieces(), r.failed, r.bytes_read / 1048576.0, secs);
  if (r.failed == 0) return;
  std::printf("failed pieces:");
  int shown = 0;
  for (uint32_t p = 0; p < torrent.num_pieces() && shown < 50; ++p) {
    if (r.checked.Get(p) && !r.have.Get(p)) {
      std::printf(" %u", p);
      ++shown;
    }
  }
  std::printf(r.failed > 50 ? " ...\n" : "\n");
}

int RunCheck(const CheckArgs& a) {
  absl::StatusOr<metainfo::TorrentInfo> torrent = ReadTorrentFile(a.torrent);
  if (!torrent.ok()) return Fail("check", torrent.status(), 2);
  const bool tty = isatty(STDERR_FILENO);
  const Clock::time_point start = Clock::now();
  storage::CheckOptions options = a.options;
  if (!a.quiet) options.on_progress = ProgressPrinter(tty, start);
  absl::StatusOr<storage::CheckResult> r =
      storage::CheckDirectory(*torrent, a.dir, options);
  const double secs = SecondsSince(start);
  if (!a.quiet && tty) std::fprintf(stderr, "\n");
  if (!r.ok()) return Fail("check", r.status(), 2);
  PrintResult(*torrent, *r, secs);
  return r->failed == 0 && r->passed == torrent->num_pieces() ? 0 : 1;
}

[[maybe_unused]] const bool kRegistered = RegisterCommand(MakeCommand<
                                                          CheckArgs>(
    {"check", "hash-check downloaded data",
     "Hash-checks the data with a progress bar on stderr. Exits 0 when every\n"
     "piece passes, 1 when some fail, 2 when the torrent cannot be read.",
     DeclareCheck, RunCheck}));

}  // namespace
}  // namespace bt::client::cli
