// `bt create PATH -o OUT.torrent [--v1|--v2|--hybrid] [--piece-size BYTES]
//  [--tracker URL]... [--web-seed URL]... [--private] [--threads N]
//  [--comment TEXT] [--read-size BYTES] [--mmap] [--quiet]`: makes a
// .torrent of a file or directory, with a progress bar on stderr. Each
// --tracker starts a new tier; URLs joined by commas in one --tracker share
// a tier. The default is hybrid.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "metainfo/torrent_creator.h"
#include "metainfo/torrent_info.h"

namespace bt::client {

namespace {

constexpr char kUsage[] =
    "usage: bt create PATH -o OUT.torrent [--v1|--v2|--hybrid] "
    "[--piece-size BYTES] [--tracker URL]... [--web-seed URL]... [--private] "
    "[--threads N] [--comment TEXT] [--read-size BYTES] [--mmap] "
    "[--quiet]\n";

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
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

}  // namespace

int RunCreateCommand(const std::vector<std::string>& args) {
  std::string path, out;
  bool quiet = false;
  metainfo::CreateOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= args.size()) return false;
      *v = args[++i];
      return true;
    };
    std::string v;
    if (a == "-o" || a == "--output") {
      if (!value(&out)) return std::fprintf(stderr, "%s", kUsage), 2;
    } else if (a == "--v1") {
      options.version = metainfo::TorrentVersion::kV1;
    } else if (a == "--v2") {
      options.version = metainfo::TorrentVersion::kV2;
    } else if (a == "--hybrid") {
      options.version = metainfo::TorrentVersion::kHybrid;
    } else if (a == "--piece-size") {
      if (!value(&v) || !absl::SimpleAtoi(v, &options.piece_length) ||
          options.piece_length <= 0) {
        std::fprintf(
            stderr,
            "bt create: --piece-size needs a positive number of bytes\n");
        return 2;
      }
    } else if (a == "--tracker") {
      if (!value(&v)) return std::fprintf(stderr, "%s", kUsage), 2;
      options.trackers.push_back(SplitCommas(v));
    } else if (a == "--web-seed") {
      if (!value(&v)) return std::fprintf(stderr, "%s", kUsage), 2;
      options.web_seeds.push_back(v);
    } else if (a == "--private") {
      options.is_private = true;
    } else if (a == "--threads") {
      if (!value(&v) || !absl::SimpleAtoi(v, &options.threads) ||
          options.threads <= 0) {
        std::fprintf(stderr, "bt create: --threads needs a positive number\n");
        return 2;
      }
    } else if (a == "--comment") {
      if (!value(&options.comment))
        return std::fprintf(stderr, "%s", kUsage), 2;
    } else if (a == "--mmap") {
      options.use_mmap = true;
    } else if (a == "--read-size") {
      if (!value(&v) || !absl::SimpleAtoi(v, &options.read_size) ||
          options.read_size <= 0) {
        std::fprintf(
            stderr,
            "bt create: --read-size needs a positive number of bytes\n");
        return 2;
      }
    } else if (a == "--quiet" || a == "-q") {
      quiet = true;
    } else if (path.empty() && !a.empty() && a[0] != '-') {
      path = a;
    } else {
      std::fprintf(stderr, "bt create: unexpected argument '%s'\n%s", a.c_str(),
                   kUsage);
      return 2;
    }
  }
  if (path.empty() || out.empty()) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  options.creation_date = static_cast<int64_t>(std::time(nullptr));
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  int last_permille = -1;
  if (!quiet) {
    options.progress = [&](int64_t done, int64_t total) {
      int permille = total > 0 ? static_cast<int>(done * 1000 / total) : 1000;
      if (permille == last_permille) return;
      last_permille = permille;
      DrawBar(done, total, elapsed());
    };
  }
  auto torrent = metainfo::CreateTorrent(path, options);
  if (!quiet && last_permille >= 0) std::fputc('\n', stderr);
  if (!torrent.ok()) {
    std::fprintf(stderr, "bt create: %s\n",
                 std::string(torrent.status().message()).c_str());
    return 1;
  }
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  file.write(torrent->data(), static_cast<std::streamsize>(torrent->size()));
  file.close();
  if (!file) {
    std::fprintf(stderr, "bt create: cannot write %s\n", out.c_str());
    return 1;
  }
  if (!quiet) {
    std::fprintf(stderr, "wrote %s (%zu bytes) in %.2f s\n", out.c_str(),
                 torrent->size(), elapsed());
    if (auto t = metainfo::TorrentInfo::Parse(*torrent); t.ok()) {
      if (t->info_hash_v1()) {
        std::fprintf(stderr, "info-hash v1: %s\n",
                     t->info_hash_v1()->ToHex().c_str());
      }
      if (t->info_hash_v2()) {
        std::fprintf(stderr, "info-hash v2: %s\n",
                     t->info_hash_v2()->ToHex().c_str());
      }
    }
  }
  return 0;
}

}  // namespace bt::client
