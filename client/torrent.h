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
// runs on the client's event loop thread.
#ifndef CLIENT_TORRENT_H_
#define CLIENT_TORRENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "client/choker.h"
#include "client/events.h"
#include "client/metadata_fetcher.h"
#include "client/piece_layer_fetcher.h"
#include "client/piece_picker.h"
#include "client/rate_limiter.h"
#include "metainfo/torrent_info.h"
#include "protocol/merkle_hashes.h"
#include "protocol/message.h"
#include "storage/bitfield.h"
#include "storage/piece_storage.h"
#include "storage/posix_file_backend.h"

namespace bt::client {

class Client;
class PeerConnection;
class TrackerAnnouncer;

// MetadataMessageView is a ut_metadata message as the torrent sees it.
struct MetadataMessageView {
  int type = 0;  // 0 request, 1 data, 2 reject
  uint32_t piece = 0;
  uint64_t total_size = 0;
  std::string_view data;
};

// TorrentParams says what to open and where its data lives.
struct TorrentParams {
  // The .torrent file to read, else a magnet URI (the metadata then comes
  // from peers, BEP 9), else `info`.
  std::string torrent_path;
  std::string magnet;
  metainfo::TorrentInfo info;
  // The directory that receives the torrent's files.
  std::string save_path = ".";
  // Resume data to load before starting and to save to (periodically, when
  // the download completes and on Stop); empty for none.
  std::string resume_path;
  // Peers to connect to in addition to those trackers give.
  std::vector<Endpoint> peers;
  // Start downloading/seeding as soon as it is added to a client.
  bool start = true;
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

// PeerInfo is a snapshot of one connected peer.
struct PeerInfo {
  uint64_t connection = 0;
  Endpoint address;
  PeerId peer_id;
  std::string client;  // from the peer id
  bool incoming = false;
  bool encrypted = false;
  bool am_choking = true, am_interested = false;
  bool peer_choking = true, peer_interested = false;
  double download_rate = 0, upload_rate = 0;  // bytes/s
  uint32_t pieces = 0;  // pieces the peer has
};

class Torrent {
 public:
  using Handler = std::function<bool(const Event&)>;

  // Open loads a torrent without a client (metadata and hash checks only).
  static absl::StatusOr<std::unique_ptr<Torrent>> Open(TorrentParams params);
  ~Torrent();
  Torrent(const Torrent&) = delete;
  Torrent& operator=(const Torrent&) = delete;

  // has_metadata: the info dictionary is known (always, except for a
  // magnet link whose metadata is still being fetched).
  bool has_metadata() const { return picker_ != nullptr; }
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
  const metainfo::TorrentInfo& info() const { return info_; }
  // info_hash is the wire info-hash (v1, or the truncated v2 hash).
  const Sha1Hash& info_hash() const { return info_hash_; }
  const std::string& save_path() const { return params_.save_path; }
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
  // SaveResumeData writes resume data (have-set, files, priorities, peers,
  // partial pieces) atomically to `path`, or to params.resume_path.
  absl::Status SaveResumeData(const std::string& path = "");

  // Files and priorities (0 = skip).
  size_t num_files() const { return info_.files().size(); }
  int file_priority(size_t file) const;
  absl::Status SetFilePriority(size_t file, int priority);

  // Progress.
  const storage::Bitfield& have() const;
  uint32_t pieces_have() const;
  int64_t bytes_wanted() const;
  int64_t bytes_done() const;
  int64_t uploaded() const { return uploaded_; }
  int64_t downloaded() const { return downloaded_; }
  double download_rate() const { return download_rate_; }
  double upload_rate() const { return upload_rate_; }
  bool complete() const;

  // Peers: the connected ones, and adding one by address.
  std::vector<PeerInfo> peers() const;
  // AddPeer adds a peer to connect to. Peers learned from other peers
  // (`from_pex`) are refused for private torrents and once the torrent
  // knows kMaxCandidates peers.
  void AddPeer(const Endpoint& peer, bool from_pex = false);
  static constexpr size_t kMaxCandidates = 2000;
  // is_private: BEP 27 (peers from the torrent's trackers only).
  bool is_private() const { return has_metadata() && info_.is_private(); }
  // trackers lists the tracker tiers.
  const std::vector<std::vector<std::string>>& trackers() const {
    return tiers_;
  }

  // SetRateLimits limits this torrent's transfers (bytes per second, 0 for
  // unlimited), within the client's global limits; settable while running.
  void SetRateLimits(int64_t upload, int64_t download);
  int64_t upload_rate_limit() const { return upload_limit_.rate(); }
  int64_t download_rate_limit() const { return download_limit_.rate(); }

  // OnEvent registers a handler for this torrent's events only.
  void OnEvent(EventType type, Handler handler);

 private:
  friend class Client;
  friend class PeerConnection;
  struct Candidate {
    int failures = 0;
    bool connected = false;
    bool plain_only = false;  // MSE was refused: retry without it
    absl::Time retry_at = absl::InfinitePast();
  };

  Torrent(TorrentParams params, metainfo::TorrentInfo info);
  absl::Status InitStorage();
  // AdoptHaveSet replaces the picker with one that starts from `have`,
  // keeping piece priorities.
  void AdoptHaveSet(const storage::Bitfield& have);
  // CheckAndEmit hash-checks `pieces` (all if null), firing
  // piece_hash_pass/fail, and returns the pieces that passed.
  absl::StatusOr<storage::Bitfield> CheckAndEmit(const storage::Bitfield* pieces);

