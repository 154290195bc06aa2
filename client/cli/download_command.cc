// `bt download TORRENT|MAGNET -o DIR [--port N] [--bind ADDR[:PORT]]...
//              [--peer HOST:PORT]...
//              [--encryption disabled|enabled|forced]
//              [--transport auto|tcp|utp] [--seed] [--sequential]
//              [--priority INDEX=LEVEL]... [--upload-rate BYTES]...`
// `bt seed TORRENT DIR [--superseed] [--port N] [--peer HOST:PORT]...
//          [--encryption ...]`
// (the flags both share: transfer_flags.h).
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

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/cli/command.h"
#include "client/cli/common.h"
#include "client/cli/transfer_flags.h"
#include "client/client.h"
#include "metainfo/magnet.h"
#include "metainfo/torrent_info.h"

namespace bt::client::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted = true; }

void DeclareDownload(FlagSet& flags, TransferArgs& a) {
  flags.String("TORRENT|MAGNET", &a.torrent,
               "a torrent file, or a magnet link (magnet:?...)");
  flags.String("-o DIR", &a.dir, "the directory to save into").Required();
  flags.Bool("--seed", &a.keep_seeding,
             "keep seeding once complete, until Ctrl-C");
  flags.Bool("--sequential", &a.sequential,
             "download pieces in order (for streaming), rarest first only "
             "among the next few");
  flags.Parsed("--priority INDEX=LEVEL", &a.priorities, ParseFilePriority,
               "a file's priority (files are numbered from 0 in the "
               "torrent's order, pad files included): skip, low, normal or "
               "high, or 0 to 7; higher files are fetched first");
  DeclareTransferFlags(flags, a);
}

void DeclareSeed(FlagSet& flags, TransferArgs& a) {
  flags.String("TORRENT", &a.torrent, "the torrent file");
  flags.String("DIR", &a.dir, "the directory holding the data");
  flags.Bool("--superseed", &a.super_seed,
             "super-seed (BEP 16), for an initial seed: tell peers we have "
             "nothing and show each a piece or two at a time, so that every "
             "piece is uploaded about once and the peers spread it");
  DeclareTransferFlags(flags, a);
}

std::string Eta(double seconds) {
  if (seconds < 0 || seconds > 99 * 3600) return "--:--";
  int s = static_cast<int>(seconds);
  return s >= 3600
             ? absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
             : absl::StrFormat("%d:%02d", s / 60, s % 60);
}

