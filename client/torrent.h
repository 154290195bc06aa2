// Torrent: one torrent's state in a client — its metainfo, storage, piece
// picker, choker, peers and trackers — and the seed's Torrent API:
// hashcheck, start, stop, pause, save_resume_data, files with priorities.
//
// A Torrent also works without a client, for metadata and hash checks:
//
//   ASSIGN_OR_RETURN(std::unique_ptr<bt::client::Torrent> t,
//                    bt::client::Torrent::Open({.torrent_path = "a.torrent",
//                                               .save_path = "/dl"}));
//   RETURN_IF_ERROR(t->HashCheck());
//   printf("%u of %u pieces\n", t->pieces_have(), t->info().num_pieces());
//
// Inside a client (Client::AddTorrent) it downloads and seeds; everything
// runs on the client's event loop thread. Its parts, each a concept of its
// own: PeerSet (candidates, bans), PieceVerifier (blame), MetadataExchange
// (magnet links), HashServer (BEP 52), TorrentDisk (disk jobs). Its peer
// connections reach it only through the events of their sessions.
#ifndef CLIENT_TORRENT_H_
#define CLIENT_TORRENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "base/liveness.h"
#include "client/choker.h"
#include "client/client_context.h"
#include "client/events.h"
#include "client/hash_server.h"
#include "client/metadata_exchange.h"
#include "client/peer_set.h"
#include "client/piece_picker.h"
#include "client/piece_verifier.h"
#include "client/rate_limiter.h"
#include "client/session/session_events.h"
#include "client/session/session_torrent.h"
#include "client/super_seeder.h"
#include "client/torrent_disk.h"
#include "client/web_seed_connection.h"
#include "metainfo/torrent_info.h"
#include "protocol/message.h"
#include "storage/bitfield.h"
#include "storage/file_backend.h"
#include "storage/resume_data.h"

namespace bt::client {

class PeerConnection;
class TrackerAnnouncer;

// TorrentParams says what to open and where its data lives.
struct TorrentParams {
  // The .torrent file to read, else a magnet URI (the metadata then comes
  // from peers, BEP 9), else `info` (which the torrent then shares, and
  // takes out of its params()).
  std::string torrent_path;
  std::string magnet;
  std::shared_ptr<const metainfo::TorrentInfo> info;
  // The directory that receives the torrent's files.
  std::string save_path = ".";
  // Resume data to load before starting and to save to (periodically, when
  // the download completes and on Stop); empty for none.
  std::string resume_path;
  // Peers to connect to in addition to those trackers give.
  std::vector<Endpoint> peers;
  // Start downloading/seeding as soon as it is added to a client.
  bool start = true;
  // Download pieces in order, for streaming (Torrent::SetSequential).
  bool sequential = false;
  // Super-seed (BEP 16) while every piece is here (Torrent::SetSuperSeeding).
  bool super_seeding = false;
  // Priorities (storage/file_priority.h) of files by index, applied once
  // the metadata is known and again after resume data is loaded (so they
  // win over saved ones); other files start at normal, or, for a magnet
  // link with a BEP 53 `so=` selection, at skip when not selected. An
  // index past the torrent's files is kInvalidArgument (from Open, or the
  // error state once a magnet's metadata arrived).
  std::vector<std::pair<size_t, int>> file_priorities;
  // The file system the data (and resume data) live on; null: the client's
  // (ClientOptions::file_backend), else the real one. Must outlive the
  // torrent.
  storage::FileBackend* backend = nullptr;
};

enum class TorrentState {
  kStopped,      // nothing running
  kChecking,     // hash check in progress
  kDownloading,  // connected to the swarm, missing wanted pieces
  kSeeding,      // every wanted piece verified
  kPaused,       // connections kept, no data requested or served
  kError,        // a disk error stopped transfers (see error())
};
const char* TorrentStateName(TorrentState s);

// WebSeedInfo is a snapshot of one BEP 19 web seed.
struct WebSeedInfo {
  std::string url;
  bool dropped = false;  // its data failed a hash check: not used again
  std::string drop_reason;
  int failures = 0;  // consecutive failed requests (backing off)
  int64_t bytes_received = 0;
  std::string last_error;  // of the last failed request, "" if none
};

// PeerInfo is a snapshot of one connected peer.
struct PeerInfo {
  uint64_t connection = 0;
  Endpoint address;
  PeerId peer_id;
  std::string client;  // from the peer id
  bool incoming = false;
  bool encrypted = false;
  bool utp = false;  // over uTP (BEP 29), not TCP
  bool am_choking = true, am_interested = false;
  bool peer_choking = true, peer_interested = false;
  double download_rate = 0, upload_rate = 0;  // bytes/s
  uint32_t pieces = 0;  // pieces the peer has
};

class Torrent : public SessionTorrent {
 public:
  using Handler = std::function<bool(const Event&)>;

