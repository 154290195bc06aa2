// `bt create PATH -o OUT.torrent [--v1|--v2|--hybrid] [--piece-size BYTES]
//  [--tracker URL]... [--web-seed URL]... [--private] [--threads N]
//  [--comment TEXT] [--read-size BYTES] [--mmap] [--quiet]`: makes a
// .torrent of a file or directory, with a progress bar on stderr. Each
// --tracker starts a new tier; URLs joined by commas in one --tracker share
// a tier. The default is hybrid.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "client/cli/command.h"
#include "client/cli/common.h"
#include "metainfo/torrent_creator.h"
#include "metainfo/torrent_info.h"

namespace bt::client::cli {
namespace {

struct CreateArgs {
  std::string path;
  std::string out;
  std::vector<std::string> trackers;  // one tier each, URLs joined by commas
  bool quiet = false;
  metainfo::CreateOptions options;
};

void DeclareCreate(FlagSet& flags, CreateArgs& a) {
  using metainfo::TorrentVersion;
  metainfo::CreateOptions& o = a.options;
  flags.String("PATH", &a.path, "the file or directory to describe");
  flags.String("-o, --output OUT.torrent", &a.out, "where to write the torrent")
      .Required();
  flags.Switch("--v1", &o.version, TorrentVersion::kV1, "a v1-only torrent");
  flags.Switch("--v2", &o.version, TorrentVersion::kV2, "a v2-only torrent");
  flags.Switch("--hybrid", &o.version, TorrentVersion::kHybrid,
               "a hybrid v1+v2 torrent (the default)");
  flags.Int("--piece-size BYTES", &o.piece_length, "piece length")
      .Positive()
      .DefaultText("picked from the total size");
  flags.Repeated("--tracker URL", &a.trackers,
                 "a tracker tier; URLs joined by commas share one");
  flags.Repeated("--web-seed URL", &o.web_seeds, "a web seed (BEP 19)");
  flags.Bool("--private", &o.is_private, "mark the torrent private (BEP 27)");
  flags.Int("--threads N", &o.threads, "hashing threads")
      .Positive()
      .DefaultText("one per core");
  flags.String("--comment TEXT", &o.comment, "the torrent's comment");
  flags.Int("--read-size BYTES", &o.read_size, "bytes per read").Positive();
  flags.Bool("--mmap", &o.use_mmap, "read the files through mmap");
  flags.Bool("--quiet, -q", &a.quiet, "no progress on stderr");
}

void DrawBar(int64_t done, int64_t total, double seconds) {
  const int kWidth = 40;
  double frac = total > 0 ? static_cast<double>(done) / total : 1.0;
  int fill = static_cast<int>(frac * kWidth);
  std::string bar(fill, '#');
  bar.append(kWidth - fill, '-');
  double mib = done / 1048576.0;
  std::fprintf(stderr, "\rhashing [%s] %5.1f%%  %.0f MiB  %.0f MiB/s",
               bar.c_str(), frac * 100, mib, seconds > 0 ? mib / seconds : 0.0);
  std::fflush(stderr);
}

// Report tells what was written and the info-hashes, on stderr.
void Report(const std::string& out, const std::string& torrent,
            double seconds) {
  std::fprintf(stderr, "wrote %s (%zu bytes) in %.2f s\n", out.c_str(),
               torrent.size(), seconds);
  absl::StatusOr<metainfo::TorrentInfo> t =
      metainfo::TorrentInfo::Parse(torrent);
  if (!t.ok()) return;
  if (t->info_hash_v1()) {
    std::fprintf(stderr, "info-hash v1: %s\n",
                 t->info_hash_v1()->ToHex().c_str());
  }
  if (t->info_hash_v2()) {
    std::fprintf(stderr, "info-hash v2: %s\n",
                 t->info_hash_v2()->ToHex().c_str());
  }
}

int RunCreate(const CreateArgs& a) {
  metainfo::CreateOptions options = a.options;
  for (const std::string& tier : a.trackers) {
    options.trackers.push_back(absl::StrSplit(tier, ',', absl::SkipEmpty()));
  }
  options.creation_date = static_cast<int64_t>(std::time(nullptr));
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  int last_permille = -1;
  if (!a.quiet) {
    options.progress = [&](int64_t done, int64_t total) {
      int permille = total > 0 ? static_cast<int>(done * 1000 / total) : 1000;
      if (permille == last_permille) return;
      last_permille = permille;
      DrawBar(done, total, elapsed());
    };
  }
  absl::StatusOr<std::string> torrent =
      metainfo::CreateTorrent(a.path, options);
  if (!a.quiet && last_permille >= 0) std::fputc('\n', stderr);
  if (!torrent.ok()) return Fail("create", torrent.status());
  if (absl::Status s = WriteFileAtomically(a.out, *torrent); !s.ok()) {
    return Fail("create", s);
  }
  if (!a.quiet) Report(a.out, *torrent, elapsed());
  return 0;
}

[[maybe_unused]] const bool kRegistered =
    RegisterCommand(MakeCommand<CreateArgs>(
        {"create", "make a .torrent of a file or directory",
         "Hashes PATH with a progress bar on stderr and writes OUT.torrent.",
         DeclareCreate, RunCreate}));

}  // namespace
}  // namespace bt::client::cli
