#include "client/torrent.h"

#include <fstream>
#include <iterator>
#include <mutex>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "client/client.h"
#include "client/peer_connection.h"
#include "client/tracker_announcer.h"
#include "base/sha.h"
#include "metainfo/magnet.h"
#include "metainfo/merkle.h"
#include "metainfo/peer_id.h"
#include "protocol/ut_metadata.h"
#include "protocol/ut_pex.h"
#include "storage/hash_checker.h"
#include "storage/resume_data.h"

namespace bt::client {
namespace {

// A peer whose data failed a hash this many times is banned.
constexpr int kBanStrikes = 2;
constexpr int kMaxConnectFailures = 3;
constexpr absl::Duration kConnectRetry = absl::Seconds(15);

// IsLocalAddress: loopback or unspecified, where our own listen port
// means ourselves.
bool IsLocalAddress(const Endpoint& e) {
  ByteSpan b = e.address_bytes();
  if (e.is_v4()) return b[0] == 127 || (b[0] | b[1] | b[2] | b[3]) == 0;
  for (size_t i = 0; i < 15; ++i) {
    if (b[i] != 0) return false;
  }
  return b[15] <= 1;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrFormat("cannot open %s", path));
  }
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

}  // namespace

const char* TorrentStateName(TorrentState s) {
  switch (s) {
    case TorrentState::kStopped:
      return "stopped";
    case TorrentState::kChecking:
      return "checking";
    case TorrentState::kDownloading:
      return "downloading";
    case TorrentState::kSeeding:
      return "seeding";
    case TorrentState::kPaused:
      return "paused";
    case TorrentState::kError:
      return "error";
  }
  return "?";
}

Torrent::Torrent(TorrentParams params, metainfo::TorrentInfo info)
    : params_(std::move(params)),
      info_(std::move(info)),
      info_hash_(info_.WireInfoHash()),
      handlers_(kEventTypeCount),
      tiers_(info_.trackers()) {}

Torrent::~Torrent() {
  // Storage reports each file it closes as it is destroyed; close them
  // while the handlers that hear file_close still exist (members are
  // destroyed in reverse order, handlers_ before storage_).
  storage_.reset();
}

absl::StatusOr<std::unique_ptr<Torrent>> Torrent::Open(TorrentParams params) {
  metainfo::TorrentInfo info;
  if (params.torrent_path.empty() && !params.magnet.empty()) {
    ASSIGN_OR_RETURN(metainfo::MagnetLink link,
                     metainfo::ParseMagnet(params.magnet));
    for (const std::string& pe : link.peers) {
      absl::StatusOr<Endpoint> e = Endpoint::Parse(pe);
      if (e.ok()) params.peers.push_back(*e);  // host names are skipped
    }
    std::unique_ptr<Torrent> t(new Torrent(std::move(params), std::move(info)));
    t->info_hash_ = link.info_hash_v1 ? *link.info_hash_v1
                                      : Sha1Hash::FromBytes(
                                            link.info_hash_v2->span());
    t->display_name_ = link.display_name.empty() ? t->info_hash_.ToHex()
                                                 : link.display_name;
    t->tiers_.clear();
    for (const std::string& tr : link.trackers) t->tiers_.push_back({tr});
    t->metadata_ = std::make_unique<MetadataFetcher>(link.info_hash_v1,
                                                     link.info_hash_v2);
    return t;
  }
  if (!params.torrent_path.empty()) {
    ASSIGN_OR_RETURN(std::string bytes, ReadFile(params.torrent_path));
    absl::StatusOr<metainfo::TorrentInfo> parsed =
        metainfo::TorrentInfo::Parse(bytes);
    if (!parsed.ok()) {
      return absl::Status(parsed.status().code(),
                          absl::StrFormat("%s: %s", params.torrent_path,
                                          parsed.status().message()));
    }
    info = *std::move(parsed);
  } else {
    info = params.info;
  }
  if (info.num_pieces() == 0 && info.total_size() == 0 &&
      info.files().empty()) {
    return absl::InvalidArgumentError("no torrent given");
  }
  std::unique_ptr<Torrent> t(new Torrent(std::move(params), std::move(info)));
  RETURN_IF_ERROR(t->InitStorage());
  return t;
}

absl::Status Torrent::InitStorage() {
  storage::StorageOptions options;
  options.on_event = [this](const storage::StorageEvent& s) {
    static constexpr EventType kTypes[] = {
        EventType::kFileOpen, EventType::kFileClose, EventType::kFileRead,
        EventType::kFileWrite, EventType::kFileError};
    EventType type = kTypes[static_cast<int>(s.type)];
    if (!Wants(type)) return;
    Event e;
    e.type = type;
    e.info_hash = info_hash_;
    e.file_index = s.file_index;
    e.path = s.path;
    e.mode = s.mode == storage::OpenMode::kRead ? 'r' : 'w';
    e.length = s.length;
    e.reason = s.message;
    Emit(e);
  };
  ASSIGN_OR_RETURN(storage_,
                   storage::PieceStorage::Create(info_, params_.save_path,
                                                 &disk_, std::move(options)));
  picker_ = std::make_unique<PiecePicker>(
      info_.piece_length(), info_.total_size(),
      storage::Bitfield(info_.num_pieces()));
  return absl::OkStatus();
}

