// `bt download TORRENT|MAGNET -o DIR [--port N] [--peer HOST:PORT]...
//              [--encryption disabled|enabled|forced] [--seed]`
// `bt seed TORRENT DIR [--port N] [--peer HOST:PORT]... [--encryption ...]`
// Both keep resume data (--resume FILE, default DIR/.btkit/<info-hash>.resume)
// so a second run continues where the first stopped, even after a crash.
// With --state FILE the whole client (its torrents, DHT identity and
// settings) is saved on exit and restored at the next start.
//
// Downloads (or seeds) one torrent with a progress bar: percent, rate,
// peers, ETA. Ctrl-C stops cleanly. `bt download` exits 0 once every piece
// is verified (unless --seed, which keeps seeding until Ctrl-C).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "metainfo/magnet.h"
#include "metainfo/torrent_info.h"

namespace bt::client {
namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted = true; }

struct TransferArgs {
  std::string torrent;
  std::string dir;
  ClientOptions options;
  std::vector<Endpoint> peers;
  bool keep_seeding = false;
  std::string resume;  // resume data file; "" picks DIR/.btkit/<hash>.resume
  std::string state;   // client-wide state file (--state), "" for none
};

std::string HumanBytes(double n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (n >= 1024 && u < 4) {
    n /= 1024;
    ++u;
  }
  return absl::StrFormat(u == 0 ? "%.0f %s" : "%.1f %s", n, units[u]);
}

std::string Eta(double seconds) {
  if (seconds < 0 || seconds > 99 * 3600) return "--:--";
  int s = static_cast<int>(seconds);
  return s >= 3600 ? absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                   : absl::StrFormat("%d:%02d", s / 60, s % 60);
}

// ProgressLine renders "[#####.....]  42.1%  3.2 MiB/s  4 peers  ETA 0:12".
std::string ProgressLine(const Torrent& t) {
  if (auto [got, total] = t.piece_layer_progress(); total > 0) {
    return absl::StrFormat("fetching piece layers: %d of %d hash ranges, %d peers",
                           got, total, static_cast<int>(t.peers().size()));
  }
  if (!t.has_metadata()) {
    auto [got, total] = t.metadata_progress();
    return absl::StrFormat("fetching metadata: %d of %d pieces, %d peers", got,
                           total, static_cast<int>(t.peers().size()));
  }
  const int64_t wanted = t.bytes_wanted(), done = t.bytes_done();
  const double fraction = wanted > 0 ? double(done) / double(wanted) : 1.0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  const double rate = t.state() == TorrentState::kSeeding ? t.upload_rate()
                                                          : t.download_rate();
  const double eta = rate > 1 ? double(wanted - done) / rate : -1;
  return absl::StrFormat(
      "[%s] %5.1f%%  %s %10s/s  %2d peers  %s  ETA %s", bar, fraction * 100,
      t.state() == TorrentState::kSeeding ? "up" : "down", HumanBytes(rate),
      static_cast<int>(t.peers().size()), TorrentStateName(t.state()),
      t.state() == TorrentState::kSeeding ? "-" : Eta(eta));
}

bool ParseCommon(const std::vector<std::string>& args, size_t* i,
                 TransferArgs* out, std::string* error) {
  const std::string& a = args[*i];
  auto value = [&]() -> const std::string* {
    if (*i + 1 >= args.size()) {
      *error = a + " needs a value";
      return nullptr;
    }
    return &args[++*i];
  };
  if (a == "--port") {
    const std::string* v = value();
    uint32_t port;
    if (!v || !absl::SimpleAtoi(*v, &port) || port > 65535) {
      if (v) *error = "bad --port " + *v;
      return false;
    }
    out->options.local_ports = {static_cast<uint16_t>(port)};
  } else if (a == "--peer") {
    const std::string* v = value();
    if (!v) return false;
    absl::StatusOr<Endpoint> e = Endpoint::Parse(*v);
    if (!e.ok()) {
      *error = std::string(e.status().message());
      return false;
    }
    out->peers.push_back(*e);
  } else if (a == "--encryption") {
    const std::string* v = value();
    if (!v) return false;
    if (*v == "disabled") {
      out->options.encryption = protocol::EncryptionPolicy::kDisabled;
    } else if (*v == "enabled") {
      out->options.encryption = protocol::EncryptionPolicy::kEnabled;
    } else if (*v == "forced") {
      out->options.encryption = protocol::EncryptionPolicy::kForced;
    } else {
      *error = "--encryption must be disabled, enabled or forced";
      return false;
    }
  } else if (a == "--state") {
    const std::string* v = value();
    if (!v) return false;
    out->state = *v;
  } else if (a == "--resume") {
    const std::string* v = value();
    if (!v) return false;
    out->resume = *v;
  } else if (a == "--bind") {
    const std::string* v = value();
    if (!v) return false;
    out->options.local_host = *v;
  } else {
    *error = "unexpected argument " + a;
    return false;
  }
  return true;
}

