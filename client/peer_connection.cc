#include "client/peer_connection.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "client/client.h"
#include "client/torrent.h"
#include "metainfo/peer_id.h"
#include "protocol/allowed_fast.h"
#include "protocol/ut_metadata.h"
#include "protocol/ut_pex.h"
#include "storage/piece_storage.h"

namespace bt::client {
namespace {

constexpr size_t kReadChunk = 256 * 1024;
// Serving stops filling the send buffer above this many unsent bytes.
constexpr size_t kSendHighWater = 512 * 1024;
// Requests a peer may queue with us (advertised as reqq).
constexpr size_t kMaxQueuedRequests = 500;
constexpr absl::Duration kKeepAliveEvery = absl::Seconds(90);
constexpr absl::Duration kIdleTimeout = absl::Seconds(180);
constexpr absl::Duration kHandshakeTimeout = absl::Seconds(30);
constexpr absl::Duration kSnubAfter = absl::Seconds(30);
constexpr const char* kClientName = "btkit/0.1.0";
// The id we receive ut_metadata messages with (our extension handshake).
constexpr uint8_t kUtMetadataId = 2;
constexpr uint8_t kUtPexId = 1;
// BEP 11: one message a minute, at most 50 added and 50 dropped peers.
constexpr absl::Duration kPexInterval = absl::Seconds(60);
constexpr size_t kPexMaxPerMessage = 50;
// BEP 6 suggests 10 allowed-fast pieces.
constexpr uint32_t kAllowedFastCount = 10;

}  // namespace

PeerConnection::PeerConnection(Client* client, uint64_t id, int fd,
                               const Endpoint& address, bool incoming)
    : client_(client),
      id_(id),
      fd_(fd),
      address_(address),
      phase_(incoming ? Phase::kMse : Phase::kConnecting),
      parser_([] {
        protocol::ParserOptions o;
        o.expect_handshake = true;
        return o;
      }()) {
  ref_.connection = id;
  ref_.address = address;
  ref_.incoming = incoming;
  connected_at_ = last_received_ = last_sent_ = last_block_ = absl::Now();
}

std::unique_ptr<PeerConnection> PeerConnection::Outgoing(
    Client* client, uint64_t id, int fd, const Endpoint& address,
    Torrent* torrent, bool encrypt) {
  std::unique_ptr<PeerConnection> c(
      new PeerConnection(client, id, fd, address, false));
  c->torrent_ = torrent;
  if (torrent->has_metadata()) {
    c->parser_.set_num_pieces(torrent->info().num_pieces());
  }
  c->mse_initiator_ = encrypt;
  return c;
}

std::unique_ptr<PeerConnection> PeerConnection::Incoming(
    Client* client, uint64_t id, int fd, const Endpoint& address) {
  std::unique_ptr<PeerConnection> c(
      new PeerConnection(client, id, fd, address, true));
  protocol::MseOptions options;
  options.policy = client->options().encryption;
  c->mse_ = std::make_unique<protocol::MseResponder>(&client->skeys_, options,
                                                     absl::Now());
  return c;
}

PeerConnection::~PeerConnection() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status PeerConnection::Start() {
  uint32_t interest = phase_ == Phase::kConnecting ? EventLoop::kWritable
                                                   : EventLoop::kReadable;
  writable_interest_ = phase_ == Phase::kConnecting;
  return client_->loop().Watch(fd_, interest,
                               [this](uint32_t ready) { OnReady(ready); });
}

void PeerConnection::Close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  client_->loop().Unwatch(fd_);
  ::close(fd_);
  fd_ = -1;
  const bool mse_refused = mse_initiator_ && mse_ && !mse_->done() &&
                           mse_->bytes_received() == 0;
  if (torrent_) {
    Event e = NewEvent(EventType::kPeerDisconnect);
    e.reason = reason;
    torrent_->Emit(e);
    torrent_->OnClosed(this, mse_refused);
  } else if (client_->Wants(EventType::kPeerDisconnect)) {
    Event e = NewEvent(EventType::kPeerDisconnect);
    e.reason = reason;
    client_->Emit(e);
  }
  uint64_t id = id_;
  Client* client = client_;
  client_->loop().Post([client, id] { client->Reap(id); });
}

Event PeerConnection::NewEvent(EventType type) const {
  Event e;
  e.type = type;
  e.peer = ref_;
  if (torrent_) e.info_hash = torrent_->info_hash();
  return e;
}

void PeerConnection::EmitPacket(EventType type, uint32_t index,
                                uint32_t offset, int64_t length) {
  if (!torrent_ || !torrent_->Wants(type)) return;
  Event e = NewEvent(type);
  e.index = index;
  e.offset = offset;
  e.length = length;
  torrent_->Emit(e);
}

// --- socket I/O -----------------------------------------------------------