  // Open loads a torrent without a client (metadata and hash checks only
  // until Attach). Errors: the .torrent's or magnet's parse errors (the
  // path named), kNotFound for an unreadable file.
  static absl::StatusOr<std::unique_ptr<Torrent>> Open(TorrentParams params);
  ~Torrent() override;
  Torrent(const Torrent&) = delete;
  Torrent& operator=(const Torrent&) = delete;

  // Attach puts the torrent in `ctx` (a Client, or a test's context), which
  // must outlive it. Once only, before Start.
  void Attach(ClientContext* ctx);

  // has_metadata: the info dictionary is known and pieces can be checked
  // (always, except for a magnet link whose metadata is still being
  // fetched, or a v2-only torrent whose missing piece layers are).
  bool has_metadata() const { return disk_ != nullptr || storage_asleep_; }
  // metadata_progress is (pieces received, pieces total) of the metadata
  // download; (0, 0) before any peer told its size.
  std::pair<uint32_t, uint32_t> metadata_progress() const;
  // piece_layer_progress is (ranges received, ranges total) of the piece
  // layers a v2-only magnet link fetches after its metadata; (0, 0) when
  // none are being fetched.
  std::pair<uint32_t, uint32_t> piece_layer_progress() const;
  // name: the torrent's name, or the magnet's display name before the
  // metadata arrived.
  const std::string& name() const;
  // info requires has_metadata().
  const metainfo::TorrentInfo& info() const { return *info_; }
  // info_hash is the wire info-hash (v1, or the truncated v2 hash).
  const Sha1Hash& info_hash() const override { return info_hash_; }
  const std::string& save_path() const { return params_.save_path; }
  const TorrentParams& params() const { return params_; }
  TorrentState state() const { return state_; }
  absl::Status error() const { return error_; }

  // HashCheck verifies the data on disk (blocking, several threads) and
  // adopts the result as the have-set, firing piece_hash_pass/fail.
  absl::Status HashCheck();
  // LoadState prepares the have-set before starting: with resume data it
  // trusts what the data vouches for and hash-checks only the rest (files
  // changed since the save, unusable data); without it, HashCheck().
  absl::Status LoadState();
  // Start joins the swarm (requires a client); Stop leaves it (closing
  // peers, announcing "stopped", saving resume data); Pause keeps peers
  // but stops requesting and serving data. Start also resumes from pause
  // and, after a disk error was fixed, from the error state.
  absl::Status Start();
  absl::Status Stop();
  absl::Status Pause();
  // announcing_stop: stopped, with an announce to a tracker still in
  // flight ("stopped", or a "started" that gets one when it succeeds).
  bool announcing_stop() const;
  // Reannounce asks the trackers (and, on the next tick, the DHT) for
  // peers now rather than when their interval ends; nothing while
  // stopped.
  void Reannounce();
  // SaveResumeData writes resume data (have-set, files, priorities, some
  // peers, partial pieces) atomically to `path`, or to params.resume_path.
  // params.resume_path is not rewritten while it exists and holds what
  // would be written, but for the time of writing.
  absl::Status SaveResumeData(const std::string& path = "");