void Torrent::SetRateLimits(int64_t upload, int64_t download) {
  upload_limit_.set_rate(upload);
  download_limit_.set_rate(download);
  if (client_) client_->RefillQuotas();
}

// --- events ---------------------------------------------------------------

void Torrent::OnEvent(EventType type, Handler handler) {
  handlers_[static_cast<size_t>(type)].push_back(std::move(handler));
}

bool Torrent::Wants(EventType type) const {
  return !handlers_[static_cast<size_t>(type)].empty() ||
         (client_ && client_->Wants(type));
}

bool Torrent::Emit(Event& e) {
  e.info_hash = info_hash_;
  bool allow = true;
  for (const Handler& h : handlers_[static_cast<size_t>(e.type)]) {
    allow = h(e) && allow;
  }
  if (client_) allow = client_->Emit(e) && allow;
  return allow;
}

// --- state ----------------------------------------------------------------

const storage::Bitfield& Torrent::have() const {
  static const storage::Bitfield* const kNothing = new storage::Bitfield();
  return picker_ ? picker_->have() : *kNothing;
}

uint32_t Torrent::pieces_have() const {
  return static_cast<uint32_t>(have().Count());
}

bool Torrent::complete() const { return picker_ && picker_->Wanted() == 0; }

const std::string& Torrent::name() const {
  return has_metadata() ? info_.name() : display_name_;
}

std::pair<uint32_t, uint32_t> Torrent::metadata_progress() const {
  if (!metadata_) return {0, 0};
  return {metadata_->pieces_received(), metadata_->pieces_total()};
}

std::pair<uint32_t, uint32_t> Torrent::piece_layer_progress() const {
  if (!layers_) return {0, 0};
  return {static_cast<uint32_t>(layers_->ranges_received()),
          static_cast<uint32_t>(layers_->ranges_total())};
}

int64_t Torrent::bytes_wanted() const {
  if (!picker_) return 0;
  int64_t n = 0;
  for (uint32_t i = 0; i < info_.num_pieces(); ++i) {
    if (picker_->PiecePriority(i) > 0) n += picker_->PieceSize(i);
  }
  return n;
}

int64_t Torrent::bytes_done() const {
  if (!picker_) return 0;
  int64_t n = 0;
  for (uint32_t i = 0; i < info_.num_pieces(); ++i) {
    if (picker_->have().Get(i) && picker_->PiecePriority(i) > 0) {
      n += picker_->PieceSize(i);
    }
  }
  return n;
}

int Torrent::file_priority(size_t file) const {
  return storage_ ? storage_->file_priority(file) : 1;
}

absl::Status Torrent::SetFilePriority(size_t file, int priority) {
  if (!storage_) return absl::FailedPreconditionError("metadata not known yet");
  RETURN_IF_ERROR(storage_->SetFilePriority(file, priority));
  for (uint32_t i = 0; i < info_.num_pieces(); ++i) {
    picker_->SetPiecePriority(i, storage_->PieceWanted(i) ? 1 : 0);
  }
  if (!complete() && state_ == TorrentState::kSeeding) {
    SetState(TorrentState::kDownloading);
  }
  for (PeerConnection* c : connections_) UpdateInterest(c);
  return absl::OkStatus();
}

void Torrent::SetState(TorrentState s) { state_ = s; }

void Torrent::EnterError(absl::Status status) {
  if (state_ == TorrentState::kError) return;
  error_ = std::move(status);
  SetState(TorrentState::kError);
  for (PeerConnection* c : connections_) {
    if (!c->closed()) c->DropRequests();
  }
}

absl::StatusOr<storage::Bitfield> Torrent::CheckAndEmit(
    const storage::Bitfield* pieces) {
  std::mutex mu;
  std::vector<std::pair<uint32_t, bool>> results;
  storage::CheckOptions options;
  options.pieces = pieces;
  options.on_piece = [&](uint32_t piece, bool ok) {
    std::lock_guard<std::mutex> lock(mu);
    results.emplace_back(piece, ok);
  };
  ASSIGN_OR_RETURN(storage::CheckResult r,
                   storage::CheckPieces(info_, *storage_, options));
  // Events run on this thread, after the checking threads are done.
  for (const auto& [piece, ok] : results) {
    Event e;
    e.type = ok ? EventType::kPieceHashPass : EventType::kPieceHashFail;
    e.index = piece;
    if (Wants(e.type)) Emit(e);
  }
  return r.have;
}

void Torrent::AdoptHaveSet(const storage::Bitfield& have) {
  std::vector<int> priorities(info_.num_pieces());
  for (uint32_t i = 0; i < info_.num_pieces(); ++i) {
    priorities[i] = picker_->PiecePriority(i);
  }
  picker_ = std::make_unique<PiecePicker>(info_.piece_length(),
                                          info_.total_size(), have);
  for (uint32_t i = 0; i < info_.num_pieces(); ++i) {
    picker_->SetPiecePriority(i, priorities[i]);
  }
}