void PeerConnection::OnReady(uint32_t ready) {
  if (closed_) return;
  if (phase_ == Phase::kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (ready & (EventLoop::kError | EventLoop::kHangup))) {
      Close(absl::StrFormat("connect failed: %s", std::strerror(err ? err : ECONNREFUSED)));
      return;
    }
    OnConnected();
    if (closed_) return;
  }
  if (ready & EventLoop::kReadable) OnReadable();
  if (closed_) return;
  if (ready & EventLoop::kWritable) Flush();
  if (closed_) return;
  if ((ready & (EventLoop::kError | EventLoop::kHangup)) &&
      !(ready & EventLoop::kReadable)) {
    Close("connection reset");
  }
}

void PeerConnection::OnConnected() {
  connected_at_ = last_received_ = last_sent_ = absl::Now();
  phase_ = Phase::kHandshake;  // connected; ApplyInterest may run now
  writable_interest_ = false;
  ApplyInterest();
  if (mse_initiator_) {
    phase_ = Phase::kMse;
    protocol::MseOptions options;
    options.policy = client_->options().encryption;
    // Our handshake travels as MSE's initial payload.
    auto initiator = std::make_unique<protocol::MseInitiator>(
        torrent_->info_hash(), OurHandshake(), options, absl::Now());
    std::string out;
    if (absl::Status s = initiator->Start(&out); !s.ok()) {
      Close(std::string(s.message()));
      return;
    }
    mse_ = std::move(initiator);
    out_.append(out);
    Flush();
  } else {
    phase_ = Phase::kHandshake;
    SendHandshake();
  }
}

int64_t PeerConnection::Quota(bool upload) const {
  const RateLimiter& global =
      upload ? client_->upload_limit_ : client_->download_limit_;
  int64_t quota = global.Available();
  if (torrent_) {
    const RateLimiter& own =
        upload ? torrent_->upload_limit_ : torrent_->download_limit_;
    quota = std::min(quota, own.Available());
  }
  return quota;
}

void PeerConnection::Charge(bool upload, int64_t bytes) {
  (upload ? client_->upload_limit_ : client_->download_limit_).Consume(bytes);
  if (torrent_) {
    (upload ? torrent_->upload_limit_ : torrent_->download_limit_)
        .Consume(bytes);
  }
}

void PeerConnection::OnQuota(bool upload) {
  if (upload) {
    Flush();
  } else if (read_paused_) {
    read_paused_ = false;
    ApplyInterest();
  }
}

void PeerConnection::OnReadable() {
  if (in_buf_.size() < kReadChunk) in_buf_.resize(kReadChunk);
  // A bounded number of reads per wake-up keeps other sockets served.
  for (int round = 0; round < 4 && !closed_; ++round) {
    const int64_t quota = Quota(false);
    if (quota <= 0) {
      // Out of download quota: stop reading (TCP slows the sender down)
      // until the buckets refill.
      read_paused_ = true;
      ApplyInterest();
      client_->WaitForQuota(id_, false);
      return;
    }
    // Under a limit, take one block's worth per turn so peers alternate.
    const size_t want =
        quota == RateLimiter::kUnlimited
            ? in_buf_.size()
            : static_cast<size_t>(std::min<int64_t>(
                  quota, std::min<int64_t>(in_buf_.size(), 16 * 1024 + 13)));
    ssize_t n = ::read(fd_, in_buf_.data(), want);
    if (n == 0) {
      Close("connection closed by peer");
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      Close(absl::StrFormat("read failed: %s", std::strerror(errno)));
      return;
    }
    last_received_ = absl::Now();
    Charge(false, n);
    if (torrent_ && torrent_->Wants(EventType::kPeerRead)) {
      Event e = NewEvent(EventType::kPeerRead);
      e.length = n;
      torrent_->Emit(e);
    }
    if (absl::Status s = Consume(in_buf_.data(), static_cast<size_t>(n));
        !s.ok()) {
      Close(std::string(s.message()));
      return;
    }
    if (static_cast<size_t>(n) < want) return;
  }
}

absl::Status PeerConnection::Consume(char* data, size_t n) {
  if (phase_ == Phase::kMse) {
    std::string reply;
    RETURN_IF_ERROR(mse_->Receive(std::string_view(data, n), &reply));
    if (!reply.empty()) {
      out_.append(reply);
      Flush();
    }
    if (!mse_->done()) return absl::OkStatus();
    phase_ = Phase::kHandshake;
    std::string payload = mse_->TakeReceivedPayload();
    RETURN_IF_ERROR(FeedParser(payload));
    return absl::OkStatus();
  }
  if (mse_) {
    mse_->Decrypt(MutableByteSpan(reinterpret_cast<uint8_t*>(data), n));
  }
  return FeedParser(std::string_view(data, n));
}

absl::Status PeerConnection::FeedParser(std::string_view plain) {
  parser_.Feed(plain);
  while (!closed_) {
    ASSIGN_OR_RETURN(std::optional<protocol::Message> m, parser_.Next());
    if (!m) break;
    RETURN_IF_ERROR(OnMessage(*m));
  }
  return absl::OkStatus();
}

void PeerConnection::WantWrite(bool on) {
  if (on == writable_interest_ || closed_) return;
  writable_interest_ = on;
  ApplyInterest();
}