  // Events: to this torrent's handlers, then the client's.
  bool Wants(EventType type) const;
  bool Emit(Event& e);

  // Called by the client.
  void AttachClient(Client* client);
  void Tick(absl::Time now);
  void ConnectMore(absl::Time now);
  void RunChoker(absl::Time now);

  // Called by connections.
  void OnConnected(PeerConnection* c);
  void OnClosed(PeerConnection* c, bool mse_refused);
  void OnPeerHas(PeerConnection* c, uint32_t piece);
  void OnPeerHaveSet(PeerConnection* c);
  void OnBlock(PeerConnection* c, uint32_t piece, uint32_t begin,
               std::string_view data);
  // Metadata exchange (BEP 9).
  void OnMetadataSizeOffered(PeerConnection* c, uint64_t size);
  void OnMetadataMessage(PeerConnection* c, MetadataMessageView m);
  void RequestMetadata(PeerConnection* c);
  absl::Status AdoptMetadata();
  // Adopt makes `info` (complete, piece layers included) the torrent's
  // metadata and starts downloading.
  absl::Status Adopt(metainfo::TorrentInfo info);
  // Piece layers (BEP 52): served from ours, fetched for a v2-only magnet
  // link before the download can start.
  void OnHashRequest(PeerConnection* c, const protocol::HashRange& range);
  void OnHashes(PeerConnection* c, const protocol::Hashes& m);
  void OnHashReject(PeerConnection* c, const protocol::HashRange& range);
  void RequestPieceLayers(PeerConnection* c);
  // PieceLeaves reads piece `file_piece` of file `file` (one we have) and
  // returns its block hashes, padded to a whole piece.
  absl::StatusOr<std::vector<Sha256Hash>> PieceLeaves(size_t file,
                                                      uint32_t file_piece);
  void UpdateInterest(PeerConnection* c);
  void FillRequests(PeerConnection* c);
  bool CanServe(uint32_t piece) const;
  // BanKey names a peer for strikes and bans: its listen address when we
  // dialled it, else its address and peer id (peers behind one NAT, or on
  // one host, are told apart).
  static std::string BanKey(const PeerConnection* c);
  bool Banned(const std::string& key) const;
  void Strike(const std::string& key, int weight);
  void SetState(TorrentState s);
  void EnterError(absl::Status status);
  // OnPieceDone handles a complete piece whose bytes are `data`.
  void OnPieceDone(uint32_t piece, bool passed, ByteSpan data);
  void StartTrackers();
  // AnnounceToDht finds peers for (and announces) this torrent on the
  // client's DHT, unless it is private.
  void AnnounceToDht(absl::Time now);

  TorrentParams params_;
  metainfo::TorrentInfo info_;
  Sha1Hash info_hash_;
  Client* client_ = nullptr;
  TorrentState state_ = TorrentState::kStopped;
  absl::Status error_;

  storage::PosixFileBackend disk_;
  std::unique_ptr<storage::PieceStorage> storage_;
  std::unique_ptr<PiecePicker> picker_;
  Choker choker_;
  RateLimiter upload_limit_, download_limit_;
  std::vector<std::vector<Handler>> handlers_;

  absl::flat_hash_set<PeerConnection*> connections_;
  absl::flat_hash_map<Endpoint, Candidate> candidates_;
  absl::flat_hash_map<std::string, int> strikes_;  // by BanKey
  // Which connection sent each block of pieces in progress, to find the
  // sender of bad data when a piece fails.
  absl::flat_hash_map<uint32_t, std::vector<uint64_t>> block_senders_;
  absl::flat_hash_map<uint64_t, std::string> sender_key_;  // by connection
  // For pieces that failed: each block's sender and the hash of what it
  // sent. When the piece later passes, blocks whose hash differs show who
  // sent bad data.
  struct FailedBlock {
    uint64_t sender = 0;
    Sha1Hash hash;
  };
  absl::flat_hash_map<uint32_t, std::vector<FailedBlock>> failed_blocks_;
  std::unique_ptr<TrackerAnnouncer> announcer_;
  std::vector<std::vector<std::string>> tiers_;
  std::string display_name_;
  std::unique_ptr<MetadataFetcher> metadata_;
  // A v2-only magnet link's info dictionary while its piece layers are
  // fetched, and the fetch.
  std::optional<metainfo::TorrentInfo> layerless_info_;
  std::unique_ptr<PieceLayerFetcher> layers_;
  // Merkle trees above our piece layers, built on the first request for a
  // file (by file index).
  absl::flat_hash_map<size_t, protocol::PieceLayerTree> layer_trees_;

  int64_t uploaded_ = 0, downloaded_ = 0;
  int64_t last_uploaded_ = 0, last_downloaded_ = 0;
  double download_rate_ = 0, upload_rate_ = 0;
  absl::Time last_tick_ = absl::InfinitePast();
  absl::Time next_dht_announce_ = absl::InfinitePast();
  // Callbacks that may outlive the torrent (DHT lookups) check this.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  absl::Time last_resume_save_ = absl::InfinitePast();
  uint32_t pieces_since_save_ = 0;
};

}  // namespace bt::client

#endif  // CLIENT_TORRENT_H_