absl::Status Torrent::HashCheck() {
  if (!has_metadata()) return absl::OkStatus();  // nothing on disk to check
  const TorrentState before = state_;
  SetState(TorrentState::kChecking);
  absl::StatusOr<storage::Bitfield> have = CheckAndEmit(nullptr);
  if (have.ok()) AdoptHaveSet(*have);
  if (before == TorrentState::kStopped || before == TorrentState::kChecking) {
    SetState(TorrentState::kStopped);
  } else {
    SetState(complete() ? TorrentState::kSeeding : TorrentState::kDownloading);
  }
  return have.status();
}

absl::Status Torrent::LoadState() {
  if (!has_metadata()) return absl::OkStatus();
  std::string bytes;
  if (!params_.resume_path.empty()) {
    absl::StatusOr<std::string> read = ReadFile(params_.resume_path);
    if (read.ok()) bytes = *std::move(read);
  }
  if (bytes.empty()) return HashCheck();
  storage::ResumeState st =
      storage::RestoreResumeData(info_, *storage_, bytes);
  for (size_t f = 0; f < st.file_priorities.size(); ++f) {
    RETURN_IF_ERROR(SetFilePriority(f, st.file_priorities[f]));
  }
  const TorrentState before = state_;
  SetState(TorrentState::kChecking);
  storage::Bitfield have = st.have;
  if (st.recheck.Count() > 0) {
    absl::StatusOr<storage::Bitfield> passed = CheckAndEmit(&st.recheck);
    if (!passed.ok()) {
      SetState(before);
      return passed.status();
    }
    have.Or(*passed);
  }
  AdoptHaveSet(have);
  // Blocks of unfinished pieces that were on disk at the save.
  for (const storage::PartialPiece& p : st.partial) {
    if (p.index >= info_.num_pieces() || have.Get(p.index) ||
        p.block_size != kBlockSize) {
      continue;
    }
    for (size_t b = 0; b < p.blocks.size(); ++b) {
      if (p.blocks.Get(b)) picker_->MarkBlockReceived({p.index, uint32_t(b)});
    }
  }
  for (const Endpoint& peer : st.peers) candidates_.try_emplace(peer);
  SetState(before == TorrentState::kChecking ? TorrentState::kStopped : before);
  return absl::OkStatus();
}

absl::Status Torrent::SaveResumeData(const std::string& path) {
  if (!has_metadata()) return absl::OkStatus();
  const std::string& to = path.empty() ? params_.resume_path : path;
  if (to.empty()) return absl::FailedPreconditionError("no resume path");
  ASSIGN_OR_RETURN(storage::ResumeData rd,
                   storage::CaptureResumeData(info_, *storage_, have(),
                                              absl::ToUnixSeconds(absl::Now())));
  for (const auto& [address, cand] : candidates_) rd.peers.push_back(address);
  for (uint32_t piece : picker_->PartialPieces()) {
    std::vector<bool> received = picker_->ReceivedBlocks(piece);
    storage::PartialPiece p;
    p.index = piece;
    p.piece_size = picker_->PieceSize(piece);
    p.blocks = storage::Bitfield(received.size());
    bool any = false;
    for (size_t b = 0; b < received.size(); ++b) {
      if (received[b]) p.blocks.Set(b), any = true;
    }
    if (any) rd.partial.push_back(std::move(p));
  }
  RETURN_IF_ERROR(storage::SaveResumeData(disk_, to, rd));
  last_resume_save_ = absl::Now();
  pieces_since_save_ = 0;
  return absl::OkStatus();
}

absl::Status Torrent::Start() {
  if (!client_) {
    return absl::FailedPreconditionError(
        "a torrent without a client can only check data");
  }
  if (state_ == TorrentState::kError && storage_) storage_->ClearError();
  error_ = absl::OkStatus();
  const bool was_stopped = state_ == TorrentState::kStopped;
  SetState(complete() ? TorrentState::kSeeding : TorrentState::kDownloading);
  if (was_stopped) StartTrackers();
  for (PeerConnection* c : connections_) {
    UpdateInterest(c);
    FillRequests(c);
  }
  ConnectMore(absl::Now());
  return absl::OkStatus();
}

absl::Status Torrent::Pause() {
  if (state_ == TorrentState::kStopped) {
    return absl::FailedPreconditionError("torrent is stopped");
  }
  SetState(TorrentState::kPaused);
  for (PeerConnection* c : connections_) {
    if (c->closed()) continue;
    c->DropRequests();
    c->SetInterested(false);
    c->SetChoking(true);
  }
  return absl::OkStatus();
}

absl::Status Torrent::Stop() {
  if (state_ == TorrentState::kStopped) return absl::OkStatus();
  if (!params_.resume_path.empty() && state_ != TorrentState::kChecking) {
    // Best effort: a failure to save must not keep the torrent running.
    if (absl::Status s = SaveResumeData(); !s.ok()) EnterError(s);
  }
  SetState(TorrentState::kStopped);
  std::vector<PeerConnection*> open(connections_.begin(), connections_.end());
  for (PeerConnection* c : open) c->Close("torrent stopped");
  if (announcer_) announcer_->Stop();
  return absl::OkStatus();
}