void PeerConnection::ApplyInterest() {
  if (closed_ || phase_ == Phase::kConnecting) return;
  (void)client_->loop().SetInterest(
      fd_, (read_paused_ ? 0 : EventLoop::kReadable) |
               (writable_interest_ ? EventLoop::kWritable : 0));
}

void PeerConnection::Flush() {
  if (closed_ || phase_ == Phase::kConnecting) return;
  while (true) {
    if (out_pos_ == out_.size()) {
      out_.clear();
      out_pos_ = 0;
      ServeRequests();
      if (out_.empty()) break;
    }
    ssize_t n = ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_,
                       MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      Close(absl::StrFormat("write failed: %s", std::strerror(errno)));
      return;
    }
    out_pos_ += static_cast<size_t>(n);
    last_sent_ = absl::Now();
    if (torrent_ && torrent_->Wants(EventType::kPeerWrite)) {
      Event e = NewEvent(EventType::kPeerWrite);
      e.length = n;
      torrent_->Emit(e);
    }
  }
  WantWrite(out_pos_ < out_.size());
}

void PeerConnection::Send(std::string_view message) {
  size_t from = out_.size();
  out_.append(message);
  if (mse_ && mse_->done()) mse_->Encrypt(&out_, from);
}

void PeerConnection::SendMessage(const protocol::Message& m, EventType type) {
  std::string bytes;
  protocol::AppendMessage(m, &bytes);
  Send(bytes);
  EmitPacket(type);
}

// --- handshake ------------------------------------------------------------

std::string PeerConnection::OurHandshake() {
  protocol::Handshake hs;
  hs.reserved.Set(protocol::ReservedBit::kExtension)
      .Set(protocol::ReservedBit::kFast)
      .Set(protocol::ReservedBit::kDht, client_->dht() != nullptr);
  hs.info_hash = torrent_->info_hash();
  hs.peer_id = client_->peer_id();
  std::string bytes;
  protocol::AppendHandshake(hs, &bytes);
  handshake_sent_ = true;
  if (torrent_->Wants(EventType::kPacketOutgoingHandshake)) {
    Event e = NewEvent(EventType::kPacketOutgoingHandshake);
    e.reserved = hs.reserved.bytes();
    e.handshake_info_hash = hs.info_hash;
    e.handshake_peer_id = hs.peer_id;
    torrent_->Emit(e);
  }
  return bytes;
}

void PeerConnection::SendHandshake() {
  Send(OurHandshake());
  Flush();
}

absl::Status PeerConnection::OnHandshake(const protocol::Handshake& hs) {
  if (!torrent_) {
    Torrent* t = client_->FindTorrent(hs.info_hash);
    if (!t || t->state() == TorrentState::kStopped) {
      return absl::NotFoundError(absl::StrFormat(
          "handshake for unknown torrent %s", hs.info_hash.ToHex()));
    }
    auto* responder = dynamic_cast<protocol::MseResponder*>(mse_.get());
    if (responder && responder->skey() && *responder->skey() != hs.info_hash) {
      return absl::InvalidArgumentError(
          "handshake info-hash differs from the encryption key's torrent");
    }
    torrent_ = t;
    if (t->has_metadata()) parser_.set_num_pieces(t->info().num_pieces());
  } else if (hs.info_hash != torrent_->info_hash()) {
    return absl::InvalidArgumentError("handshake for a different torrent");
  }
  if (hs.peer_id == client_->peer_id()) {
    return absl::FailedPreconditionError("connected to ourselves");
  }
  their_handshake_ = hs;
  ref_.peer_id = hs.peer_id;
  if (torrent_->Wants(EventType::kPacketIncomingHandshake)) {
    Event e = NewEvent(EventType::kPacketIncomingHandshake);
    e.reserved = hs.reserved.bytes();
    e.handshake_info_hash = hs.info_hash;
    e.handshake_peer_id = hs.peer_id;
    torrent_->Emit(e);
  }
  fast_ = hs.reserved.Has(protocol::ReservedBit::kFast);
  extensions_ = hs.reserved.Has(protocol::ReservedBit::kExtension);
  parser_.set_fast_extension(fast_);
  if (!handshake_sent_) SendHandshake();
  BecomeActive();
  return absl::OkStatus();
}