  // MoveStorage moves the torrent's files (and its part file) to
  // `new_save_path` while it runs, as libtorrent's move_storage does: its
  // disk jobs are drained first and later ones use the new place, so no
  // write lands in the old one afterwards (see PieceStorage::MoveStorage
  // for rename vs copy and for conflicts). Blocking: across file systems
  // the data is copied on the calling thread. Once every file is in place
  // it saves resume data (if params.resume_path; an error there is
  // returned, the move stands) and fires storage_moved. A failure
  // (kAlreadyExists: the destination holds other content;
  // kPermissionDenied, kResourceExhausted, ...; the message names the
  // path) fires storage_move_failed and leaves the files and the torrent
  // in the old place, usable. Before the metadata arrives nothing is on
  // disk: only the save path changes.
  absl::Status MoveStorage(const std::string& new_save_path);
  // DeleteData deletes what the torrent wrote: its files, part file,
  // resume data, and the directories of its paths left empty under the
  // save path; nothing else (see PieceStorage::DeleteFiles). For a
  // torrent about to be removed (Client::RemoveTorrent with delete_data):
  // it cannot write again. kFailedPrecondition unless stopped; else the
  // first error, after trying everything.
  absl::Status DeleteData();

  // Files and priorities (torrent_files.cc): levels from
  // storage/file_priority.h, 0 = skip; pieces of higher files are fetched
  // first. SetFilePriority needs the metadata (kFailedPrecondition) and a
  // file index in range (kInvalidArgument).
  size_t num_files() const { return has_metadata() ? info_->files().size() : 0; }
  int file_priority(size_t file) const;
  absl::Status SetFilePriority(size_t file, int priority);
  // SetSequential switches sequential download (pieces in order with a
  // small rarest-first window, see PiecePicker::SetSequential) on or off;
  // any time, also before the metadata is known.
  void SetSequential(bool on);
  bool sequential() const { return params_.sequential; }
  // SetSuperSeeding turns super-seeding (BEP 16, for an initial seed) on
  // or off; any time. It acts only while every piece is here: peers that
  // connect then are told we have nothing and are shown a piece or two at
  // a time (see SuperSeeder); peers connected before keep our whole
  // have-set. Turning it off tells super-seeded peers everything we have.
  // A super-seed does not say upload_only (BEP 21), as libtorrent does
  // not: it poses as a peer that downloads.
  void SetSuperSeeding(bool on);
  // super_seeding: super-seeding is on and acting.
  bool super_seeding() const override { return super_seeder_ != nullptr; }

  // Progress.
  const storage::Bitfield& have() const override;
  uint32_t pieces_have() const;
  int64_t bytes_wanted() const;
  int64_t bytes_done() const;
  int64_t uploaded() const { return uploaded_; }
  int64_t downloaded() const { return downloaded_; }
  // total_uploaded / total_downloaded add what earlier runs moved, as
  // their resume data recorded (uploaded() and downloaded() count this
  // run only, as trackers are told).
  int64_t total_uploaded() const { return uploaded_before_ + uploaded_; }
  int64_t total_downloaded() const { return downloaded_before_ + downloaded_; }
  double download_rate() const { return download_rate_; }
  double upload_rate() const { return upload_rate_; }
  bool complete() const;

  // Peers: the connected ones, and adding one by address.
  std::vector<PeerInfo> peers() const;
  // AddPeer adds a peer to connect to, learned from `source`. Peers from
  // peer exchange or local service discovery are refused for private
  // torrents and once the torrent knows kMaxCandidates peers; others then
  // replace failing ones. `utp` says what the source knows of its uTP: a
  // peer known to be reached over TCP only is dialled over TCP first.
  void AddPeer(const Endpoint& peer,
               PeerSet::Source source = PeerSet::Source::kTracker,
               PeerSet::Utp utp = PeerSet::Utp::kUnknown);
  static constexpr size_t kMaxCandidates = 2000;
  // is_private: BEP 27 (peers from the torrent's trackers only).
  bool is_private() const { return has_metadata() && info_->is_private(); }
  // trackers lists the tracker tiers.
  const std::vector<std::vector<std::string>>& trackers() const {
    return tiers_;
  }
  // Banned: `peer`'s IP address sent data that failed hash checks.
  bool Banned(const Endpoint& peer) const { return peers_.Banned(peer); }
  // known_peers is how many peers the torrent knows to connect to (at most
  // kMaxCandidates).
  size_t known_peers() const { return peers_.size(); }
  // known_peers(source): how many of them came from `source`.
  size_t known_peers(PeerSet::Source source) const {
    return peers_.CountFrom(source);
  }