void Torrent::StartTrackers() {
  if (!client_ || tiers_.empty() || !client_->trackers_) return;
  TrackerAnnouncer::Options options;
  options.peer_id = client_->peer_id();
  options.port = client_->port();
  announcer_ = std::make_unique<TrackerAnnouncer>(
      client_->loop_.get(), client_->trackers_.get(), info_hash_,
      tiers_, has_metadata() && info_.is_private(), options,
      [this] {
        // Before the metadata, "left" is unknown but not zero (not a seed).
        int64_t left = has_metadata() ? bytes_wanted() - bytes_done() : 1;
        return TrackerAnnouncer::TransferStats{uploaded_, downloaded_, left};
      },
      [this](const tracker::TrackerEvent& te) {
        Event e;
        std::visit(
            [&](const auto& v) {
              using T = std::decay_t<decltype(v)>;
              e.tracker = v.tracker;
              if constexpr (std::is_same_v<T, tracker::TrackerConnectEvent>) {
                e.type = EventType::kTrackerConnect;
                e.announce_event = tracker::AnnounceEventName(v.event);
              } else if constexpr (std::is_same_v<
                                       T, tracker::TrackerDisconnectEvent>) {
                e.type = EventType::kTrackerDisconnect;
              } else if constexpr (std::is_same_v<
                                       T, tracker::TrackerSuccessEvent>) {
                e.type = EventType::kTrackerSuccess;
                e.announce_event = tracker::AnnounceEventName(v.event);
                e.complete = v.complete;
                e.incomplete = v.incomplete;
                e.interval = v.interval;
                e.min_interval = v.min_interval;
                e.peers = v.peers;
                for (const Endpoint& p : v.peers) AddPeer(p);
              } else if constexpr (std::is_same_v<
                                       T, tracker::TrackerFailureEvent>) {
                e.type = EventType::kTrackerFailure;
                e.announce_event = tracker::AnnounceEventName(v.event);
                e.reason = v.reason;
              } else if constexpr (std::is_same_v<T,
                                                  tracker::TrackerReadEvent>) {
                e.type = EventType::kTrackerRead;
                e.length = static_cast<int64_t>(v.length);
              } else {
                e.type = EventType::kTrackerWrite;
                e.length = static_cast<int64_t>(v.length);
              }
            },
            te);
        if (Wants(e.type)) Emit(e);
      });
  announcer_->Start();
  if (complete()) announcer_->SetCompleted();
}

// --- peers ----------------------------------------------------------------

void Torrent::AttachClient(Client* client) {
  client_ = client;
  Choker::Options options;
  options.upload_slots = client->options().upload_slots;
  choker_ = Choker(options);
}

std::vector<PeerInfo> Torrent::peers() const {
  std::vector<PeerInfo> out;
  for (const PeerConnection* c : connections_) {
    if (c->closed() || !c->active()) continue;
    PeerInfo p;
    p.connection = c->id();
    p.address = c->address();
    p.peer_id = c->ref().peer_id;
    p.client = metainfo::DescribeClient(p.peer_id);
    p.incoming = c->incoming();
    p.encrypted = c->encrypted();
    p.am_choking = c->am_choking();
    p.am_interested = c->am_interested();
    p.peer_choking = c->peer_choking();
    p.peer_interested = c->peer_interested();
    p.download_rate = c->download_rate();
    p.upload_rate = c->upload_rate();
    p.pieces = c->peer_pieces();
    out.push_back(std::move(p));
  }
  return out;
}

void Torrent::AddPeer(const Endpoint& peer, bool from_pex) {
  if (Banned(peer.ToString())) return;
  if (from_pex && (is_private() || candidates_.size() >= kMaxCandidates)) {
    return;
  }
  if (peer.port() == 0 || (client_ && peer.port() == client_->port() &&
                           IsLocalAddress(peer))) {
    return;  // not connectable, or ourselves
  }
  candidates_.try_emplace(peer);
  if (client_ && (state_ == TorrentState::kDownloading ||
                  state_ == TorrentState::kSeeding)) {
    ConnectMore(absl::Now());
  }
}

void Torrent::ConnectMore(absl::Time now) {
  if (!client_) return;
  if (state_ != TorrentState::kDownloading && state_ != TorrentState::kSeeding) {
    return;
  }
  const ClientOptions& o = client_->options();
  for (auto& [address, cand] : candidates_) {
    if (static_cast<int>(connections_.size()) >=
            o.max_connections_per_torrent ||
        static_cast<int>(client_->connections_.size()) >= o.max_connections ||
        client_->half_open() >= o.max_half_open) {
      return;
    }
    if (cand.connected || cand.failures >= kMaxConnectFailures ||
        now < cand.retry_at) {
      continue;
    }
    // A seed has nothing to gain from connecting to other seeds; it still
    // accepts them and connects to everyone else.
    cand.retry_at = now + kConnectRetry;
    bool encrypt = o.encryption != protocol::EncryptionPolicy::kDisabled &&
                   !cand.plain_only;
    if (client_->Connect(this, address, encrypt)) cand.connected = true;
  }
}