void PeerConnection::BecomeActive() {
  phase_ = Phase::kActive;
  connected_at_ = last_block_ = absl::Now();
  const bool metadata = torrent_->has_metadata();
  if (metadata) peer_have_ = storage::Bitfield(torrent_->info().num_pieces());
  torrent_->OnConnected(this);
  if (closed_) return;
  Event connected = NewEvent(EventType::kPeerConnect);
  torrent_->Emit(connected);

  if (extensions_) {
    protocol::ExtensionHandshake mine;
    mine.v = kClientName;
    mine.p = client_->port();
    mine.reqq = kMaxQueuedRequests;
    mine.m["ut_metadata"] = kUtMetadataId;
    // BEP 27: private torrents get peers from their trackers only.
    if (!torrent_->is_private()) mine.m["ut_pex"] = kUtPexId;
    if (metadata) mine.metadata_size = torrent_->info().info_bytes().size();
    Endpoint yourip = address_;
    yourip.set_port(0);
    mine.yourip = yourip;
    std::string payload;
    protocol::AppendExtensionHandshake(mine, &payload);
    std::string bytes;
    protocol::AppendExtended(0, payload, &bytes);
    Send(bytes);
    if (torrent_->Wants(EventType::kPacketOutgoingExtended)) {
      Event e = NewEvent(EventType::kPacketOutgoingExtended);
      e.extension_id = 0;
      e.payload = payload;
      torrent_->Emit(e);
    }
  }
  // BEP 5: tell a DHT-capable peer where our DHT node listens.
  if (client_->dht() &&
      their_handshake_.reserved.Has(protocol::ReservedBit::kDht)) {
    SendMessage(protocol::Port{client_->dht()->local_endpoint().port()},
                EventType::kPacketOutgoingPort);
  }
  if (!metadata) {
    // Nothing to offer until the metadata arrives.
    if (fast_) {
      SendMessage(protocol::HaveNone{}, EventType::kPacketOutgoingHaveNone);
    }
    torrent_->RequestPieceLayers(this);
    Flush();
    return;
  }
  const storage::Bitfield& have = torrent_->have();
  const size_t count = have.Count();
  if (fast_ && count == have.size()) {
    SendMessage(protocol::HaveAll{}, EventType::kPacketOutgoingHaveAll);
  } else if (fast_ && count == 0) {
    SendMessage(protocol::HaveNone{}, EventType::kPacketOutgoingHaveNone);
  } else if (count > 0) {
    std::string bits = have.ToBytes();
    std::string bytes;
    protocol::AppendBitfield(bits, &bytes);
    Send(bytes);
    if (torrent_->Wants(EventType::kPacketOutgoingBitfield)) {
      Event e = NewEvent(EventType::kPacketOutgoingBitfield);
      e.payload = bits;
      torrent_->Emit(e);
    }
  }
  allowed_by_peer_ = storage::Bitfield(torrent_->info().num_pieces());
  if (fast_ && address_.is_v4()) {
    // BEP 6: a few pieces a new peer may fetch while still choked, so it
    // has something to trade with sooner.
    std::array<uint8_t, 4> ip;
    std::copy_n(address_.address_bytes().begin(), 4, ip.begin());
    allowed_for_peer_ = protocol::AllowedFastSet(
        torrent_->info_hash(), ip, torrent_->info().num_pieces(),
        kAllowedFastCount);
    for (uint32_t piece : allowed_for_peer_) {
      if (!have.Get(piece)) continue;
      SendMessage(protocol::AllowedFast{piece},
                  EventType::kPacketOutgoingAllowedFast);
    }
  }
  Flush();
}

// --- incoming messages ----------------------------------------------------