  // web_seeds lists the torrent's usable `url-list` web seeds (BEP 19),
  // which run while the torrent is downloading; empty until started.
  std::vector<WebSeedInfo> web_seeds() const;

  // SetRateLimits limits this torrent's transfers (bytes per second, 0 for
  // unlimited), within the client's global limits; settable while running.
  void SetRateLimits(int64_t upload, int64_t download);
  int64_t upload_rate_limit() const { return upload_limit_.rate(); }
  int64_t download_rate_limit() const { return download_limit_.rate(); }
  RateLimiter& rate_limit(bool upload) {
    return upload ? upload_limit_ : download_limit_;
  }

  // OnEvent registers a handler for this torrent's events only. Wants /
  // Emit: whether anyone listens to `type`, and running this torrent's
  // handlers then the client's (false if one refused).
  void OnEvent(EventType type, Handler handler);
  bool Wants(EventType type) const;
  bool Emit(Event& e);
  // ClearHandlers drops this torrent's handlers (a client being destroyed).
  void ClearHandlers();
  // RefreshWantedStorageEvents tells the disk workers which storage events
  // have handlers (this torrent's or the client's): call it when they change.
  void RefreshWantedStorageEvents();

  // --- the client's side (torrent_peers.cc) -----------------------------
  // SessionTorrent: requests are served while downloading or seeding.
  const metainfo::TorrentInfo* metainfo() const override {
    return has_metadata() ? info_.get() : nullptr;
  }
  bool serving() const override;
  // upload_only: every wanted piece is verified (a seed or partial seed)
  // and we do not super-seed.
  bool upload_only() const override { return complete() && !super_seeding(); }
  // OnConnectionOpened: the client made an outgoing connection for us.
  void OnConnectionOpened(PeerConnection& c);
  // OnSessionEvents handles what a connection's session reported.
  void OnSessionEvents(PeerConnection& c, std::vector<SessionEvent> events);
  // OnConnectionClosed: `c` is closed (it is reaped later).
  void OnConnectionClosed(PeerConnection& c);
  // ServeBlock reads a block `c` is to send, then hands it to its session.
  void ServeBlock(PeerConnection& c, const protocol::Request& r);
  // Tick: rates, peer time-outs, choking, connecting, PEX, DHT, resume
  // data; about once a second.
  void Tick(absl::Time now);
  // WantsTick: whether Tick should run at `now`. A torrent with
  // connections, downloading or checking ticks every second; an idle one
  // (paused or seeding with no peer connected) every kIdleTickInterval,
  // enough for its DHT announces and redials of peers that failed (new
  // peers are dialled as they are learned); a stopped one not at all. So a
  // client holding many idle torrents spends next to nothing on them.
  bool WantsTick(absl::Time now) const;
  static constexpr absl::Duration kIdleTickInterval = absl::Seconds(60);
  // busy: connected, downloading or checking: ticks every second. A torrent
  // tells its client (ClientContext::TickSoon) when it may have become so.
  bool busy() const;
  size_t connection_count() const { return connections_.size(); }
  // storage_asleep: the torrent idles (seeding, paused or stopped, with no
  // connection, web seed or disk job) and has let its storage go: its
  // files' paths and records, their backend and disk queue. Only the file
  // priorities stay. Whatever needs the disk (a peer connecting, a check,
  // resume data, a move) wakes it, on the torrent's thread. A client of
  // 10,000 idle torrents holds about 1.5 KiB less for each.
  bool storage_asleep() const { return storage_asleep_; }