void Torrent::OnConnected(PeerConnection* c) {
  // One connection per peer address: an incoming one for a candidate we
  // also dialled replaces nothing, it just counts as connected.
  if (!c->incoming()) {
    auto it = candidates_.find(c->address());
    if (it != candidates_.end()) it->second.failures = 0;
  }
  if (Banned(BanKey(c))) {
    c->Close("banned for sending data that failed hash checks");
    return;
  }
  connections_.insert(c);
  sender_key_[c->id()] = BanKey(c);
}

void Torrent::OnClosed(PeerConnection* c, bool mse_refused) {
  if (connections_.erase(c)) {
    if (metadata_) metadata_->OnPeerGone(c->id());
    if (layers_) layers_->OnPeerGone(c->id());
    if (picker_) {
      picker_->OnPeerGone(c->id());
      if (c->active() && c->peer_have().size() == info_.num_pieces()) {
        picker_->RemovePeerBitfield(c->peer_have());
      }
    }
  }
  if (!c->incoming()) {
    auto it = candidates_.find(c->address());
    if (it != candidates_.end()) {
      it->second.connected = false;
      if (mse_refused && client_->options().encryption ==
                             protocol::EncryptionPolicy::kEnabled) {
        // The peer does not speak MSE: try again in plaintext at once.
        it->second.plain_only = true;
        it->second.retry_at = absl::InfinitePast();
      } else if (!c->active()) {
        ++it->second.failures;
      }
    }
  }
}

void Torrent::OnPeerHas(PeerConnection* c, uint32_t piece) {
  if (!picker_) return;
  picker_->AddPeerHave(piece);
  if (!c->am_interested() && !have().Get(piece) &&
      picker_->PiecePriority(piece) > 0) {
    UpdateInterest(c);
  }
  FillRequests(c);
}

void Torrent::OnPeerHaveSet(PeerConnection* c) {
  if (!picker_) return;
  picker_->AddPeerBitfield(c->peer_have());
  if (complete() && c->peer_is_seed()) {
    c->Close("both sides are seeds");
    return;
  }
  UpdateInterest(c);
}

void Torrent::UpdateInterest(PeerConnection* c) {
  if (c->closed() || !c->active() || !picker_) return;
  const bool want = state_ != TorrentState::kPaused &&
                    state_ != TorrentState::kError &&
                    picker_->IsInteresting(c->peer_have());
  c->SetInterested(want);
  if (want) FillRequests(c);
}

bool Torrent::CanServe(uint32_t piece) const {
  return picker_ && piece < info_.num_pieces() && have().Get(piece) &&
         (state_ == TorrentState::kDownloading ||
          state_ == TorrentState::kSeeding);
}

void Torrent::FillRequests(PeerConnection* c) {
  if (!picker_) {
    RequestMetadata(c);
    return;
  }
  if (c->closed() || !c->active() || !c->am_interested() ||
      state_ != TorrentState::kDownloading) {
    return;
  }
  const int room = c->RequestDepth() - static_cast<int>(c->requests_in_flight());
  if (room < 4 && c->requests_in_flight() > 0) return;  // batch requests
  std::vector<BlockRef> blocks;
  if (!c->peer_choking()) {
    picker_->Pick(c->peer_have(), room, c->id(), &blocks);
  } else {
    // Choked: only the peer's allowed-fast pieces (BEP 6).
    storage::Bitfield allowed = c->RequestableHaveSet();
    if (allowed.None()) return;
    picker_->Pick(allowed, room, c->id(), &blocks);
  }
  c->SendRequests(blocks);
}

void Torrent::OnBlock(PeerConnection* c, uint32_t piece, uint32_t begin,
                      std::string_view data) {
  if (state_ != TorrentState::kDownloading || !picker_) return;
  if (begin % kBlockSize != 0 || piece >= info_.num_pieces()) return;
  BlockRef block{piece, begin / kBlockSize};
  if (data.size() != picker_->BlockLength(block)) return;
  // Never write over a verified piece, or a block already in place: a late
  // endgame copy or an unasked-for block is dropped.
  if (!picker_->AwaitsBlock(block)) return;
  std::vector<uint64_t> cancel_for;
  // Write first: a block is only counted as received once it is on disk.
  absl::Status written = storage_->WriteBlock(piece, begin, AsBytes(data));
  if (!written.ok()) {
    picker_->OnRequestDropped(block, c->id());
    EnterError(written);
    return;
  }
  const bool piece_complete = picker_->OnBlockReceived(block, c->id(), &cancel_for);
  downloaded_ += static_cast<int64_t>(data.size());
  auto& senders = block_senders_[piece];
  if (senders.empty()) senders.resize(picker_->BlocksInPiece(piece));
  if (block.block < senders.size()) senders[block.block] = c->id();
  for (uint64_t other : cancel_for) {
    for (PeerConnection* p : connections_) {
      if (p->id() == other && !p->closed()) p->SendCancel(block);
    }
  }
  if (!piece_complete) return;

  std::string buf(static_cast<size_t>(picker_->PieceSize(piece)), '\0');
  absl::Status read = storage_->ReadBlock(
      piece, 0, MutableByteSpan(reinterpret_cast<uint8_t*>(buf.data()),
                                buf.size()));
  const bool passed =
      read.ok() && storage::PieceMatches(info_, piece, AsBytes(buf));
  OnPieceDone(piece, passed, AsBytes(buf));
}