int Run(TransferArgs args, bool seed_only) {
  const bool magnet = absl::StartsWith(args.torrent, "magnet:");
  if (args.resume.empty()) {
    // The default lives beside the data, named after the torrent.
    std::optional<Sha1Hash> hash;
    if (magnet) {
      absl::StatusOr<metainfo::MagnetLink> link =
          metainfo::ParseMagnet(args.torrent);
      if (link.ok()) {
        hash = link->info_hash_v1
                   ? *link->info_hash_v1
                   : Sha1Hash::FromBytes(link->info_hash_v2->span());
      }
    } else {
      std::ifstream in(args.torrent, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)),
                        std::istreambuf_iterator<char>());
      absl::StatusOr<metainfo::TorrentInfo> info =
          metainfo::TorrentInfo::Parse(bytes);
      if (info.ok()) hash = info->WireInfoHash();
    }
    if (hash) {
      std::filesystem::create_directories(args.dir + "/.btkit");
      args.resume =
          absl::StrFormat("%s/.btkit/%s.resume", args.dir, hash->ToHex());
    }
  }
  // With --state, everything the last run had comes back first.
  const bool restore = !args.state.empty() && std::filesystem::exists(args.state);
  absl::StatusOr<std::unique_ptr<Client>> client =
      restore ? Client::Restore(args.state) : Client::Create(args.options);
  if (!client.ok()) {
    std::fprintf(stderr, "bt: %s\n", std::string(client.status().message()).c_str());
    return 1;
  }
  if (restore) {
    std::fprintf(stderr, "restored %zu torrents from %s\n",
                 (*client)->torrents().size(), args.state.c_str());
  }
  TorrentParams params;
  (magnet ? params.magnet : params.torrent_path) = args.torrent;
  params.save_path = args.dir;
  params.peers = args.peers;
  params.start = false;
  params.resume_path = args.resume;
  absl::StatusOr<Torrent*> added = (*client)->AddTorrent(params);
  Torrent* t = nullptr;
  bool running = false;
  if (!added.ok() && added.status().code() == absl::StatusCode::kAlreadyExists) {
    // Restored from the state file: already loaded (and started).
    for (Torrent* x : (*client)->torrents()) {
      if (x->save_path() == args.dir) t = x;
    }
    running = t && t->state() != TorrentState::kStopped;
    for (const Endpoint& p : args.peers) {
      if (t) t->AddPeer(p);
    }
  } else if (added.ok()) {
    t = *added;
  }
  if (!t) {
    std::fprintf(stderr, "bt: %s\n", std::string(added.status().message()).c_str());
    return 1;
  }
  if (t->has_metadata()) {
    std::fprintf(stderr, "%s: %u pieces of %s, listening on port %u\n",
                 t->name().c_str(), t->info().num_pieces(),
                 HumanBytes(double(t->info().piece_length())).c_str(),
                 (*client)->port());
  } else {
    std::fprintf(stderr, "%s: fetching metadata from peers, listening on port %u\n",
                 t->name().c_str(), (*client)->port());
  }
  if (!running) {
    std::fprintf(stderr, "checking existing data...\n");
    if (absl::Status s = t->LoadState(); !s.ok()) {
      std::fprintf(stderr, "bt: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    if (absl::Status s = t->Start(); !s.ok()) {
      std::fprintf(stderr, "bt: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  const bool tty = isatty(STDERR_FILENO);
  absl::Time next_print = absl::InfinitePast();
  const absl::Time started = absl::Now();
  int status = 0;
  while (!g_interrupted) {
    if (absl::Status s = (*client)->DoOneLoop(0.2); !s.ok()) {
      std::fprintf(stderr, "\nbt: %s\n", std::string(s.message()).c_str());
      status = 1;
      break;
    }
    if (t->state() == TorrentState::kError) {
      std::fprintf(stderr, "\nbt: %s\n", std::string(t->error().message()).c_str());
      status = 1;
      break;
    }
    const absl::Time now = absl::Now();
    const bool done = t->complete() && !seed_only && !args.keep_seeding;
    if (now >= next_print || done) {
      next_print = now + (tty ? absl::Milliseconds(250) : absl::Seconds(2));
      std::fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", ProgressLine(*t).c_str());
      std::fflush(stderr);
    }
    if (done) {
      double secs = absl::ToDoubleSeconds(absl::Now() - started);
      std::fprintf(stderr, "%sdone: %s verified in %.1f s (%s/s)\n",
                   tty ? "\n" : "", HumanBytes(double(t->bytes_wanted())).c_str(),
                   secs, HumanBytes(double(t->downloaded()) / std::max(secs, 0.001)).c_str());
      break;
    }
  }
  if (g_interrupted) {
    std::fprintf(stderr, "\ninterrupted: %u of %u pieces verified\n",
                 t->pieces_have(), t->info().num_pieces());
    status = t->complete() ? 0 : 130;
  }
  if (!args.state.empty()) {
    if (absl::Status st = (*client)->SaveState(args.state); !st.ok()) {
      std::fprintf(stderr, "bt: %s\n", std::string(st.message()).c_str());
    }
  }
  (void)t->Stop();
  // Let "stopped" announces go out.
  for (int i = 0; i < 10; ++i) (void)(*client)->DoOneLoop(0.05);
  return status;
}

}  // namespace

int RunDownloadCommand(const std::vector<std::string>& args) {
  TransferArgs parsed;
  std::string error;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-o" && i + 1 < args.size()) {
      parsed.dir = args[++i];
    } else if (args[i] == "--seed") {
      parsed.keep_seeding = true;
    } else if (!args[i].empty() && args[i][0] != '-' && parsed.torrent.empty()) {
      parsed.torrent = args[i];
    } else if (!ParseCommon(args, &i, &parsed, &error)) {
      std::fprintf(stderr, "bt download: %s\n", error.c_str());
      return 2;
    }
  }
  if (parsed.torrent.empty() || parsed.dir.empty()) {
    std::fprintf(stderr,
                 "usage: bt download TORRENT|MAGNET -o DIR [--port N] "
                 "[--peer HOST:PORT]... [--encryption disabled|enabled|forced] "
                 "[--seed]\n");
    return 2;
  }
  return Run(std::move(parsed), false);
}

int RunSeedCommand(const std::vector<std::string>& args) {
  TransferArgs parsed;
  std::string error;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].empty() && args[i][0] != '-' && parsed.torrent.empty()) {
      parsed.torrent = args[i];
    } else if (!args[i].empty() && args[i][0] != '-' && parsed.dir.empty()) {
      parsed.dir = args[i];
    } else if (!ParseCommon(args, &i, &parsed, &error)) {
      std::fprintf(stderr, "bt seed: %s\n", error.c_str());
      return 2;
    }
  }
  if (parsed.torrent.empty() || parsed.dir.empty()) {
    std::fprintf(stderr,
                 "usage: bt seed TORRENT DIR [--port N] [--peer HOST:PORT]... "
                 "[--encryption disabled|enabled|forced]\n");
    return 2;
  }
  return Run(std::move(parsed), true);
}

}  // namespace bt::client