 private:
  Torrent(TorrentParams params, std::shared_ptr<const metainfo::TorrentInfo> info);
  absl::Status InitStorage();
  // MakeDisk creates the storage and its disk queue (InitStorage, and a
  // storage waking up).
  absl::Status MakeDisk(std::vector<int> file_priorities);
  // Disk: the disk queue, woken if asleep; kFailedPrecondition before the
  // metadata is known.
  absl::StatusOr<TorrentDisk*> Disk();
  // MaybeSleepStorage lets the storage go if the torrent idles (see
  // storage_asleep).
  void MaybeSleepStorage();
  // WakeForConnection wakes the storage for `c`, which joins this torrent;
  // false (`c` closed, the torrent in error) if it cannot wake.
  bool WakeForConnection(PeerConnection& c);
  // InitialFilePriorities: the storage's file priorities at creation, from
  // a magnet's `so=` and params.file_priorities (torrent_files.cc).
  absl::StatusOr<std::vector<int>> InitialFilePriorities() const;
  // SyncPiecePriorities gives each piece its storage priority.
  void SyncPiecePriorities();
  // AttachDisk moves disk jobs to the client's pool.
  void AttachDisk();
  storage::FileBackend& backend();
  // AdoptHaveSet replaces the picker with one that starts from `have`,
  // keeping piece priorities and what connected peers have.
  void AdoptHaveSet(const storage::Bitfield& have);
  // RestoreFollowingMove restores resume data `bytes` (LoadState). Data
  // that names another save path was saved after a move that params_ does
  // not know of (the client state was saved before it): the torrent
  // follows it there when the data vouches for more pieces there.
  storage::ResumeState RestoreFollowingMove(std::string_view bytes);
  // CheckAndEmit hash-checks `pieces` (all if null), firing
  // piece_hash_pass/fail, and returns the pieces that passed.
  absl::StatusOr<storage::Bitfield> CheckAndEmit(const storage::Bitfield* pieces);
  void SetState(TorrentState s);
  void EnterError(absl::Status status);
  // EnterSeeding: every wanted piece is verified.
  void EnterSeeding();
  void StartTrackers();
  void AnnounceToDht(absl::Time now);
  // Adopt makes `info` (complete, piece layers included) the torrent's
  // metadata and starts downloading.
  absl::Status Adopt(metainfo::TorrentInfo info);

  // Peers (torrent_peers.cc).
  void OnHandshakeDone(PeerConnection& c);
  void OnHaveSet(PeerConnection& c);
  void OnPeerHave(PeerConnection& c, uint32_t piece);
  void OnPeerInterest(PeerConnection& c, bool interested);
  void OnRequestsReturned(PeerConnection& c, const std::vector<BlockRef>& b);
  void OnHashRequest(PeerConnection& c, const protocol::HashRange& r);
  void OnExchangeResult(MetadataExchange::Result r);
  void UpdateInterest(PeerConnection& c);
  // CloseIfNothingToTrade closes `c` when neither side wants anything from
  // the other: we are complete and the peer is a seed or upload-only
  // (BEP 21). Returns true if it closed.
  bool CloseIfNothingToTrade(PeerConnection& c);
  // AnnounceUploadOnly tells every peer when upload_only() changed.
  void AnnounceUploadOnly();
  void FillRequests(PeerConnection& c);
  void RunChoker(absl::Time now);
  // RechokeSoon runs the choker once the current events are handled: an
  // unchoked peer left or lost interest, and its slot is free.
  void RechokeSoon();
  void ConnectMore(absl::Time now);
  void SendPex(absl::Time now);
  // Strike adds strikes to `peer`'s IP address and closes its connections
  // once banned.
  void Strike(const Endpoint& peer, int weight);
  PeerConnection* Connection(uint64_t id) const;
  std::vector<PeerConnection*> OpenConnections() const;

  // Super-seeding (torrent_super_seed.cc). SyncSuperSeeding starts or
  // ends it as params_.super_seeding and the have-set say; Reveal shows
  // `c` the pieces the super-seeder picked for it.
  void SyncSuperSeeding();
  void Reveal(PeerConnection& c, const std::vector<uint32_t>& pieces);

  // Web seeds (torrent_web_seeds.cc). Their picker ids start at
  // kWebSeedIdBase, far from connection ids.
  static constexpr uint64_t kWebSeedIdBase = uint64_t{1} << 62;
  void StartWebSeeds();
  // PumpWebSeeds lets idle web seeds start a run while downloading, and
  // stops them otherwise.
  void PumpWebSeeds();
  // BlameWebSeed drops the web seed recorded under `culprit`; false if
  // `culprit` is not a web seed.
  bool BlameWebSeed(const Endpoint& culprit);