// ProgressLine renders "[#####.....]  42.1%  3.2 MiB/s  4 peers  ETA 0:12".
std::string ProgressLine(const Torrent& t) {
  if (auto [got, total] = t.piece_layer_progress(); total > 0) {
    return absl::StrFormat(
        "fetching piece layers: %d of %d hash ranges, %d peers", got, total,
        static_cast<int>(t.peers().size()));
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
  std::string bar =
      std::string(filled, '#') + std::string(kWidth - filled, '.');
  const double rate =
      t.state() == TorrentState::kSeeding ? t.upload_rate() : t.download_rate();
  const double eta = rate > 1 ? double(wanted - done) / rate : -1;
  return absl::StrFormat(
      "[%s] %5.1f%%  %s %10s/s  %2d peers  %s  ETA %s", bar, fraction * 100,
      t.state() == TorrentState::kSeeding ? "up" : "down", HumanBytes(rate, 1),
      static_cast<int>(t.peers().size()), TorrentStateName(t.state()),
      t.state() == TorrentState::kSeeding ? "-" : Eta(eta));
}

// DefaultResumePath is DIR/.btkit/<info-hash>.resume (creating .btkit), or
// "" when the torrent's info-hash cannot be read.
std::string DefaultResumePath(const TransferArgs& a) {
  std::optional<Sha1Hash> hash;
  if (absl::StartsWith(a.torrent, "magnet:")) {
    absl::StatusOr<metainfo::MagnetLink> link =
        metainfo::ParseMagnet(a.torrent);
    if (link.ok()) {
      hash = link->info_hash_v1
                 ? *link->info_hash_v1
                 : Sha1Hash::FromBytes(link->info_hash_v2->span());
    }
  } else {
    absl::StatusOr<metainfo::TorrentInfo> info = ReadTorrentFile(a.torrent);
    if (info.ok()) hash = info->WireInfoHash();
  }
  if (!hash) return "";
  std::filesystem::create_directories(a.dir + "/.btkit");
  return absl::StrFormat("%s/.btkit/%s.resume", a.dir, hash->ToHex());
}

// OpenClient restores the client from --state when that file exists (with
// everything the last run had), else creates one from the flags.
absl::StatusOr<std::unique_ptr<Client>> OpenClient(const TransferArgs& a) {
  const ClientOptions options = TransferClientOptions(a);
  if (a.state.empty() || !std::filesystem::exists(a.state)) {
    return Client::Create(options);
  }
  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Restore(a.state, nullptr, options);
  if (!client.ok()) return client;
  std::fprintf(stderr, "restored %zu torrents from %s\n",
               (*client)->torrents().size(), a.state.c_str());
  // Rate limits given now win over the saved ones.
  if (a.upload_rate || a.download_rate) {
    (*client)->SetRateLimits(
        a.upload_rate.value_or((*client)->options().upload_rate_limit),
        a.download_rate.value_or((*client)->options().download_rate_limit));
  }
  return client;
}

// AddTorrent adds the torrent, or finds it among those a state file
// restored (then already loaded and perhaps started: `*running`).
absl::StatusOr<Torrent*> AddTorrent(Client& client, const TransferArgs& a,
                                    bool* running) {
  TorrentParams params;
  const bool magnet = absl::StartsWith(a.torrent, "magnet:");
  (magnet ? params.magnet : params.torrent_path) = a.torrent;
  params.save_path = a.dir;
  params.peers = a.peers;
  params.start = false;
  params.sequential = a.sequential;
  params.super_seeding = a.super_seed;
  params.file_priorities = a.priorities;
  params.resume_path = a.resume.empty() ? DefaultResumePath(a) : a.resume;
  absl::StatusOr<Torrent*> added = client.AddTorrent(params);
  *running = false;
  if (added.ok() || added.status().code() != absl::StatusCode::kAlreadyExists) {
    return added;
  }
  for (Torrent* t : client.torrents()) {
    if (t->save_path() != a.dir) continue;
    *running = t->state() != TorrentState::kStopped;
    for (const Endpoint& p : a.peers) t->AddPeer(p, PeerSet::Source::kUser);
    if (a.sequential) t->SetSequential(true);
    if (a.super_seed) t->SetSuperSeeding(true);
    return t;
  }
  return added;
}

void PrintStart(const Torrent& t, uint16_t port) {
  if (t.has_metadata()) {
    std::fprintf(stderr, "%s: %u pieces of %s, listening on port %u\n",
                 t.name().c_str(), t.info().num_pieces(),
                 HumanBytes(double(t.info().piece_length()), 1).c_str(), port);
  } else {
    std::fprintf(stderr,
                 "%s: fetching metadata from peers, listening on port %u\n",
                 t.name().c_str(), port);
  }
}

// PrintLsd says where local service discovery runs, and where it was
// asked for but could not start, why.
void PrintLsd(Client& client, const Torrent& t) {
  for (LsdNode* lsd : client.lsd_nodes()) {
    std::fprintf(stderr, "local service discovery on %s%s\n",
                 lsd->group().ToString().c_str(),
                 t.is_private() ? " (not for this private torrent)" : "");
  }
  for (const absl::Status& why : client.lsd_errors()) {
    std::fprintf(stderr, "local service discovery off: %s\n",
                 std::string(why.message()).c_str());
  }
}

// Transfer runs the client until the download completes (unless seeding),
// an error or Ctrl-C, with a progress line on stderr; returns the exit
// status. A download that completes says so ("done: ...") even when it
// keeps seeding.
int Transfer(const char* command, Client& client, Torrent& t, bool until_done) {
  const bool tty = isatty(STDERR_FILENO);
  absl::Time next_print = absl::InfinitePast();
  const absl::Time started = absl::Now();
  bool announce_done = until_done || !t.complete();
  while (!g_interrupted) {
    if (absl::Status s = client.DoOneLoop(0.2); !s.ok()) {
      std::fputc('\n', stderr);
      return Fail(command, s);
    }
    if (t.state() == TorrentState::kError) {
      std::fputc('\n', stderr);
      return Fail(command, t.error());
    }
    const absl::Time now = absl::Now();
    const bool done = announce_done && t.complete();
    if (now >= next_print || done) {
      next_print = now + (tty ? absl::Milliseconds(250) : absl::Seconds(2));
      std::fprintf(stderr, tty ? "\r%s\033[K" : "%s\n",
                   ProgressLine(t).c_str());
      std::fflush(stderr);
    }
    if (done) {
      double secs = std::max(absl::ToDoubleSeconds(now - started), 0.001);
      std::fprintf(stderr, "%sdone: %s verified in %.1f s (%s/s)%s\n",
                   tty ? "\n" : "",
                   HumanBytes(double(t.bytes_wanted()), 1).c_str(), secs,
                   HumanBytes(double(t.downloaded()) / secs, 1).c_str(),
                   until_done ? "" : ", seeding until Ctrl-C");
      std::fflush(stderr);
      if (until_done) return 0;
      announce_done = false;
    }
  }
  std::fprintf(stderr, "\ninterrupted: %u of %u pieces verified\n",
               t.pieces_have(), t.info().num_pieces());
  return t.complete() ? 0 : 130;
}

int Run(const TransferArgs& a, bool seed_only) {
  const char* command = seed_only ? "seed" : "download";
  absl::StatusOr<std::unique_ptr<Client>> client = OpenClient(a);
  if (!client.ok()) return Fail(command, client.status());
  bool running;
  absl::StatusOr<Torrent*> added = AddTorrent(**client, a, &running);
  if (!added.ok()) return Fail(command, added.status());
  Torrent& t = **added;
  PrintStart(t, (*client)->port());
  for (const std::string& why : (*client)->skipped_addresses()) {
    std::fprintf(stderr, "not listening on %s\n", why.c_str());
  }
  PrintLsd(**client, t);
  if (!running) {
    std::fprintf(stderr, "checking existing data...\n");
    if (absl::Status s = t.LoadState(); !s.ok()) return Fail(command, s);
    if (absl::Status s = t.Start(); !s.ok()) return Fail(command, s);
  }
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  const int status =
      Transfer(command, **client, t, !seed_only && !a.keep_seeding);
  if (!a.state.empty()) {
    if (absl::Status s = (*client)->SaveState(a.state); !s.ok()) {
      Fail(command, s);
    }
  }
  std::fprintf(stderr, "totals: uploaded %lld bytes, downloaded %lld bytes\n",
               static_cast<long long>(t.uploaded()),
               static_cast<long long>(t.downloaded()));
  (void)t.Stop();
  (void)(*client)->FinishStopAnnounces(absl::Milliseconds(500));
  return status;
}

int RunDownload(const TransferArgs& a) { return Run(a, false); }
int RunSeed(const TransferArgs& a) { return Run(a, true); }

constexpr char kDownloadDescription[] =
    "Shows a progress bar (percent, rate, peers, ETA) and exits 0 once every\n"
    "piece is verified; Ctrl-C stops cleanly. Resume data lets a second run\n"
    "continue where the first stopped, even after a crash.";
constexpr char kSeedDescription[] =
    "Checks the data, then seeds it with a progress line until Ctrl-C.";

[[maybe_unused]] const bool kDownloadRegistered =
    RegisterCommand(MakeCommand<TransferArgs>(
        {"download", "download a torrent or magnet link", kDownloadDescription,
         DeclareDownload, RunDownload}));
[[maybe_unused]] const bool kSeedRegistered = RegisterCommand(
    MakeCommand<TransferArgs>({"seed", "seed a torrent's data",
                               kSeedDescription, DeclareSeed, RunSeed}));

}  // namespace
}  // namespace bt::client::cli