std::string Torrent::BanKey(const PeerConnection* c) {
  return c->incoming() ? c->address().AddressString() + "/" +
                             c->ref().peer_id.ToHex()
                       : c->address().ToString();
}

bool Torrent::Banned(const std::string& key) const {
  auto it = strikes_.find(key);
  return it != strikes_.end() && it->second >= kBanStrikes;
}

void Torrent::Strike(const std::string& key, int weight) {
  strikes_[key] += weight;
  if (!Banned(key)) return;
  std::vector<PeerConnection*> open(connections_.begin(), connections_.end());
  for (PeerConnection* c : open) {
    if (!c->closed() && BanKey(c) == key) {
      c->Close("banned for sending data that failed hash checks");
    }
  }
}

void Torrent::OnPieceDone(uint32_t piece, bool passed, ByteSpan data) {
  std::vector<uint64_t> senders = std::move(block_senders_[piece]);
  block_senders_.erase(piece);
  auto block_hash = [&](size_t b) {
    size_t begin = b * kBlockSize;
    return Sha1(data.subspan(begin, std::min<size_t>(kBlockSize,
                                                     data.size() - begin)));
  };
  Event e;
  e.type = passed ? EventType::kPieceHashPass : EventType::kPieceHashFail;
  e.index = piece;
  if (!passed) {
    picker_->OnPieceFailed(piece);
    absl::flat_hash_set<uint64_t> distinct(senders.begin(), senders.end());
    distinct.erase(0);
    if (distinct.size() == 1) {
      // One peer sent the whole piece: it alone is to blame.
      auto it = sender_key_.find(*distinct.begin());
      if (it != sender_key_.end()) Strike(it->second, kBanStrikes);
    } else {
      // Several senders: keep what each sent, to compare with the good
      // piece once it arrives.
      std::vector<FailedBlock>& blocks = failed_blocks_[piece];
      blocks.clear();
      for (size_t b = 0; b < senders.size(); ++b) {
        blocks.push_back(FailedBlock{senders[b], block_hash(b)});
      }
    }
    if (Wants(e.type)) Emit(e);
    return;
  }
  if (auto it = failed_blocks_.find(piece); it != failed_blocks_.end()) {
    absl::flat_hash_set<uint64_t> culprits;
    for (size_t b = 0; b < it->second.size(); ++b) {
      if (it->second[b].sender != 0 && it->second[b].hash != block_hash(b)) {
        culprits.insert(it->second[b].sender);
      }
    }
    failed_blocks_.erase(it);
    for (uint64_t id : culprits) {
      auto a = sender_key_.find(id);
      if (a != sender_key_.end()) Strike(a->second, kBanStrikes);
    }
  }
  picker_->OnPieceVerified(piece);
  ++pieces_since_save_;
  if (Wants(e.type)) Emit(e);
  std::vector<PeerConnection*> open(connections_.begin(), connections_.end());
  for (PeerConnection* c : open) {
    if (c->closed()) continue;
    c->SendHave(piece);
    if (c->am_interested()) UpdateInterest(c);
  }
  if (complete()) {
    SetState(TorrentState::kSeeding);
    if (announcer_) announcer_->SetCompleted();
    if (!params_.resume_path.empty()) {
      if (absl::Status s = SaveResumeData(); !s.ok()) EnterError(s);
    }
    for (PeerConnection* c : open) {
      if (!c->closed() && c->peer_is_seed()) c->Close("both sides are seeds");
    }
  }
}

void Torrent::AnnounceToDht(absl::Time now) {
  if (!client_ || !client_->dht() || is_private() ||
      (state_ != TorrentState::kDownloading &&
       state_ != TorrentState::kSeeding)) {
    return;
  }
  // Often while peers are scarce, else every 15 minutes (BEP 5's pace).
  next_dht_announce_ =
      now + (connections_.size() < 5 ? absl::Seconds(20) : absl::Minutes(15));
  std::weak_ptr<int> alive = alive_;
  client_->dht()->Announce(info_hash_, client_->port(), /*implied_port=*/false,
                           [this, alive](const dht::LookupResult& r) {
                             if (alive.expired()) return;
                             for (const Endpoint& p : r.peers) AddPeer(p);
                           });
}

// --- metadata (BEP 9) ------------------------------------------------------

void Torrent::OnMetadataSizeOffered(PeerConnection* c, uint64_t size) {
  if (!metadata_ || has_metadata()) return;
  if (!metadata_->OnSizeOffered(c->id(), size)) return;
  RequestMetadata(c);
}

void Torrent::RequestMetadata(PeerConnection* c) {
  if (has_metadata() || !metadata_ || c->closed() || !c->active() ||
      !c->offers_metadata()) {
    return;
  }
  const absl::Time now = absl::Now();
  while (c->metadata_requests() < 2) {
    std::optional<uint32_t> piece = metadata_->NextRequest(c->id(), now);
    if (!piece) return;
    c->SendMetadataRequest(*piece);
  }
}