absl::Status PeerConnection::OnMessage(const protocol::Message& m) {
  using namespace protocol;  // NOLINT: message type names
  if (const auto* hs = std::get_if<Handshake>(&m)) return OnHandshake(*hs);
  if (phase_ != Phase::kActive) {
    return absl::FailedPreconditionError("message before the handshake");
  }
  if (const auto* p = std::get_if<Piece>(&m)) {
    OnPiece(*p);
    return absl::OkStatus();
  }
  if (const auto* r = std::get_if<Request>(&m)) return OnRequest(*r);
  if (const auto* h = std::get_if<Have>(&m)) {
    EmitPacket(EventType::kPacketIncomingHave, h->piece);
    if (!torrent_->has_metadata()) {
      if (pending_haves_.size() < (1u << 20)) pending_haves_.push_back(h->piece);
      return absl::OkStatus();
    }
    if (!peer_have_.Get(h->piece)) {
      peer_have_.Set(h->piece);
      ++peer_pieces_;
      torrent_->OnPeerHas(this, h->piece);
    }
    return absl::OkStatus();
  }
  if (std::holds_alternative<KeepAlive>(m)) {
    EmitPacket(EventType::kPacketIncomingKeepalive);
  } else if (std::holds_alternative<Choke>(m)) {
    EmitPacket(EventType::kPacketIncomingChoke);
    peer_choking_ = true;
    // With the Fast extension the peer rejects what it will not serve;
    // without it every request in flight is void.
    if (!fast_) DropRequests();
  } else if (std::holds_alternative<Unchoke>(m)) {
    EmitPacket(EventType::kPacketIncomingUnchoke);
    peer_choking_ = false;
    torrent_->FillRequests(this);
  } else if (std::holds_alternative<Interested>(m)) {
    EmitPacket(EventType::kPacketIncomingInterested);
    peer_interested_ = true;
    torrent_->RunChoker(absl::Now());
  } else if (std::holds_alternative<NotInterested>(m)) {
    EmitPacket(EventType::kPacketIncomingNotInterested);
    peer_interested_ = false;
    torrent_->RunChoker(absl::Now());
  } else if (const auto* b = std::get_if<protocol::Bitfield>(&m)) {
    if (torrent_->Wants(EventType::kPacketIncomingBitfield)) {
      Event e = NewEvent(EventType::kPacketIncomingBitfield);
      e.payload = std::string(b->bits);
      torrent_->Emit(e);
    }
    if (!torrent_->has_metadata()) {
      // Kept until the metadata tells the piece count.
      if (pending_bitfield_.empty()) pending_bitfield_ = std::string(b->bits);
      peer_have_known_ = true;
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(storage::Bitfield bits,
                     storage::Bitfield::FromBytes(
                         b->bits, torrent_->info().num_pieces()));
    if (peer_have_known_) {
      MergeLatePeerHaves(bits);
      return absl::OkStatus();
    }
    peer_have_ = std::move(bits);
    peer_pieces_ = static_cast<uint32_t>(peer_have_.Count());
    peer_have_known_ = true;
    torrent_->OnPeerHaveSet(this);
  } else if (std::holds_alternative<HaveAll>(m) ||
             std::holds_alternative<HaveNone>(m)) {
    bool all = std::holds_alternative<HaveAll>(m);
    EmitPacket(all ? EventType::kPacketIncomingHaveAll
                   : EventType::kPacketIncomingHaveNone);
    if (!torrent_->has_metadata()) {
      // Kept until the metadata tells the piece count.
      if (all || !pending_all_) pending_all_ = all;
      peer_have_known_ = true;
      return absl::OkStatus();
    }
    if (peer_have_known_) {
      if (!all) {
        return absl::InvalidArgumentError("have none after the bitfield");
      }
      MergeLatePeerHaves(storage::Bitfield(torrent_->info().num_pieces(), true));
      return absl::OkStatus();
    }
    peer_have_ = storage::Bitfield(torrent_->info().num_pieces(), all);
    peer_pieces_ = all ? torrent_->info().num_pieces() : 0;
    peer_have_known_ = true;
    torrent_->OnPeerHaveSet(this);
  } else if (const auto* c = std::get_if<Cancel>(&m)) {
    EmitPacket(EventType::kPacketIncomingCancel, c->piece, c->begin,
               c->length);
    auto it = std::find_if(to_serve_.begin(), to_serve_.end(),
                           [&](const QueuedRequest& r) {
                             return r.piece == c->piece &&
                                    r.begin == c->begin &&
                                    r.length == c->length;
                           });
    if (it != to_serve_.end()) to_serve_.erase(it);
  } else if (const auto* r = std::get_if<Reject>(&m)) {
    EmitPacket(EventType::kPacketIncomingReject, r->piece, r->begin,
               r->length);
    BlockRef block{r->piece, r->begin / kBlockSize};
    RemoveInFlight(block);
    if (torrent_->picker_) torrent_->picker_->OnRequestDropped(block, id_);
  } else if (const auto* a = std::get_if<AllowedFast>(&m)) {
    EmitPacket(EventType::kPacketIncomingAllowedFast, a->piece);
    // Before the metadata the piece count is unknown; the offer is only a
    // hint and is dropped.
    if (a->piece < allowed_by_peer_.size() && !allowed_by_peer_.Get(a->piece)) {
      allowed_by_peer_.Set(a->piece);
      if (peer_choking_) torrent_->FillRequests(this);
    }
  } else if (const auto* s = std::get_if<Suggest>(&m)) {
    EmitPacket(EventType::kPacketIncomingSuggest, s->piece);
  } else if (const auto* p = std::get_if<Port>(&m)) {
    if (torrent_->Wants(EventType::kPacketIncomingPort)) {
      Event e = NewEvent(EventType::kPacketIncomingPort);
      e.port = p->port;
      torrent_->Emit(e);
    }
    if (p->port != 0) {  // BEP 5: its DHT node becomes a contact
      Endpoint node = address_;
      node.set_port(p->port);
      client_->AddDhtNode(node);
    }
  } else if (const auto* hr = std::get_if<HashRequest>(&m)) {
    torrent_->OnHashRequest(this, hr->range);
  } else if (const auto* hs = std::get_if<Hashes>(&m)) {
    if (hash_requests_ > 0) --hash_requests_;
    torrent_->OnHashes(this, *hs);
  } else if (const auto* hj = std::get_if<HashReject>(&m)) {
    if (hash_requests_ > 0) --hash_requests_;
    torrent_->OnHashReject(this, hj->range);
  } else if (const auto* x = std::get_if<Extended>(&m)) {
    if (torrent_->Wants(EventType::kPacketIncomingExtended)) {
      Event e = NewEvent(EventType::kPacketIncomingExtended);
      e.extension_id = x->id;
      e.payload = std::string(x->payload);
      torrent_->Emit(e);
    }
    if (x->id == 0) {
      ASSIGN_OR_RETURN(their_extensions_,
                       protocol::ParseExtensionHandshake(x->payload));
      if (their_extensions_.metadata_size && offers_metadata()) {
        torrent_->OnMetadataSizeOffered(this, *their_extensions_.metadata_size);
      }
    } else if (x->id == kUtPexId) {
      // A peer sending faster than BEP 11 allows is not listened to.
      const absl::Time now = absl::Now();
      if (torrent_->is_private() || now - pex_received_at_ < kPexInterval / 2) {
        return absl::OkStatus();
      }
      pex_received_at_ = now;
      ASSIGN_OR_RETURN(protocol::PexMessage pex,
                       protocol::ParsePexMessage(x->payload));
      for (const auto* list : {&pex.added, &pex.added6}) {
        for (const Endpoint& e : *list) torrent_->AddPeer(e, /*from_pex=*/true);
      }
    } else if (x->id == kUtMetadataId) {
      absl::StatusOr<protocol::MetadataMessage> mm =
          protocol::ParseMetadataMessage(x->payload,
                                         MetadataFetcher::kMaxMetadataSize);
      if (!mm.ok()) {
        // BEP 9: unknown message types are ignored, not errors.
        if (mm.status().code() == absl::StatusCode::kUnimplemented) {
          return absl::OkStatus();
        }
        return mm.status();
      }
      if (mm->type != protocol::MetadataMessageType::kRequest &&
          metadata_requests_ > 0) {
        --metadata_requests_;
      }
      torrent_->OnMetadataMessage(
          this, MetadataMessageView{static_cast<int>(mm->type), mm->piece,
                                    mm->total_size, mm->data});
    }
  }
  return absl::OkStatus();
}

absl::Status PeerConnection::OnRequest(const protocol::Request& r) {
  EmitPacket(EventType::kPacketIncomingRequest, r.piece, r.begin, r.length);
  if (!torrent_->has_metadata()) {
    if (fast_) {
      SendMessage(protocol::Reject{r.piece, r.begin, r.length},
                  EventType::kPacketOutgoingReject);
      Flush();
    }
    return absl::OkStatus();
  }
  const int64_t piece_size = torrent_->picker_->PieceSize(r.piece);
  if (r.length == 0 || r.begin + int64_t{r.length} > piece_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "request outside piece %d: offset %d length %d", r.piece, r.begin,
        r.length));
  }
  const bool allowed =
      !am_choking_ ||
      std::find(allowed_for_peer_.begin(), allowed_for_peer_.end(), r.piece) !=
          allowed_for_peer_.end();
  const bool can = allowed && torrent_->CanServe(r.piece) &&
                   to_serve_.size() < kMaxQueuedRequests;
  if (!can) {
    if (fast_) {
      SendMessage(protocol::Reject{r.piece, r.begin, r.length},
                  EventType::kPacketOutgoingReject);
      Flush();
    }
    return absl::OkStatus();
  }
  to_serve_.push_back(QueuedRequest{r.piece, r.begin, r.length});
  if (out_pos_ == out_.size()) Flush();
  return absl::OkStatus();
}