  // Pieces (torrent_pieces.cc).
  void OnBlock(PeerConnection& c, BlockArrived& b);
  // AcceptBlock writes a block from `from` (a connection or web seed id),
  // recorded for blame under `sender`, unless it is not awaited.
  void AcceptBlock(BlockRef block, BlockBytes data, uint64_t from,
                   const Endpoint& sender);
  void OnBlockWritten(BlockRef block, size_t size, absl::Status status);
  void OnPieceHashed(uint32_t piece, TorrentDisk::HashResult r);
  void OnPieceVerified(uint32_t piece);

  TorrentParams params_;
  std::shared_ptr<const metainfo::TorrentInfo> info_;
  Sha1Hash info_hash_;
  ClientContext* ctx_ = nullptr;
  TorrentState state_ = TorrentState::kStopped;
  absl::Status error_;

  // Shared with the disk jobs, which may outlive this torrent.
  std::shared_ptr<storage::FileBackend> own_backend_;
  std::unique_ptr<TorrentDisk> disk_;
  // While storage_asleep_ (disk_ null), the file priorities it had; empty
  // if all were normal.
  bool storage_asleep_ = false;
  std::vector<int> sleeping_priorities_;
  std::unique_ptr<PiecePicker> picker_;
  std::unique_ptr<HashServer> hash_server_;
  std::unique_ptr<DiskPool> own_pool_;  // no client: checks only
  Choker choker_;
  std::unique_ptr<SuperSeeder> super_seeder_;  // while super-seeding
  bool rechoke_soon_ = false;
  RateLimiter upload_limit_, download_limit_;
  std::vector<std::vector<Handler>> handlers_;

  absl::btree_map<uint64_t, PeerConnection*> connections_;
  PeerSet peers_;
  PieceVerifier verifier_;
  std::unique_ptr<MetadataExchange> metadata_;
  std::unique_ptr<TrackerAnnouncer> announcer_;
  std::vector<std::vector<std::string>> tiers_;
  std::string display_name_;
  std::unique_ptr<Resolver> web_seed_resolver_;
  std::vector<std::unique_ptr<WebSeedConnection>> web_seeds_;

  int64_t uploaded_ = 0, downloaded_ = 0;
  int64_t uploaded_before_ = 0, downloaded_before_ = 0;  // earlier runs
  int64_t last_uploaded_ = 0, last_downloaded_ = 0;
  double download_rate_ = 0, upload_rate_ = 0;
  absl::Time last_tick_ = absl::InfinitePast();
  absl::Time next_dht_announce_ = absl::InfinitePast();
  absl::Time last_resume_save_ = absl::InfinitePast();
  uint32_t pieces_since_save_ = 0;
  // ResumeDigest of what params_.resume_path holds, as this torrent last
  // saved or loaded it: an unchanged save is skipped.
  Sha1Hash saved_resume_digest_;
  // Callbacks that may outlive the torrent (DHT lookups, storage events)
  // check this.
  Liveness liveness_;
  // Where storage events from disk workers go (set by Attach); shared with
  // the storage, which a last job may close after the torrent is gone.
  struct EventRelay {
    std::atomic<DiskPool*> pool{nullptr};
    // StorageEventBit of each storage event some handler wants.
    std::atomic<uint32_t> wanted{0};
  };
  // The client's events for storage::StorageEventType, in its order.
  static constexpr EventType kStorageEventTypes[] = {
      EventType::kFileOpen, EventType::kFileClose, EventType::kFileRead,
      EventType::kFileWrite, EventType::kFileError};
  static constexpr uint32_t StorageEventBit(storage::StorageEventType t) {
    return 1u << static_cast<int>(t);
  }
  std::shared_ptr<EventRelay> event_relay_ = std::make_shared<EventRelay>();
};

}  // namespace bt::client

#endif  // CLIENT_TORRENT_H_