void Torrent::OnMetadataMessage(PeerConnection* c, MetadataMessageView m) {
  if (m.type == 0) {  // a request: serve it if we have the metadata
    const std::string& bytes = info_.info_bytes();
    const uint64_t offset = uint64_t{m.piece} * protocol::kMetadataPieceSize;
    if (has_metadata() && offset < bytes.size()) {
      c->SendMetadataData(m.piece, std::string_view(bytes).substr(
                                       offset, protocol::kMetadataPieceSize),
                          bytes.size());
    } else {
      c->SendMetadataReject(m.piece);
    }
    return;
  }
  if (!metadata_ || has_metadata()) return;
  if (m.type == 2) {
    metadata_->OnReject(c->id(), m.piece);
    RequestMetadata(c);
    return;
  }
  std::vector<uint64_t> culprits;
  switch (metadata_->OnData(c->id(), m.piece, m.data, &culprits)) {
    case MetadataFetcher::Result::kComplete:
      if (absl::Status s = AdoptMetadata(); !s.ok()) EnterError(s);
      return;
    case MetadataFetcher::Result::kHashFailed:
      for (uint64_t id : culprits) {
        auto it = sender_key_.find(id);
        if (it != sender_key_.end()) Strike(it->second, culprits.size() == 1 ? kBanStrikes : 1);
      }
      break;
    default:
      break;
  }
  RequestMetadata(c);
}

absl::Status Torrent::AdoptMetadata() {
  absl::StatusOr<metainfo::TorrentInfo> info =
      metainfo::TorrentInfo::ParseInfoDict(metadata_->metadata());
  if (!info.ok()) {
    return absl::Status(info.status().code(),
                        absl::StrFormat("metadata from peers: %s",
                                        info.status().message()));
  }
  metadata_.reset();
  if (!info->has_piece_layers() && !info->has_v1()) {
    // v2 only: pieces can be checked once peers hand over the layers.
    layers_ = std::make_unique<PieceLayerFetcher>(*info);
    layerless_info_ = *std::move(info);
    std::vector<PeerConnection*> open(connections_.begin(), connections_.end());
    for (PeerConnection* c : open) RequestPieceLayers(c);
    return absl::OkStatus();
  }
  return Adopt(*std::move(info));
}

absl::Status Torrent::Adopt(metainfo::TorrentInfo info) {
  info_ = std::move(info);
  RETURN_IF_ERROR(InitStorage());
  const TorrentState running = state_;
  RETURN_IF_ERROR(LoadState());
  SetState(running == TorrentState::kPaused ? running
           : complete()                     ? TorrentState::kSeeding
                                            : TorrentState::kDownloading);
  std::vector<PeerConnection*> open(connections_.begin(), connections_.end());
  for (PeerConnection* c : open) {
    if (!c->closed() && c->active()) c->OnMetadata();
  }
  return absl::OkStatus();
}

// --- piece layers (BEP 52) -------------------------------------------------

void Torrent::OnHashRequest(PeerConnection* c, const protocol::HashRange& r) {
  const std::optional<size_t> file =
      has_metadata() && info_.has_v2() && info_.has_piece_layers()
          ? protocol::FileWithPiecesRoot(info_, r.pieces_root)
          : std::nullopt;
  if (file && !layer_trees_.contains(*file)) {
    absl::StatusOr<protocol::PieceLayerTree> tree =
        protocol::PieceLayerTree::ForFile(info_, *file);
    if (tree.ok()) layer_trees_.emplace(*file, *std::move(tree));
  }
  auto it = file ? layer_trees_.find(*file) : layer_trees_.end();
  absl::StatusOr<std::string> hashes =
      absl::NotFoundError("no piece layer for that root");
  if (it != layer_trees_.end() && r.base_layer == 0 &&
      info_.piece_length() > metainfo::kMerkleBlockSize) {
    // Block hashes cost a piece read each: only for peers we serve data,
    // which are the ones that ask for them after a piece failed.
    if (!c->am_choking()) {
      hashes = it->second.AnswerBlocks(r, [&](uint32_t piece) {
        return PieceLeaves(*file, piece);
      });
    }
  } else if (it != layer_trees_.end()) {
    hashes = it->second.Answer(r);
  }
  if (hashes.ok()) {
    c->SendHashMessage(protocol::Hashes{r, *hashes});
  } else {
    c->SendHashMessage(protocol::HashReject{r});
  }
}

absl::StatusOr<std::vector<Sha256Hash>> Torrent::PieceLeaves(
    size_t file, uint32_t file_piece) {
  const metainfo::FileEntry& f = info_.files()[file];
  const int64_t plen = info_.piece_length();
  const uint32_t piece = static_cast<uint32_t>(f.offset / plen) + file_piece;
  const int64_t begin = int64_t{file_piece} * plen;
  if (begin >= f.size || !have().Get(piece)) {
    return absl::NotFoundError(absl::StrFormat("piece %d is not ours", piece));
  }
  std::string data(static_cast<size_t>(std::min(plen, f.size - begin)), '\0');
  RETURN_IF_ERROR(storage_->ReadBlock(
      piece, 0, MutableByteSpan(reinterpret_cast<uint8_t*>(data.data()),
                                data.size())));
  std::vector<Sha256Hash> leaves;
  leaves.reserve(static_cast<size_t>(plen / metainfo::kMerkleBlockSize));
  for (size_t at = 0; at < data.size(); at += metainfo::kMerkleBlockSize) {
    leaves.push_back(Sha256(AsBytes(std::string_view(data).substr(
        at, metainfo::kMerkleBlockSize))));
  }
  leaves.resize(static_cast<size_t>(plen / metainfo::kMerkleBlockSize));
  return leaves;
}