void PeerConnection::OnPiece(const protocol::Piece& p) {
  EmitPacket(EventType::kPacketIncomingBlock, p.piece, p.begin,
             static_cast<int64_t>(p.data.size()));
  BlockRef block{p.piece, p.begin / kBlockSize};
  RemoveInFlight(block);
  last_block_ = absl::Now();
  snubbed_ = false;
  payload_down_ += static_cast<int64_t>(p.data.size());
  torrent_->OnBlock(this, p.piece, p.begin, p.data);
  if (!closed_ && !peer_choking_) torrent_->FillRequests(this);
}

// --- outgoing messages ----------------------------------------------------

void PeerConnection::SetChoking(bool choke) {
  if (choke == am_choking_ || !active()) return;
  am_choking_ = choke;
  if (choke) {
    SendMessage(protocol::Choke{}, EventType::kPacketOutgoingChoke);
    // Requests for allowed-fast pieces stay; the rest are dropped (and,
    // with the Fast extension, rejected explicitly).
    std::deque<QueuedRequest> keep;
    for (const QueuedRequest& r : to_serve_) {
      if (fast_ && std::find(allowed_for_peer_.begin(), allowed_for_peer_.end(),
                             r.piece) != allowed_for_peer_.end()) {
        keep.push_back(r);
      } else if (fast_) {
        SendMessage(protocol::Reject{r.piece, r.begin, r.length},
                    EventType::kPacketOutgoingReject);
      }
    }
    to_serve_ = std::move(keep);
  } else {
    SendMessage(protocol::Unchoke{}, EventType::kPacketOutgoingUnchoke);
  }
  Flush();
}

void PeerConnection::SetInterested(bool interested) {
  if (interested == am_interested_ || !active()) return;
  am_interested_ = interested;
  if (interested) {
    SendMessage(protocol::Interested{}, EventType::kPacketOutgoingInterested);
  } else {
    SendMessage(protocol::NotInterested{},
                EventType::kPacketOutgoingNotInterested);
  }
  Flush();
}

