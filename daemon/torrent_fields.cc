// torrent-get: each field Transmission's front-ends ask for, computed from
// a btkit Torrent and the daemon's record of it.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/status_macros.h"
#include "daemon/rpc_state.h"
#include "metainfo/magnet.h"
#include "storage/file_priority.h"

namespace bt::daemon {
namespace {

using client::Torrent;
using client::TorrentState;

// Transmission's status numbers.
enum Status { kStopped = 0, kCheck = 2, kDownload = 4, kSeed = 6 };

// View is one torrent while its fields are computed.
struct View {
  RpcState& s;
  Torrent* t;
  TorrentRecord& r;
};

int StatusOf(const Torrent* t) {
  switch (t->state()) {
    case TorrentState::kChecking:
      return kCheck;
    case TorrentState::kDownloading:
      return kDownload;
    case TorrentState::kSeeding:
      return kSeed;
    default:
      return kStopped;
  }
}

int64_t Left(const Torrent* t) { return t->bytes_wanted() - t->bytes_done(); }

// HaveBytes: bytes of verified pieces, wanted or not.
int64_t HaveBytes(const Torrent* t) {
  if (!t->has_metadata()) return 0;
  int64_t n = 0;
  const storage::Bitfield& have = t->have();
  for (uint32_t i = 0; i < have.size(); ++i) {
    if (have.Get(i)) n += t->info().layout().PieceSize(i);
  }
  return n;
}

// FileDone: bytes of file `f` inside verified pieces.
int64_t FileDone(const Torrent* t, size_t f) {
  const metainfo::FileLayout& layout = t->info().layout();
  const metainfo::FileEntry& file = layout.file(f);
  const metainfo::IndexRange pieces = layout.PiecesOfFile(f);
  int64_t n = 0;
  for (size_t p = pieces.begin; p < pieces.end; ++p) {
    if (!t->have().Get(p)) continue;
    const int64_t start = static_cast<int64_t>(p) * layout.piece_length();
    const int64_t end = start + layout.PieceSize(p);
    n += std::min(end, file.offset + file.size) - std::max(start, file.offset);
  }
  return n;
}

// Transmission's file priorities: -1 low, 0 normal, 1 high.
int RpcPriority(int priority) {
  if (priority == storage::kFilePrioritySkip) return 0;
  if (priority < storage::kFilePriorityNormal) return -1;
  return priority > storage::kFilePriorityNormal ? 1 : 0;
}

Json Files(const View& v) {
  Json files = Json::array();
  for (size_t f = 0; f < v.t->num_files(); ++f) {
    const metainfo::FileEntry& e = v.t->info().files()[f];
    files.push_back({{"name", e.PathString()},
                     {"length", e.size},
                     {"bytesCompleted", FileDone(v.t, f)}});
  }
  return files;
}

Json FileStats(const View& v) {
  Json stats = Json::array();
  for (size_t f = 0; f < v.t->num_files(); ++f) {
    const int p = v.t->file_priority(f);
    stats.push_back({{"bytesCompleted", FileDone(v.t, f)},
                     {"wanted", p != storage::kFilePrioritySkip},
                     {"priority", RpcPriority(p)}});
  }
  return stats;
}

Json Peers(const View& v) {
  Json peers = Json::array();
  const uint32_t pieces = v.t->has_metadata() ? v.t->info().num_pieces() : 0;
  for (const client::PeerInfo& p : v.t->peers()) {
    std::string flags;
    if (!p.peer_choking && p.am_interested) flags += 'D';
    if (!p.am_choking && p.peer_interested) flags += 'U';
    if (p.encrypted) flags += 'E';
    if (p.incoming) flags += 'I';
    if (p.utp) flags += 'T';
    peers.push_back({
        {"address", p.address.AddressString()},
        {"port", p.address.port()},
        {"clientName", p.client},
        {"clientIsChoked", p.am_choking},
        {"clientIsInterested", p.am_interested},
        {"peerIsChoked", p.peer_choking},
        {"peerIsInterested", p.peer_interested},
        {"isDownloadingFrom", !p.peer_choking && p.am_interested},
        {"isUploadingTo", !p.am_choking && p.peer_interested},
        {"isEncrypted", p.encrypted},
        {"isIncoming", p.incoming},
        {"isUTP", p.utp},
        {"flagStr", flags},
        {"progress", pieces ? static_cast<double>(p.pieces) / pieces : 0.0},
        {"rateToClient", static_cast<int64_t>(p.download_rate)},
        {"rateToPeer", static_cast<int64_t>(p.upload_rate)},
    });
  }
  return peers;
}

std::string ScrapeUrl(const std::string& announce) {
  const size_t slash = announce.rfind('/');
  if (slash == std::string::npos ||
      announce.compare(slash + 1, 8, "announce") != 0) {
    return "";
  }
  return absl::StrCat(announce.substr(0, slash + 1), "scrape",
                      announce.substr(slash + 9));
}

template <typename F>
Json EachTracker(const View& v, F f) {
  Json list = Json::array();
  int id = 0;
  const auto& tiers = v.t->trackers();
  for (size_t tier = 0; tier < tiers.size(); ++tier) {
    for (const std::string& url : tiers[tier])
      list.push_back(f(url, tier, id++));
  }
  return list;
}

Json Trackers(const View& v) {
  return EachTracker(v, [](const std::string& url, size_t tier, int id) {
    return Json{{"announce", url},
                {"scrape", ScrapeUrl(url)},
                {"tier", tier},
                {"id", id}};
  });
}

Json TrackerStats(const View& v) {
  return EachTracker(v, [&v](const std::string& url, size_t tier, int id) {
    auto it = v.r.trackers.find(url);
    const TrackerRecord none;
    const TrackerRecord& tr = it == v.r.trackers.end() ? none : it->second;
    const bool announced = tr.last_announce != absl::InfinitePast();
    const size_t host_end = url.find('/', url.find("//") + 2);
    return Json{
        {"announce", url},
        {"scrape", ScrapeUrl(url)},
        {"host", url.substr(0, host_end)},
        {"id", id},
        {"tier", tier},
        {"isBackup", false},
        {"announceState", StatusOf(v.t) == kStopped ? 0 : 1},
        {"scrapeState", 0},
        {"hasAnnounced", announced},
        {"hasScraped", false},
        {"lastAnnounceTime", UnixSeconds(tr.last_announce)},
        {"lastAnnounceStartTime", UnixSeconds(tr.last_announce)},
        {"lastAnnounceSucceeded", tr.succeeded},
        {"lastAnnounceTimedOut", false},
        {"lastAnnounceResult", tr.result},
        {"lastAnnouncePeerCount", tr.last_peer_count},
        {"nextAnnounceTime",
         announced && tr.interval_seconds > 0
             ? UnixSeconds(tr.last_announce) + tr.interval_seconds
             : 0},
        {"lastScrapeTime", 0},
        {"lastScrapeStartTime", 0},
        {"lastScrapeSucceeded", false},
        {"lastScrapeTimedOut", false},
        {"lastScrapeResult", ""},
        {"nextScrapeTime", 0},
        {"seederCount", tr.seeders},
        {"leecherCount", tr.leechers},
        {"downloadCount", -1},
    };
  });
}

Json PeersFrom(const View& v) {
  using Source = client::PeerSet::Source;
  return {{"fromCache", v.t->known_peers(Source::kResume)},
          {"fromDht", v.t->known_peers(Source::kDht)},
          {"fromIncoming", 0},
          {"fromLpd", v.t->known_peers(Source::kLsd)},
          {"fromLtep", 0},
          {"fromPex", v.t->known_peers(Source::kPex)},
          {"fromTracker", v.t->known_peers(Source::kTracker)}};
}

double PercentDone(const Torrent* t) {
  if (!t->has_metadata()) return 0;
  const int64_t wanted = t->bytes_wanted();
  return wanted == 0 ? 1.0 : static_cast<double>(t->bytes_done()) / wanted;
}

int64_t Eta(const Torrent* t) {
  if (!t->has_metadata() || t->complete()) return -1;
  if (t->download_rate() < 1) return -2;  // unknown
  return static_cast<int64_t>(Left(t) / t->download_rate());
}

int CountPeers(const Torrent* t, bool (*pred)(const client::PeerInfo&)) {
  const std::vector<client::PeerInfo> peers = t->peers();
  return static_cast<int>(std::count_if(peers.begin(), peers.end(), pred));
}

using Field = Json (*)(const View& v);

// Fields maps each torrent-get field to how it is computed. Fields that
// need the metadata report zero or empty values until it is known.
const absl::flat_hash_map<std::string_view, Field>& Fields() {
  static const auto* fields = new absl::flat_hash_map<std::string_view, Field>{
      {"id", [](const View& v) { return Json(v.r.id); }},
      {"name", [](const View& v) { return Json(v.t->name()); }},
      {"hashString",
       [](const View& v) { return Json(v.t->info_hash().ToHex()); }},
      {"status", [](const View& v) { return Json(StatusOf(v.t)); }},
      {"error",
       [](const View& v) {
         return Json(v.t->state() == TorrentState::kError ? 3 : 0);
       }},
      {"errorString",
       [](const View& v) {
         return Json(v.t->state() == TorrentState::kError
                         ? std::string(v.t->error().message())
                         : "");
       }},
      {"percentDone", [](const View& v) { return Json(PercentDone(v.t)); }},
      {"metadataPercentComplete",
       [](const View& v) {
         if (v.t->has_metadata()) return Json(1.0);
         auto [got, total] = v.t->metadata_progress();
         return Json(total ? static_cast<double>(got) / total : 0.0);
       }},
      {"recheckProgress",
       [](const View& v) {
         return Json(v.t->state() == TorrentState::kChecking ? 0.5 : 0.0);
       }},
      {"rateDownload",
       [](const View& v) {
         return Json(static_cast<int64_t>(v.t->download_rate()));
       }},
      {"rateUpload",
       [](const View& v) {
         return Json(static_cast<int64_t>(v.t->upload_rate()));
       }},
      {"eta", [](const View& v) { return Json(Eta(v.t)); }},
      {"etaIdle", [](const View& v) { return Json(-1); }},
      {"sizeWhenDone", [](const View& v) { return Json(v.t->bytes_wanted()); }},
      {"leftUntilDone", [](const View& v) { return Json(Left(v.t)); }},
      {"totalSize",
       [](const View& v) {
         return Json(v.t->has_metadata() ? v.t->info().content_size() : 0);
       }},
      {"haveValid", [](const View& v) { return Json(HaveBytes(v.t)); }},
      {"haveUnchecked", [](const View& v) { return Json(0); }},
      {"desiredAvailable",
       [](const View& v) {
         const uint32_t n = v.t->has_metadata() ? v.t->info().num_pieces() : 0;
         for (const client::PeerInfo& p : v.t->peers()) {
           if (n > 0 && p.pieces == n) return Json(Left(v.t));
         }
         return Json(0);
       }},
      {"corruptEver", [](const View& v) { return Json(v.r.corrupt_bytes); }},
      {"downloadedEver",
       [](const View& v) { return Json(v.t->total_downloaded()); }},
      {"uploadedEver",
       [](const View& v) { return Json(v.t->total_uploaded()); }},
      {"uploadRatio",
       [](const View& v) {
         const int64_t base = std::max(v.t->downloaded(), v.t->bytes_done());
         return Json(base > 0 ? static_cast<double>(v.t->uploaded()) / base
                              : -1.0);
       }},
      {"isFinished", [](const View& v) { return Json(false); }},
      {"isStalled", [](const View& v) { return Json(false); }},
      {"isPrivate", [](const View& v) { return Json(v.t->is_private()); }},
      {"downloadDir", [](const View& v) { return Json(v.t->save_path()); }},
      {"addedDate", [](const View& v) { return Json(UnixSeconds(v.r.added)); }},
      {"startDate",
       [](const View& v) { return Json(UnixSeconds(v.r.started)); }},
      {"doneDate", [](const View& v) { return Json(UnixSeconds(v.r.done)); }},
      {"activityDate",
       [](const View& v) { return Json(UnixSeconds(v.r.last_activity)); }},
      {"editDate", [](const View& v) { return Json(0); }},
      {"dateCreated",
       [](const View& v) {
         return Json(
             v.t->has_metadata() ? v.t->info().creation_date().value_or(0) : 0);
       }},
      {"comment",
       [](const View& v) {
         return Json(v.t->has_metadata() ? v.t->info().comment() : "");
       }},
      {"creator",
       [](const View& v) {
         return Json(v.t->has_metadata() ? v.t->info().created_by() : "");
       }},
      {"pieceCount",
       [](const View& v) {
         return Json(v.t->has_metadata() ? v.t->info().num_pieces() : 0);
       }},
      {"pieceSize",
       [](const View& v) {
         return Json(v.t->has_metadata() ? v.t->info().piece_length() : 0);
       }},
      {"pieces",
       [](const View& v) {
         return Json(v.t->has_metadata()
                         ? absl::Base64Escape(v.t->have().ToBytes())
                         : "");
       }},
      {"magnetLink",
       [](const View& v) {
         return Json(v.t->has_metadata()
                         ? metainfo::BuildMagnet(
                               metainfo::MagnetFromTorrent(v.t->info()))
                         : v.t->params().magnet);
       }},
      {"torrentFile",
       [](const View& v) { return Json(v.t->params().torrent_path); }},
      {"files", Files},
      {"fileStats", FileStats},
      {"priorities",
       [](const View& v) {
         Json list = Json::array();
         for (size_t f = 0; f < v.t->num_files(); ++f) {
           list.push_back(RpcPriority(v.t->file_priority(f)));
         }
         return list;
       }},
      {"wanted",
       [](const View& v) {
         Json list = Json::array();
         for (size_t f = 0; f < v.t->num_files(); ++f) {
           list.push_back(
               v.t->file_priority(f) != storage::kFilePrioritySkip ? 1 : 0);
         }
         return list;
       }},
      {"peers", Peers},
      {"peersFrom", PeersFrom},
      {"peersConnected",
       [](const View& v) { return Json(v.t->connection_count()); }},
      {"peersGettingFromUs",
       [](const View& v) {
         return Json(CountPeers(v.t, [](const client::PeerInfo& p) {
           return !p.am_choking && p.peer_interested;
         }));
       }},
      {"peersSendingToUs",
       [](const View& v) {
         return Json(CountPeers(v.t, [](const client::PeerInfo& p) {
           return !p.peer_choking && p.am_interested;
         }));
       }},
      {"peer-limit",
       [](const View& v) {
         return Json(v.s.client->options().max_connections_per_torrent);
       }},
      {"maxConnectedPeers",
       [](const View& v) {
         return Json(v.s.client->options().max_connections_per_torrent);
       }},
      {"trackers", Trackers},
      {"trackerStats", TrackerStats},
      {"webseeds",
       [](const View& v) {
         Json list = Json::array();
         for (const client::WebSeedInfo& w : v.t->web_seeds())
           list.push_back(w.url);
         return list;
       }},
      {"webseedsSendingToUs",
       [](const View& v) {
         int n = 0;
         for (const client::WebSeedInfo& w : v.t->web_seeds()) {
           n += !w.dropped && w.failures == 0 && w.bytes_received > 0 &&
                StatusOf(v.t) == kDownload;
         }
         return Json(n);
       }},
      {"downloadLimit", [](const View& v) { return Json(v.r.download_limit); }},
      {"downloadLimited",
       [](const View& v) { return Json(v.r.download_limited); }},
      {"uploadLimit", [](const View& v) { return Json(v.r.upload_limit); }},
      {"uploadLimited", [](const View& v) { return Json(v.r.upload_limited); }},
      {"honorsSessionLimits", [](const View& v) { return Json(true); }},
      {"bandwidthPriority", [](const View& v) { return Json(0); }},
      {"queuePosition", [](const View& v) { return Json(v.r.id - 1); }},
      {"seedRatioLimit", [](const View& v) { return Json(2.0); }},
      {"seedRatioMode", [](const View& v) { return Json(0); }},
      {"seedIdleLimit", [](const View& v) { return Json(30); }},
      {"seedIdleMode", [](const View& v) { return Json(0); }},
      {"manualAnnounceTime", [](const View& v) { return Json(-1); }},
      {"secondsDownloading", [](const View& v) { return Json(0); }},
      {"secondsSeeding", [](const View& v) { return Json(0); }},
      {"labels", [](const View& v) { return Json::array(); }},
      {"sequentialDownload",
       [](const View& v) { return Json(v.t->sequential()); }},
  };
  return *fields;
}

}  // namespace

absl::Status TorrentGet(RpcState& s, const Json& args, Json& out) {
  JsonArgs a(args);
  const Json* fields = a.Value("fields");
  if (fields == nullptr || !fields->is_array()) {
    return absl::InvalidArgumentError("torrent-get needs 'fields', an array");
  }
  std::vector<std::pair<std::string, Field>> wanted;
  for (const Json& f : *fields) {
    auto it =
        f.is_string() ? Fields().find(f.get<std::string>()) : Fields().end();
    if (it == Fields().end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown torrent field ", f.dump()));
    }
    wanted.emplace_back(it->first, it->second);
  }
  std::string format = "objects";
  RETURN_IF_ERROR(a.OneOf("format", &format, {"objects", "table"}));
  ASSIGN_OR_RETURN(std::vector<Torrent*> torrents, SelectTorrents(s, args));
  Json list = Json::array();
  if (format == "table") {
    Json names = Json::array();
    for (const auto& [name, field] : wanted) names.push_back(name);
    list.push_back(std::move(names));
  }
  for (Torrent* t : torrents) {
    const View v{s, t, s.Record(t)};
    Json row = format == "table" ? Json::array() : Json::object();
    for (const auto& [name, field] : wanted) {
      if (format == "table") {
        row.push_back(field(v));
      } else {
        row[name] = field(v);
      }
    }
    list.push_back(std::move(row));
  }
  out["torrents"] = std::move(list);
  const Json* ids = a.Value("ids");
  if (ids != nullptr && ids->is_string() && *ids == "recently-active") {
    out["removed"] = s.book.RemovedSince(absl::Now() - absl::Minutes(1));
  }
  return absl::OkStatus();
}

}  // namespace bt::daemon