void Torrent::RequestPieceLayers(PeerConnection* c) {
  if (!layers_ || c->closed() || !c->active()) return;
  const absl::Time now = absl::Now();
  while (c->hash_requests() < 2) {
    std::optional<protocol::HashRange> r = layers_->NextRequest(c->id(), now);
    if (!r) return;
    c->SendHashMessage(protocol::HashRequest{*r});
  }
}

void Torrent::OnHashes(PeerConnection* c, const protocol::Hashes& m) {
  if (!layers_) return;
  switch (layers_->OnHashes(c->id(), m)) {
    case PieceLayerFetcher::Result::kBad:
      // Hashes that do not prove out are made up, not a transfer error.
      Strike(BanKey(c), kBanStrikes);
      break;
    case PieceLayerFetcher::Result::kComplete: {
      metainfo::TorrentInfo info = *std::move(layerless_info_);
      layerless_info_.reset();
      absl::Status s = info.AddPieceLayers(layers_->PieceLayers());
      layers_.reset();
      if (s.ok()) s = Adopt(std::move(info));
      if (!s.ok()) EnterError(s);
      return;
    }
    default:
      break;
  }
  RequestPieceLayers(c);
}

void Torrent::OnHashReject(PeerConnection* c, const protocol::HashRange& r) {
  if (!layers_) return;
  layers_->OnReject(c->id(), r);
  RequestPieceLayers(c);
}

// --- periodic work --------------------------------------------------------

void Torrent::Tick(absl::Time now) {
  const double seconds =
      last_tick_ == absl::InfinitePast()
          ? 1.0
          : std::max(absl::ToDoubleSeconds(now - last_tick_), 0.001);
  last_tick_ = now;
  download_rate_ = 0.8 * download_rate_ +
                   0.2 * double(downloaded_ - last_downloaded_) / seconds;
  upload_rate_ =
      0.8 * upload_rate_ + 0.2 * double(uploaded_ - last_uploaded_) / seconds;
  last_downloaded_ = downloaded_;
  last_uploaded_ = uploaded_;

  std::vector<PeerConnection*> open(connections_.begin(), connections_.end());
  for (PeerConnection* c : open) {
    if (c->closed()) continue;
    c->Tick(now);
    if (!c->closed()) FillRequests(c);
    RequestPieceLayers(c);
  }
  if (choker_.Due(now)) RunChoker(now);
  ConnectMore(now);
  if (now >= next_dht_announce_) AnnounceToDht(now);
  if (!is_private()) {
    std::vector<std::pair<Endpoint, uint8_t>> current;
    for (PeerConnection* c : connections_) {
      if (c->closed() || !c->active()) continue;
      if (std::optional<Endpoint> e = c->ListenAddress()) {
        uint8_t flags = (c->peer_is_seed() ? protocol::kPexSeed : 0) |
                        (c->encrypted() ? protocol::kPexPrefersEncryption : 0);
        current.emplace_back(*e, flags);
      }
    }
    for (PeerConnection* c : open) {
      if (!c->closed()) c->SendPex(current, now);
    }
  }
  // Resume data: every 30 s while pieces keep arriving, sooner after a
  // batch of them, so a crash loses little.
  if (!params_.resume_path.empty() && pieces_since_save_ > 0 &&
      (now - last_resume_save_ >= absl::Seconds(30) ||
       pieces_since_save_ >= 64)) {
    if (absl::Status s = SaveResumeData(); !s.ok()) EnterError(s);
  }
}

void Torrent::RunChoker(absl::Time now) {
  std::vector<ChokerPeer> stats;
  for (PeerConnection* c : connections_) {
    if (c->closed() || !c->active()) continue;
    ChokerPeer p;
    p.id = c->id();
    p.interested = c->peer_interested();
    p.snubbed = c->snubbed();
    p.download_rate = c->download_rate();
    p.upload_rate = c->upload_rate();
    p.connected_at = c->connected_at();
    stats.push_back(p);
  }
  const bool serving = state_ == TorrentState::kDownloading ||
                       state_ == TorrentState::kSeeding;
  std::vector<uint64_t> unchoke =
      choker_.Rechoke(stats, state_ == TorrentState::kSeeding, now);
  absl::flat_hash_set<uint64_t> set(unchoke.begin(), unchoke.end());
  std::vector<PeerConnection*> open(connections_.begin(), connections_.end());
  for (PeerConnection* c : open) {
    if (!c->closed() && c->active()) {
      c->SetChoking(!(serving && set.contains(c->id())));
    }
  }
}

}  // namespace bt::client