void PeerConnection::SendRequests(const std::vector<BlockRef>& blocks) {
  if (blocks.empty()) return;
  const absl::Time now = absl::Now();
  std::string bytes;
  const bool emit = torrent_->Wants(EventType::kPacketOutgoingRequest);
  for (const BlockRef& b : blocks) {
    uint32_t length = torrent_->picker_->BlockLength(b);
    protocol::AppendRequest(b.piece, b.block * kBlockSize, length, &bytes);
    in_flight_.push_back(InFlight{b, now});
    if (emit) {
      EmitPacket(EventType::kPacketOutgoingRequest, b.piece,
                 b.block * kBlockSize, length);
    }
  }
  Send(bytes);
  Flush();
}

void PeerConnection::SendCancel(BlockRef b) {
  RemoveInFlight(b);
  uint32_t length = torrent_->picker_->BlockLength(b);
  SendMessage(protocol::Cancel{b.piece, b.block * kBlockSize, length},
              EventType::kPacketOutgoingCancel);
  Flush();
}

void PeerConnection::SendExtended(uint8_t id, std::string_view payload) {
  std::string bytes;
  protocol::AppendExtended(id, payload, &bytes);
  Send(bytes);
  if (torrent_->Wants(EventType::kPacketOutgoingExtended)) {
    Event e = NewEvent(EventType::kPacketOutgoingExtended);
    e.extension_id = id;
    e.payload = std::string(payload);
    torrent_->Emit(e);
  }
  Flush();
}

void PeerConnection::SendMetadataRequest(uint32_t piece) {
  std::string payload;
  protocol::AppendMetadataMessage({protocol::MetadataMessageType::kRequest, piece},
                                  &payload);
  ++metadata_requests_;
  SendExtended(their_extensions_.IdOf("ut_metadata"), payload);
}

void PeerConnection::SendHashMessage(const protocol::Message& m) {
  if (std::holds_alternative<protocol::HashRequest>(m)) ++hash_requests_;
  std::string bytes;
  protocol::AppendMessage(m, &bytes);
  Send(bytes);
  Flush();
}

void PeerConnection::SendMetadataData(uint32_t piece, std::string_view data,
                                      uint64_t total_size) {
  const uint8_t id = their_extensions_.IdOf("ut_metadata");
  if (id == 0) return;
  protocol::MetadataMessage m;
  m.type = protocol::MetadataMessageType::kData;
  m.piece = piece;
  m.total_size = total_size;
  m.data = data;
  std::string payload;
  protocol::AppendMetadataMessage(m, &payload);
  SendExtended(id, payload);
}

void PeerConnection::SendMetadataReject(uint32_t piece) {
  const uint8_t id = their_extensions_.IdOf("ut_metadata");
  if (id == 0) return;
  std::string payload;
  protocol::AppendMetadataMessage({protocol::MetadataMessageType::kReject, piece},
                                  &payload);
  SendExtended(id, payload);
}

std::optional<Endpoint> PeerConnection::ListenAddress() const {
  if (!incoming()) return address_;
  if (!their_extensions_.p || *their_extensions_.p == 0) return std::nullopt;
  Endpoint e = address_;
  e.set_port(*their_extensions_.p);
  return e;
}

void PeerConnection::SendPex(
    const std::vector<std::pair<Endpoint, uint8_t>>& current, absl::Time now) {
  const uint8_t id = their_extensions_.IdOf("ut_pex");
  if (id == 0 || !active() || now - pex_sent_at_ < kPexInterval) return;
  const std::optional<Endpoint> self = ListenAddress();
  protocol::PexMessage pex;
  absl::flat_hash_set<Endpoint> now_known;
  for (const auto& [e, flags] : current) {
    if (self && e == *self) continue;
    now_known.insert(e);
    if (pex_told_.contains(e) || pex.added.size() + pex.added6.size() >=
                                     kPexMaxPerMessage) {
      continue;
    }
    (e.is_v4() ? pex.added : pex.added6).push_back(e);
    (e.is_v4() ? pex.added_flags : pex.added6_flags).push_back(flags);
    pex_told_.insert(e);
  }
  for (auto it = pex_told_.begin(); it != pex_told_.end();) {
    if (!now_known.contains(*it) &&
        pex.dropped.size() + pex.dropped6.size() < kPexMaxPerMessage) {
      (it->is_v4() ? pex.dropped : pex.dropped6).push_back(*it);
      pex_told_.erase(it++);
    } else {
      ++it;
    }
  }
  if (pex.added.empty() && pex.added6.empty() && pex.dropped.empty() &&
      pex.dropped6.empty()) {
    return;
  }
  pex_sent_at_ = now;
  std::string payload;
  protocol::AppendPexMessage(pex, &payload);
  SendExtended(id, payload);
}

void PeerConnection::OnMetadata() {
  const uint32_t n = torrent_->info().num_pieces();
  parser_.set_num_pieces(n);
  peer_have_ = storage::Bitfield(n);
  allowed_by_peer_ = storage::Bitfield(n);
  if (pending_all_) {
    peer_have_ = storage::Bitfield(n, *pending_all_);
  } else if (!pending_bitfield_.empty()) {
    absl::StatusOr<storage::Bitfield> bits =
        storage::Bitfield::FromBytes(pending_bitfield_, n);
    if (!bits.ok()) {
      Close(std::string(bits.status().message()));
      return;
    }
    peer_have_ = *std::move(bits);
  }
  for (uint32_t piece : pending_haves_) {
    if (piece >= n) {
      Close("have for a piece past the end of the torrent");
      return;
    }
    peer_have_.Set(piece);
  }
  pending_bitfield_.clear();
  pending_haves_.clear();
  peer_pieces_ = static_cast<uint32_t>(peer_have_.Count());
  torrent_->OnPeerHaveSet(this);
}

