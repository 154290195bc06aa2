// PeerSession: lifecycle, the receive path, the handshake and output. The
// peer-wire messages are handled in peer_session_messages.cc, extensions
// (BEP 9, 10, 11, 52) in peer_session_extensions.cc.
#include "client/session/peer_session.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "protocol/allowed_fast.h"

namespace bt::client {
namespace {

// BEP 6 suggests 10 allowed-fast pieces.
constexpr uint32_t kAllowedFastCount = 10;
// After the metadata, messages may be as large as the bitfield, and at
// least this (extension handshakes, metadata pieces, hashes).
constexpr uint32_t kMinMaxMessage = 128 * 1024;
// A choked peer's send buffer larger than this is freed once sent.
constexpr size_t kIdleSendBuffer = 64 * 1024;

protocol::ParserOptions InitialParserOptions(const SessionLimits& limits) {
  protocol::ParserOptions o;
  o.expect_handshake = true;
  o.max_message_length = limits.max_message_before_metadata;
  return o;
}

}  // namespace

PeerSession::PeerSession(PeerSessionOptions options, SessionTorrent* torrent,
                         absl::Time now)
    : options_(std::move(options)),
      torrent_(options_.incoming ? nullptr : torrent),
      phase_(Phase::kConnecting),
      parser_(InitialParserOptions(options_.limits)),
      serve_(options_.limits.max_queued_requests),
      message_budget_(options_.limits.max_messages_per_second,
                      options_.limits.max_messages_per_second,
                      options_.limits.max_messages_per_second) {
  started_ = connected_at_ = last_received_ = last_sent_ = last_block_ =
      last_rate_tick_ = now;
}

PeerSession::~PeerSession() = default;

void PeerSession::Start(absl::Time now) {
  if (phase_ != Phase::kConnecting) return;
  started_ = connected_at_ = last_received_ = last_sent_ = now;
  protocol::MseOptions mse;
  mse.policy = options_.encryption;
  mse.timeout = options_.limits.handshake_timeout;
  mse.random_bytes = options_.random_bytes;
  if (options_.incoming) {
    if (options_.encryption == protocol::EncryptionPolicy::kDisabled) {
      phase_ = Phase::kHandshake;
      return;
    }
    static const protocol::SkeyTable kNoTorrents;
    mse_ = std::make_unique<protocol::MseResponder>(
        options_.skeys ? options_.skeys : &kNoTorrents, mse, now);
    phase_ = Phase::kMse;
    return;
  }
  if (!torrent_) {
    Fail(absl::FailedPreconditionError("outgoing session without a torrent"));
    return;
  }
  // kForced means MSE only, whatever `encrypt` says.
  if ((!options_.encrypt &&
       options_.encryption != protocol::EncryptionPolicy::kForced) ||
      options_.encryption == protocol::EncryptionPolicy::kDisabled) {
    phase_ = Phase::kHandshake;
    Send(OurHandshakeBytes());
    return;
  }
  // Our handshake travels as MSE's initial payload.
  auto initiator = std::make_unique<protocol::MseInitiator>(
      torrent_->info_hash(), OurHandshakeBytes(), mse, now);
  std::string out;
  if (absl::Status s = initiator->Start(&out); !s.ok()) {
    Fail(std::move(s));
    return;
  }
  mse_ = std::move(initiator);
  phase_ = Phase::kMse;
  out_.append(out);
}

void PeerSession::Close(absl::Status reason) {
  if (closed()) return;
  phase_ = Phase::kClosed;
  close_reason_ = std::move(reason);
  out_.clear();
  out_pos_ = 0;
  files_.clear();
  file_bytes_ = 0;
}

void PeerSession::Fail(absl::Status status) {
  if (closed()) return;
  Close(std::move(status));
}

bool PeerSession::PlaintextRetryAdvised() const {
  auto* initiator = dynamic_cast<const protocol::MseInitiator*>(mse_.get());
  return !options_.incoming && initiator && !initiator->done() &&
         initiator->PlaintextRetryAdvised();
}

// --- receive path -----------------------------------------------------------

void PeerSession::Receive(absl::Span<char> bytes, absl::Time now,
                          std::shared_ptr<const void> keeper) {
  if (closed() || phase_ == Phase::kConnecting || bytes.empty()) return;
  last_received_ = now;
  SyncMetadata();
  if (closed()) return;  // what the peer said before the metadata was wrong
  if (phase_ == Phase::kMse) {
    std::string reply;
    absl::Status s =
        mse_->Receive(std::string_view(bytes.data(), bytes.size()), &reply);
    if (!s.ok()) return Fail(std::move(s));
    out_.append(reply);
    if (!mse_->done()) return;
    phase_ = Phase::kHandshake;
    const std::string payload = mse_->TakeReceivedPayload();
    FeedParser(payload, now);
    return;
  }
  if (mse_) {
    mse_->Decrypt(MutableByteSpan(reinterpret_cast<uint8_t*>(bytes.data()),
                                  bytes.size()));
  }
  received_ = std::string_view(bytes.data(), bytes.size());
  received_keeper_ = std::move(keeper);
  FeedParser(received_, now);
  received_keeper_.reset();
  received_ = {};
}

void PeerSession::FeedParser(std::string_view plain, absl::Time now) {
  parser_.Feed(plain);
  int handled = 0;
  while (!closed()) {
    absl::StatusOr<std::optional<protocol::Message>> m = parser_.Next();
    if (!m.ok()) return Fail(m.status());
    if (!*m) break;
    ++handled;
    if (absl::Status s = OnMessage(**m, now); !s.ok()) return Fail(std::move(s));
  }
  message_budget_.Refill(now);
  message_budget_.Take(handled);
  if (!closed()) ServeControl();
}

bool PeerSession::InputThrottled(absl::Time now) {
  message_budget_.Refill(now);
  return message_budget_.tokens() < 0;
}

void PeerSession::SyncMetadata() {
  if (pieces_known_ == 0 && torrent_ && torrent_->metainfo() &&
      phase_ == Phase::kActive) {
    OnMetadata();
  }
}

// --- handshake --------------------------------------------------------------

std::string PeerSession::OurHandshakeBytes() {
  protocol::Handshake hs;
  hs.reserved.Set(protocol::ReservedBit::kExtension)
      .Set(protocol::ReservedBit::kFast)
      .Set(protocol::ReservedBit::kDht, options_.dht_port.has_value());
  hs.info_hash = torrent_->info_hash();
  hs.peer_id = options_.peer_id;
  std::string bytes;
  protocol::AppendHandshake(hs, &bytes);
  handshake_sent_ = true;
  if (Wants(EventType::kPacketOutgoingHandshake)) {
    Event e = NewEvent(EventType::kPacketOutgoingHandshake);
    e.reserved = hs.reserved.bytes();
    e.handshake_info_hash = hs.info_hash;
    e.handshake_peer_id = hs.peer_id;
    events_.push_back(std::move(e));
  }
  return bytes;
}

absl::Status PeerSession::OnHandshake(const protocol::Handshake& hs,
                                      absl::Time now) {
  if (!torrent_) {
    SessionTorrent* t =
        options_.find_torrent ? options_.find_torrent(hs.info_hash) : nullptr;
    if (!t) {
      return absl::NotFoundError(absl::StrFormat(
          "handshake for unknown torrent %s", hs.info_hash.ToHex()));
    }
    auto* responder = dynamic_cast<protocol::MseResponder*>(mse_.get());
    if (responder && responder->skey() && *responder->skey() != hs.info_hash) {
      return absl::InvalidArgumentError(
          "handshake info-hash differs from the encryption key's torrent");
    }
    torrent_ = t;
  } else if (hs.info_hash != torrent_->info_hash()) {
    return absl::InvalidArgumentError("handshake for a different torrent");
  }
  if (hs.peer_id == options_.peer_id) {
    return absl::FailedPreconditionError("connected to ourselves");
  }
  their_handshake_ = hs;
  if (Wants(EventType::kPacketIncomingHandshake)) {
    Event e = NewEvent(EventType::kPacketIncomingHandshake);
    e.reserved = hs.reserved.bytes();
    e.handshake_info_hash = hs.info_hash;
    e.handshake_peer_id = hs.peer_id;
    events_.push_back(std::move(e));
  }
  fast_ = hs.reserved.Has(protocol::ReservedBit::kFast);
  parser_.set_fast_extension(fast_);
  if (!handshake_sent_) Send(OurHandshakeBytes());
  BecomeActive(now);
  return absl::OkStatus();
}

void PeerSession::BecomeActive(absl::Time now) {
  phase_ = Phase::kActive;
  connected_at_ = last_block_ = now;
  events_.push_back(PeerHandshakeDone{});
  if (their_handshake_.reserved.Has(protocol::ReservedBit::kExtension)) {
    SendExtensionHandshake();
  }
  // BEP 5: tell a DHT-capable peer where our DHT node listens.
  if (options_.dht_port &&
      their_handshake_.reserved.Has(protocol::ReservedBit::kDht)) {
    SendMessage(protocol::Port{*options_.dht_port},
                EventType::kPacketOutgoingPort);
  }
  if (torrent_->metainfo()) {
    OnMetadata();
  } else if (fast_) {
    // Nothing to offer until the metadata arrives.
    SendMessage(protocol::HaveNone{}, EventType::kPacketOutgoingHaveNone);
    have_none_sent_ = true;
  }
}

void PeerSession::OnMetadata() {
  if (closed() || !active() || pieces_known_ != 0 || !torrent_->metainfo()) return;
  const uint32_t n = torrent_->metainfo()->num_pieces();
  pieces_known_ = n;
  parser_.set_num_pieces(n);
  parser_.set_max_message_length(
      std::max<uint32_t>(kMinMaxMessage, (n + 7) / 8 + 1));
  peer_have_ = storage::Bitfield(n);
  allowed_by_peer_ = storage::Bitfield(n);
  peer_pieces_ = 0;
  if (pending_all_.value_or(false)) {
    peer_have_ = storage::Bitfield(n, true);
  } else if (!pending_bitfield_.empty()) {
    absl::StatusOr<storage::Bitfield> bits =
        storage::Bitfield::FromBytes(pending_bitfield_, n);
    if (!bits.ok()) return Fail(bits.status());
    peer_have_ = *std::move(bits);
  }
  for (uint32_t piece : pending_haves_) {
    if (piece >= n) {
      return Fail(absl::InvalidArgumentError(absl::StrFormat(
          "have for piece %d of a torrent of %d pieces", piece, n)));
    }
    peer_have_.Set(piece);
  }
  const bool told = peer_have_known_ || !pending_haves_.empty();
  pending_bitfield_.clear();
  pending_haves_.clear();
  pending_haves_.shrink_to_fit();
  peer_pieces_ = static_cast<uint32_t>(peer_have_.Count());
  peer_have_known_ = told;
  if (told) events_.push_back(PeerHaveSetKnown{});
  SendOurHaveSet();
}

void PeerSession::SendHaves(const storage::Bitfield& pieces) {
  // They may be more than the send buffer's bound, which is about peers
  // that do not read, not about what we announce: they get an allowance
  // of their own until sent.
  std::string bytes;
  for (uint32_t piece = 0; piece < pieces.size(); ++piece) {
    if (!pieces.Get(piece)) continue;
    protocol::AppendHave(piece, &bytes);
    Emit(EventType::kPacketOutgoingHave, piece);
  }
  announce_allowance_ += bytes.size();
  Send(bytes);
}

void PeerSession::SendOurHaveSet() {
  const storage::Bitfield& have = torrent_->have();
  const size_t count = have.Count();
  if (torrent_->super_seeding()) {
    // BEP 16: we pose as a peer with nothing (no bitfield at all without
    // the Fast extension) and offer no allowed-fast pieces; pieces are
    // revealed one by one.
    super_seeding_ = true;
    revealed_ = storage::Bitfield(have.size());
    if (fast_ && !have_none_sent_) {
      SendMessage(protocol::HaveNone{}, EventType::kPacketOutgoingHaveNone);
    }
    return;
  }
  if (have_none_sent_) {
    // The peer was told "have none" before the metadata; the pieces we
    // have since (resume data) go as haves, the one message allowed later.
    SendHaves(have);
  } else if (fast_ && count == have.size() && count > 0) {
    SendMessage(protocol::HaveAll{}, EventType::kPacketOutgoingHaveAll);
  } else if (count > 0) {
    // (Before the metadata a Fast peer was told "have none"; this bitfield
    // then counts as a late one, which every client merges.)
    std::string bits = have.ToBytes();
    std::string bytes;
    protocol::AppendBitfield(bits, &bytes);
    Send(bytes);
    if (Wants(EventType::kPacketOutgoingBitfield)) {
      Event e = NewEvent(EventType::kPacketOutgoingBitfield);
      e.payload = std::move(bits);
      events_.push_back(std::move(e));
    }
  } else if (fast_) {
    SendMessage(protocol::HaveNone{}, EventType::kPacketOutgoingHaveNone);
  }
  if (!fast_ || !options_.address.is_v4()) return;
  // BEP 6: a few pieces a new peer may fetch while still choked, so it has
  // something to trade with sooner.
  std::array<uint8_t, 4> ip;
  std::copy_n(options_.address.address_bytes().begin(), 4, ip.begin());
  allowed_for_peer_ = protocol::AllowedFastSet(
      torrent_->info_hash(), ip, pieces_known_, kAllowedFastCount);
  for (uint32_t piece : allowed_for_peer_) {
    if (have.Get(piece)) {
      SendMessage(protocol::AllowedFast{piece},
                  EventType::kPacketOutgoingAllowedFast);
    }
  }
}

// --- time -------------------------------------------------------------------

void PeerSession::Tick(absl::Time now) {
  if (closed()) return;
  const double seconds =
      std::max(absl::ToDoubleSeconds(now - last_rate_tick_), 0.001);
  if (now - last_rate_tick_ >= absl::Milliseconds(500)) {
    // Exponential moving averages over about five seconds.
    const double down = double(payload_down_ - rate_down_mark_) / seconds;
    down_rate_ = 0.8 * down_rate_ + 0.2 * down;
    if (request_slow_start_ && down > 0 && down < 1.1 * last_down_sample_) {
      // The rate stopped growing: the pipe is full. From here the depth
      // follows the rate, which the average has not caught up with yet.
      request_slow_start_ = false;
      down_rate_ = std::max(down_rate_, down);
    }
    if (down > 0) last_down_sample_ = down;
    up_rate_ =
        0.8 * up_rate_ + 0.2 * double(payload_up_ - rate_up_mark_) / seconds;
    rate_down_mark_ = payload_down_;
    rate_up_mark_ = payload_up_;
    last_rate_tick_ = now;
  }
  if (!active()) {
    if (phase_ != Phase::kConnecting &&
        now - started_ > options_.limits.handshake_timeout) {
      Fail(absl::DeadlineExceededError(absl::StrFormat(
          "handshake not complete after %s",
          absl::FormatDuration(options_.limits.handshake_timeout))));
    }
    return;
  }
  if (now - last_received_ > options_.limits.idle_timeout) {
    return Fail(absl::DeadlineExceededError(absl::StrFormat(
        "nothing received for %s",
        absl::FormatDuration(options_.limits.idle_timeout))));
  }
  if (requests_.in_flight() > 0 &&
      now - std::max(last_block_, requests_.oldest_sent()) >
          options_.limits.snub_after) {
    // Snubbed: its requests go back to the pool for faster peers.
    snubbed_ = true;
    events_.push_back(RequestsReturned{requests_.GiveUpAll()});
  }
  ExpireAsked(now);
  if (now - last_sent_ > options_.limits.keepalive_interval) {
    std::string bytes;
    protocol::AppendKeepAlive(&bytes);
    Send(bytes);
    Emit(EventType::kPacketOutgoingKeepalive);
    last_sent_ = now;
  }
}

// --- output -----------------------------------------------------------------

std::string_view PeerSession::PendingOutput() const {
  const size_t end = files_.empty() ? out_.size() : files_.front().at;
  return std::string_view(out_).substr(out_pos_, end - out_pos_);
}

void PeerSession::ConsumeOutput(size_t n, absl::Time now) {
  if (closed() || n == 0) return;
  n = std::min(n, PendingOutput().size());
  out_pos_ += n;
  announce_allowance_ -= std::min(n, announce_allowance_);
  last_sent_ = now;
  if (out_pos_ == out_.size() ||
      (out_pos_ > (64 << 10) && out_pos_ * 2 > out_.size())) {
    DropSentOutput();
  }
  ServeControl();
}

const PeerSession::FileChunk* PeerSession::PendingFile() const {
  if (files_.empty() || files_.front().at != out_pos_) return nullptr;
  return &files_.front().chunk;
}

void PeerSession::ConsumeFile(size_t n, absl::Time now) {
  if (closed() || n == 0 || !PendingFile()) return;
  FileChunk& f = files_.front().chunk;
  n = std::min(n, static_cast<size_t>(f.length));
  f.offset += static_cast<int64_t>(n);
  f.length -= static_cast<int64_t>(n);
  file_bytes_ -= n;
  last_sent_ = now;
  if (f.length == 0) files_.pop_front();
  if (out_pos_ == out_.size()) DropSentOutput();
  ServeControl();
}

void PeerSession::DropSentOutput() {
  if (out_pos_ == out_.size() && am_choking_ &&
      out_.capacity() > kIdleSendBuffer) {
    // The blocks served from memory that made it grow are sent, and no
    // more are coming soon: give it back (a seeder's peers take turns).
    std::string().swap(out_);
  }
  out_.erase(0, out_pos_);
  for (QueuedFileChunk& f : files_) f.at -= out_pos_;
  out_pos_ = 0;
}

bool PeerSession::HasRoom() const {
  return unsent() + serve_.reading_bytes() < options_.limits.send_high_water;
}

void PeerSession::Send(std::string_view message) {
  if (closed()) return;
  const size_t from = out_.size();
  out_.append(message);
  if (mse_ && mse_->done()) mse_->Encrypt(&out_, from);
  if (unsent() > options_.limits.send_buffer_max + announce_allowance_) {
    Fail(absl::ResourceExhaustedError(absl::StrFormat(
        "peer does not read: %d bytes unsent", unsent())));
  }
}

void PeerSession::SendMessage(const protocol::Message& m, EventType type) {
  std::string bytes;
  protocol::AppendMessage(m, &bytes);
  Send(bytes);
  Emit(type);
}

Event PeerSession::NewEvent(EventType type) const {
  Event e;
  e.type = type;
  e.peer.address = options_.address;
  e.peer.incoming = options_.incoming;
  e.peer.peer_id = their_handshake_.peer_id;
  if (torrent_) e.info_hash = torrent_->info_hash();
  return e;
}

void PeerSession::Emit(EventType type, uint32_t index, uint32_t offset,
                       int64_t length) {
  if (!Wants(type)) return;
  Event e = NewEvent(type);
  e.index = index;
  e.offset = offset;
  e.length = length;
  events_.push_back(std::move(e));
}

// --- piece space --------------------------------------------------------------

uint32_t PeerSession::num_pieces() const { return pieces_known_; }

int64_t PeerSession::PieceSize(uint32_t piece) const {
  const metainfo::TorrentInfo& info = *torrent_->metainfo();
  if (piece + 1 < info.num_pieces()) return info.piece_length();
  return info.total_size() - info.piece_length() * int64_t{piece};
}

uint32_t PeerSession::BlockLength(BlockRef b) const {
  return BlockLengthIn(b, PieceSize(b.piece));
}

bool PeerSession::AllowedForPeer(uint32_t piece) const {
  return std::find(allowed_for_peer_.begin(), allowed_for_peer_.end(),
                   piece) != allowed_for_peer_.end();
}

std::optional<Endpoint> PeerSession::ListenAddress() const {
  if (!options_.incoming) return options_.address;
  if (!their_extensions_.p || *their_extensions_.p == 0) return std::nullopt;
  Endpoint e = options_.address;
  e.set_port(*their_extensions_.p);
  return e;
}

storage::Bitfield PeerSession::RequestableHaveSet() const {
  if (!peer_choking_) return peer_have_;
  storage::Bitfield allowed = peer_have_;
  storage::Bitfield not_allowed = peer_have_;
  not_allowed.AndNot(allowed_by_peer_);
  allowed.AndNot(not_allowed);
  return allowed;
}

int PeerSession::RequestDepth() const {
  const int peer_limit =
      static_cast<int>(their_extensions_.reqq.value_or(250));
  int wanted = static_cast<int>(down_rate_ * 2.0 / kBlockSize);
  if (request_slow_start_) wanted = std::max(wanted, slow_start_depth_);
  const int most = std::max(std::min(peer_limit, kMaxRequestDepth), 1);
  return std::clamp(wanted, std::min(kMinRequestDepth, most), most);
}

}  // namespace bt::client
