// The torrent methods of the Transmission RPC that act on torrents:
// torrent-add, -start, -stop, -verify, -reannounce, -remove, -set and
// -set-location (torrent-get is in torrent_fields.cc).
#include <filesystem>
#include <system_error>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/status_macros.h"
#include "daemon/rpc_state.h"
#include "metainfo/magnet.h"
#include "metainfo/torrent_info.h"
#include "storage/file_priority.h"

namespace bt::daemon {
namespace {

using client::Torrent;
using client::TorrentState;

constexpr size_t kMaxTorrentFile = 16 << 20;

std::string TorrentCopyPath(const RpcState& s, const Sha1Hash& h) {
  return absl::StrCat(s.options.state_dir, "/torrents/", h.ToHex(), ".torrent");
}

std::string ResumePath(const RpcState& s, const Sha1Hash& h) {
  return absl::StrCat(s.options.state_dir, "/resume/", h.ToHex(), ".resume");
}

Json Brief(RpcState& s, Torrent* t) {
  return {{"id", s.Record(t).id},
          {"name", t->name()},
          {"hashString", t->info_hash().ToHex()}};
}

// ReadSource fills `p` from torrent-add's "metainfo" or "filename" and
// returns the info-hash.
absl::StatusOr<Sha1Hash> ReadSource(RpcState& s, const JsonArgs& a,
                                    client::TorrentParams& p) {
  std::string filename, metainfo;
  RETURN_IF_ERROR(a.String("filename", &filename));
  RETURN_IF_ERROR(a.String("metainfo", &metainfo));
  std::string bytes;
  if (!metainfo.empty()) {
    if (!absl::Base64Unescape(metainfo, &bytes)) {
      return absl::InvalidArgumentError("'metainfo' is not base64");
    }
  } else if (absl::StartsWith(filename, "magnet:")) {
    ASSIGN_OR_RETURN(metainfo::MagnetLink m, metainfo::ParseMagnet(filename));
    p.magnet = filename;
    return m.WireInfoHash();
  } else if (absl::StartsWith(filename, "http://") ||
             absl::StartsWith(filename, "https://")) {
    return absl::UnimplementedError(
        "adding a torrent by URL is not supported: send its metainfo");
  } else if (!filename.empty()) {
    ASSIGN_OR_RETURN(std::string path, s.options.roots.Check(filename));
    ASSIGN_OR_RETURN(bytes, ReadFileToString(path, kMaxTorrentFile));
  } else {
    return absl::InvalidArgumentError(
        "torrent-add needs 'filename' or 'metainfo'");
  }
  absl::StatusOr<metainfo::TorrentInfo> info =
      metainfo::TorrentInfo::Parse(bytes);
  if (!info.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid or corrupt torrent file: ", info.status().message()));
  }
  const Sha1Hash hash = info->WireInfoHash();
  if (s.Find(hash) == nullptr) {
    RETURN_IF_ERROR(MakeDirectories(s.options.state_dir + "/torrents"));
    RETURN_IF_ERROR(WriteFileAtomically(TorrentCopyPath(s, hash), bytes));
  }
  p.torrent_path = TorrentCopyPath(s, hash);
  return hash;
}

// ApplyFileArgs applies files-wanted, files-unwanted and priority-high /
// -normal / -low (file indices; an empty list means every file).
absl::Status ApplyFileArgs(Torrent* t, const JsonArgs& a) {
  static constexpr std::pair<const char*, int> kLists[] = {
      {"priority-low", storage::kFilePriorityLow},
      {"priority-normal", storage::kFilePriorityNormal},
      {"priority-high", storage::kFilePriorityHigh},
      {"files-wanted", storage::kFilePriorityNormal},
      {"files-unwanted", storage::kFilePrioritySkip},
  };
  for (const auto& [key, priority] : kLists) {
    if (!a.Has(key)) continue;
    if (!t->has_metadata()) {
      return absl::FailedPreconditionError(
          absl::StrCat("'", key, "' needs the torrent's metadata"));
    }
    std::vector<size_t> files;
    RETURN_IF_ERROR(a.Indices(key, &files, t->num_files()));
    if (files.empty()) {
      for (size_t f = 0; f < t->num_files(); ++f) files.push_back(f);
    }
    const bool wanted_only = absl::StartsWith(key, "files-wanted");
    for (size_t f : files) {
      // Wanting a file keeps its priority unless it was skipped.
      if (wanted_only && t->file_priority(f) != storage::kFilePrioritySkip)
        continue;
      RETURN_IF_ERROR(t->SetFilePriority(f, priority));
    }
  }
  return absl::OkStatus();
}

// ApplyLimits applies downloadLimit(ed) and uploadLimit(ed) (kB/s).
absl::Status ApplyLimits(RpcState& s, Torrent* t, const JsonArgs& a) {
  TorrentRecord& r = s.Record(t);
  RETURN_IF_ERROR(a.Int("downloadLimit", &r.download_limit, 0, kMaxSpeed));
  RETURN_IF_ERROR(a.Bool("downloadLimited", &r.download_limited));
  RETURN_IF_ERROR(a.Int("uploadLimit", &r.upload_limit, 0, kMaxSpeed));
  RETURN_IF_ERROR(a.Bool("uploadLimited", &r.upload_limited));
  t->SetRateLimits(r.UploadLimitBytes(), r.DownloadLimitBytes());
  return absl::OkStatus();
}

constexpr std::string_view kTorrentSetKeys[] = {
    "ids",          "files-wanted",    "files-unwanted", "priority-high",
    "priority-low", "priority-normal", "downloadLimit",  "downloadLimited",
    "uploadLimit",  "uploadLimited",
};

bool Running(const Torrent* t) {
  return t->state() != TorrentState::kStopped &&
         t->state() != TorrentState::kError;
}

}  // namespace

absl::StatusOr<std::vector<Torrent*>> SelectTorrents(RpcState& s,
                                                     const Json& args) {
  const Json* ids = JsonArgs(args).Value("ids");
  std::vector<Torrent*> all = s.client->torrents();
  if (ids == nullptr) return all;
  if (ids->is_string() && ids->get<std::string>() == "recently-active") {
    std::vector<Torrent*> active;
    const absl::Time since = absl::Now() - absl::Minutes(1);
    for (Torrent* t : all) {
      const TorrentRecord& r = s.Record(t);
      if (r.last_activity >= since || r.added >= since || r.started >= since ||
          t->download_rate() > 0 || t->upload_rate() > 0) {
        active.push_back(t);
      }
    }
    return active;
  }
  const Json list = ids->is_array() ? *ids : Json::array({*ids});
  std::vector<Torrent*> chosen;
  for (const Json& id : list) {
    Torrent* t = nullptr;
    if (id.is_number_integer()) {
      TorrentRecord* r = id.get<int64_t>() > 0 && id.get<int64_t>() < INT32_MAX
                             ? s.book.Find(static_cast<int>(id.get<int64_t>()))
                             : nullptr;
      if (r != nullptr) t = s.Find(r->info_hash);
    } else if (id.is_string()) {
      absl::StatusOr<Sha1Hash> h = Sha1Hash::FromHex(id.get<std::string>());
      if (h.ok()) t = s.Find(*h);
    } else {
      return absl::InvalidArgumentError(
          "'ids' must be ids, hash strings or \"recently-active\"");
    }
    if (t != nullptr &&
        std::find(chosen.begin(), chosen.end(), t) == chosen.end()) {
      chosen.push_back(t);
    }
  }
  return chosen;
}

absl::Status StartTorrent(RpcState& s, Torrent* t) {
  TorrentRecord& r = s.Record(t);
  if (!r.loaded) {
    RETURN_IF_ERROR(t->LoadState());
    r.loaded = true;
  }
  RETURN_IF_ERROR(t->Start());
  r.started = absl::Now();
  return absl::OkStatus();
}

absl::Status TorrentAdd(RpcState& s, const Json& args, Json& out) {
  JsonArgs a(args);
  client::TorrentParams p;
  p.start = false;
  p.save_path = s.settings->download_dir;
  std::string dir;
  RETURN_IF_ERROR(a.String("download-dir", &dir));
  if (a.Has("download-dir")) {
    ASSIGN_OR_RETURN(p.save_path, s.options.roots.Check(dir));
  }
  bool paused = !s.settings->start_added_torrents;
  RETURN_IF_ERROR(a.Bool("paused", &paused));
  ASSIGN_OR_RETURN(Sha1Hash hash, ReadSource(s, a, p));
  if (Torrent* t = s.Find(hash)) {
    out["torrent-duplicate"] = Brief(s, t);
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(MakeDirectories(p.save_path));
  RETURN_IF_ERROR(MakeDirectories(s.options.state_dir + "/resume"));
  p.resume_path = ResumePath(s, hash);
  ASSIGN_OR_RETURN(Torrent * t, s.client->AddTorrent(std::move(p)));
  s.changed = true;
  ++s.torrents_added;
  out["torrent-added"] = Brief(s, t);
  if (t->has_metadata()) RETURN_IF_ERROR(ApplyFileArgs(t, a));
  if (!paused) RETURN_IF_ERROR(StartTorrent(s, t));
  return absl::OkStatus();
}

absl::Status TorrentStart(RpcState& s, const Json& args, Json& out) {
  ASSIGN_OR_RETURN(std::vector<Torrent*> torrents, SelectTorrents(s, args));
  for (Torrent* t : torrents) {
    if (Running(t) && t->state() != TorrentState::kPaused) continue;
    s.changed = true;
    RETURN_IF_ERROR(StartTorrent(s, t));
  }
  return absl::OkStatus();
}

absl::Status TorrentStop(RpcState& s, const Json& args, Json& out) {
  ASSIGN_OR_RETURN(std::vector<Torrent*> torrents, SelectTorrents(s, args));
  for (Torrent* t : torrents) {
    if (t->state() == TorrentState::kStopped) continue;
    s.changed = true;
    RETURN_IF_ERROR(t->Stop());
  }
  return absl::OkStatus();
}

absl::Status TorrentVerify(RpcState& s, const Json& args, Json& out) {
  ASSIGN_OR_RETURN(std::vector<Torrent*> torrents, SelectTorrents(s, args));
  for (Torrent* t : torrents) {
    if (!t->has_metadata()) continue;
    const bool running = Running(t);
    if (running) RETURN_IF_ERROR(t->Stop());
    RETURN_IF_ERROR(t->HashCheck());
    s.Record(t).loaded = true;
    s.changed = true;
    if (running) RETURN_IF_ERROR(StartTorrent(s, t));
  }
  return absl::OkStatus();
}

absl::Status TorrentReannounce(RpcState& s, const Json& args, Json& out) {
  ASSIGN_OR_RETURN(std::vector<Torrent*> torrents, SelectTorrents(s, args));
  for (Torrent* t : torrents) t->Reannounce();
  return absl::OkStatus();
}

absl::Status TorrentRemove(RpcState& s, const Json& args, Json& out) {
  bool delete_data = false;
  RETURN_IF_ERROR(JsonArgs(args).Bool("delete-local-data", &delete_data));
  ASSIGN_OR_RETURN(std::vector<Torrent*> torrents, SelectTorrents(s, args));
  absl::Status first;
  for (Torrent* t : torrents) {
    const Sha1Hash hash = t->info_hash();
    s.removed_uploaded += t->uploaded();
    s.removed_downloaded += t->downloaded();
    s.book.Remove(hash, absl::Now());
    s.changed = true;
    first.Update(s.client->RemoveTorrent(t, delete_data));
    std::error_code ignored;
    std::filesystem::remove(TorrentCopyPath(s, hash), ignored);
    std::filesystem::remove(ResumePath(s, hash), ignored);
  }
  return first;
}

absl::Status TorrentSet(RpcState& s, const Json& args, Json& out) {
  for (const auto& [key, value] : args.items()) {
    if (std::find(std::begin(kTorrentSetKeys), std::end(kTorrentSetKeys),
                  key) == std::end(kTorrentSetKeys)) {
      return absl::InvalidArgumentError(
          absl::StrCat("torrent-set: '", key, "' is not supported"));
    }
  }
  ASSIGN_OR_RETURN(std::vector<Torrent*> torrents, SelectTorrents(s, args));
  JsonArgs a(args);
  for (Torrent* t : torrents) {
    RETURN_IF_ERROR(ApplyFileArgs(t, a));
    RETURN_IF_ERROR(ApplyLimits(s, t, a));
    s.changed = true;
  }
  return absl::OkStatus();
}

absl::Status TorrentSetLocation(RpcState& s, const Json& args, Json& out) {
  JsonArgs a(args);
  std::string location;
  bool move = false;
  RETURN_IF_ERROR(a.String("location", &location));
  RETURN_IF_ERROR(a.Bool("move", &move));
  if (!a.Has("location")) {
    return absl::InvalidArgumentError("torrent-set-location needs 'location'");
  }
  if (!move) {
    return absl::UnimplementedError(
        "only moving the data is supported ('move': true)");
  }
  ASSIGN_OR_RETURN(std::string dir, s.options.roots.Check(location));
  RETURN_IF_ERROR(MakeDirectories(dir));
  ASSIGN_OR_RETURN(std::vector<Torrent*> torrents, SelectTorrents(s, args));
  for (Torrent* t : torrents) {
    s.changed = true;
    RETURN_IF_ERROR(t->MoveStorage(dir));
  }
  return absl::OkStatus();
}

}  // namespace bt::daemon