void PeerConnection::SendHave(uint32_t piece) {
  if (!active()) return;
  std::string bytes;
  protocol::AppendHave(piece, &bytes);
  Send(bytes);
  EmitPacket(EventType::kPacketOutgoingHave, piece);
  Flush();
}

void PeerConnection::RemoveInFlight(BlockRef block) {
  auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                         [&](const InFlight& f) { return f.block == block; });
  if (it != in_flight_.end()) in_flight_.erase(it);
}

void PeerConnection::DropRequests() {
  if (!torrent_->picker_) return;  // nothing requested before the metadata
  for (const InFlight& f : in_flight_) {
    torrent_->picker_->OnRequestDropped(f.block, id_);
  }
  in_flight_.clear();
}

int PeerConnection::RequestDepth() const {
  const int peer_limit =
      static_cast<int>(their_extensions_.reqq.value_or(250));
  const int by_rate = static_cast<int>(down_rate_ * 2.0 / kBlockSize);
  return std::clamp(by_rate, 16, std::max(std::min(peer_limit, 2000), 1));
}

// aria2 (1.36 at least) sends a bitfield, or "have all" once it is
// complete, in place of 20 or more pending have messages, long after the
// handshake. BEP 3 allows a bitfield only first, but refusing it cuts
// every aria2 downloader off after its first 20 pieces; so a late one
// counts as a have for each new piece (a peer never loses pieces: cleared
// bits are ignored).
void PeerConnection::MergeLatePeerHaves(const storage::Bitfield& bits) {
  // OnPeerHas may close the connection; then its pieces no longer count.
  for (uint32_t piece = 0; piece < bits.size() && !closed_; ++piece) {
    if (bits.Get(piece) && !peer_have_.Get(piece)) {
      peer_have_.Set(piece);
      ++peer_pieces_;
      torrent_->OnPeerHas(this, piece);
    }
  }
}

storage::Bitfield PeerConnection::RequestableHaveSet() const {
  if (!peer_choking_) return peer_have_;
  storage::Bitfield not_allowed = peer_have_;
  not_allowed.AndNot(allowed_by_peer_);
  storage::Bitfield allowed = peer_have_;
  allowed.AndNot(not_allowed);
  return allowed;
}

void PeerConnection::ServeRequests() {
  if (!torrent_ || torrent_->state() == TorrentState::kPaused) return;
  while (!to_serve_.empty() && out_.size() - out_pos_ < kSendHighWater) {
    if (Quota(true) <= 0) {
      client_->WaitForQuota(id_, true);
      return;
    }
    QueuedRequest r = to_serve_.front();
    to_serve_.pop_front();
    size_t from = out_.size();
    protocol::AppendPieceHeader(r.piece, r.begin, r.length, &out_);
    size_t data_at = out_.size();
    out_.resize(data_at + r.length);
    absl::Status s = torrent_->storage_->ReadBlock(
        r.piece, r.begin,
        MutableByteSpan(reinterpret_cast<uint8_t*>(out_.data() + data_at),
                        r.length));
    if (!s.ok()) {
      out_.resize(from);
      torrent_->EnterError(s);
      return;
    }
    if (mse_ && mse_->done()) mse_->Encrypt(&out_, from);
    Charge(true, int64_t{r.length} + protocol::kPieceHeaderSize);
    payload_up_ += r.length;
    torrent_->uploaded_ += r.length;
    EmitPacket(EventType::kPacketOutgoingBlock, r.piece, r.begin, r.length);
  }
}

void PeerConnection::Tick(absl::Time now) {
  // Rates: exponential moving average over about five seconds.
  down_rate_ = 0.8 * down_rate_ + 0.2 * double(payload_down_ - rate_down_mark_);
  up_rate_ = 0.8 * up_rate_ + 0.2 * double(payload_up_ - rate_up_mark_);
  rate_down_mark_ = payload_down_;
  rate_up_mark_ = payload_up_;

  if (phase_ != Phase::kActive) {
    if (now - connected_at_ > kHandshakeTimeout) Close("handshake timed out");
    return;
  }
  if (now - last_received_ > kIdleTimeout) {
    Close("no data from peer for 180 s");
    return;
  }
  if (!in_flight_.empty() && now - last_block_ > kSnubAfter) {
    // Snubbed: its requests go back to the pool for faster peers.
    snubbed_ = true;
    DropRequests();
  }
  if (now - last_sent_ > kKeepAliveEvery) {
    std::string bytes;
    protocol::AppendKeepAlive(&bytes);
    Send(bytes);
    EmitPacket(EventType::kPacketOutgoingKeepalive);
    Flush();
  }
}

}  // namespace bt::client
