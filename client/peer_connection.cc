#include "client/peer_connection.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "client/receive_buffers.h"
#include "client/torrent.h"

namespace bt::client {
namespace {

// The receive buffers serve every connection (all run on one thread): a
// session keeps only what it needs of what it is given, and blocks keep
// the buffer they lie in until they are written.
ReceiveBuffers& ThreadReceiveBuffers() {
  static thread_local ReceiveBuffers buffers;
  return buffers;
}
// An outgoing connect that has not completed after this long is given up.
constexpr absl::Duration kConnectTimeout = absl::Seconds(10);
// Reads per readiness callback, so one busy peer cannot starve the rest.
constexpr int kReadRounds = 4;

}  // namespace

PeerConnection::PeerConnection(ClientContext* ctx, uint64_t id,
                               std::unique_ptr<Transport> transport,
                               PeerSessionOptions options, Torrent* torrent)
    : ctx_(ctx),
      id_(id),
      transport_(std::move(transport)),
      torrent_(torrent),
      session_(
          [&] {
            options.address = transport_->remote();
            options.incoming = torrent == nullptr;
            options.find_torrent = [this](const Sha1Hash& h) {
              return static_cast<SessionTorrent*>(AttachIncoming(h));
            };
            options.wants_event = [this](EventType type) {
              return torrent_ ? torrent_->Wants(type) : ctx_->Wants(type);
            };
            return std::move(options);
          }(),
          torrent, ctx->Now()),
      opened_at_(ctx->Now()) {}

PeerConnection::~PeerConnection() { transport_->Close(); }

absl::Status PeerConnection::Start() {
  absl::Status s = transport_->Start(this);
  if (s.ok() && transport_->connected()) session_.Start(ctx_->Now());
  return s;
}

Torrent* PeerConnection::AttachIncoming(const Sha1Hash& info_hash) {
  torrent_ = ctx_->FindTorrent(info_hash);
  return torrent_;
}

PeerRef PeerConnection::ref() const {
  PeerRef r;
  r.connection = id_;
  r.address = session_.address();
  r.peer_id = session_.peer_id();
  r.incoming = session_.incoming();
  return r;
}

bool PeerConnection::CanSendFromFile() const {
  return ctx_->options().send_from_file && transport_->can_send_file() &&
         session_.CanSendFromFile();
}

bool PeerConnection::useful() const {
  return session_.payload_down() > 0 || session_.payload_up() > 0 ||
         session_.peer_interested() || session_.am_interested();
}

void PeerConnection::Close(const absl::Status& reason) {
  if (closed_) return;
  closed_ = true;
  mse_refused_ = session_.PlaintextRetryAdvised();
  transport_->Close();
  session_.Close(reason);
  Event e;
  e.type = EventType::kPeerDisconnect;
  e.peer = ref();
  e.reason = std::string(reason.message());
  if (torrent_) {
    if (torrent_->Wants(e.type)) torrent_->Emit(e);
    torrent_->OnConnectionClosed(*this);
  } else if (ctx_->Wants(e.type)) {
    ctx_->Emit(e);
  }
  ctx_->Reap(id_);
}

// --- transport events ---------------------------------------------------------

void PeerConnection::OnTransportConnected() {
  session_.Start(ctx_->Now());
  Pump();
}

void PeerConnection::OnTransportError(absl::Status status) { Close(status); }

void PeerConnection::OnTransportWritable() { Pump(); }

void PeerConnection::OnTransportReadable() { ReadSome(); }

void PeerConnection::ReadSome() {
  for (int round = 0; round < kReadRounds && !closed_; ++round) {
    const int64_t quota = Quota(/*upload=*/false);
    if (quota <= 0) {
      // Out of download quota: stop reading (TCP slows the sender down)
      // until the buckets refill.
      PauseReading();
      ctx_->WaitForQuota(id_, /*upload=*/false);
      return;
    }
    if (ctx_->disk().congested()) {
      PauseReading();
      ctx_->WaitForDisk(id_);
      return;
    }
    // Under a limit, take one block's worth per turn so peers alternate.
    const size_t want = quota == RateLimiter::kUnlimited
                            ? ReceiveBuffers::kSize
                            : static_cast<size_t>(std::clamp<int64_t>(
                                  quota, 1, 16 * 1024 + 13));
    ReceiveBuffers& buffers = ThreadReceiveBuffers();
    std::shared_ptr<std::string> buf = buffers.Next();
    absl::StatusOr<size_t> n =
        transport_->Read(absl::MakeSpan(buf->data(), want));
    if (!n.ok()) return Close(n.status());
    if (*n == 0) return;
    Charge(/*upload=*/false, static_cast<int64_t>(*n));
    EmitIo(EventType::kPeerRead, static_cast<int64_t>(*n));
    const absl::Span<char> got = absl::MakeSpan(buf->data(), *n);
    if (!buffers.KeepViews(*n)) buf.reset();  // blocks are copied
    session_.Receive(got, ctx_->Now(), std::move(buf));
    Pump();
    if (!closed_ && session_.InputThrottled(ctx_->Now())) {
      // Over its message budget: the peer waits (TCP holds its bytes)
      // until Tick finds the budget refilled.
      PauseReading();
      return;
    }
    if (*n < want) return;
  }
}

void PeerConnection::PauseReading() {
  reading_paused_ = true;
  transport_->SetReading(false);
}

void PeerConnection::OnQuota(bool upload) {
  if (closed_) return;
  if (upload) {
    Pump();
  } else {
    ResumeReading();
  }
}

void PeerConnection::ResumeReading() {
  if (!reading_paused_ || session_.InputThrottled(ctx_->Now())) return;
  reading_paused_ = false;
  transport_->SetReading(true);
}

void PeerConnection::OnDiskDrained() { OnQuota(/*upload=*/false); }

// --- the session's output and events -------------------------------------------

void PeerConnection::SchedulePump() {
  // While pumping, what the torrent just asked for goes out in this pump.
  if (pump_scheduled_ || closed_ || in_pump_) return;
  pump_scheduled_ = true;
  ctx_->Defer([this] {
    pump_scheduled_ = false;
    Pump();
  });
}

void PeerConnection::Pump() {
  if (closed_ || in_pump_) return;
  in_pump_ = true;
  // Handling events may produce more (serving frees room for queued
  // requests); loop until the session is quiet.
  for (int round = 0; round < 8 && !closed_; ++round) {
    DeliverEvents();
    if (closed_) break;
    if (session_.closed()) {
      in_pump_ = false;
      return Close(session_.close_reason());
    }
    // Writing first frees room in the send buffer for more serving.
    Flush();
    ServeMore();
    if (!session_.has_events()) break;
  }
  in_pump_ = false;
}

void PeerConnection::DeliverEvents() {
  if (!session_.has_events()) return;
  std::vector<SessionEvent> events = session_.TakeEvents();
  if (torrent_) {
    torrent_->OnSessionEvents(*this, std::move(events));
    return;
  }
  // Before the handshake only user events can occur.
  for (SessionEvent& e : events) {
    if (auto* user = std::get_if<Event>(&e); user && ctx_->Wants(user->type)) {
      ctx_->Emit(*user);
    }
  }
}

void PeerConnection::ServeMore() {
  if (!torrent_ || !session_.active()) return;
  while (true) {
    if (Quota(/*upload=*/true) <= 0) {
      ctx_->WaitForQuota(id_, /*upload=*/true);
      return;
    }
    std::optional<protocol::Request> r = session_.NextToServe();
    if (!r) return;
    Charge(/*upload=*/true, int64_t{r->length} + protocol::kPieceHeaderSize);
    torrent_->ServeBlock(*this, *r);
  }
}

void PeerConnection::Flush() {
  // Headers and the file bytes after them leave together in full segments.
  const bool files = session_.has_file_output();
  if (files) transport_->BeginFileSends();
  absl::Status failed;
  while (!closed_) {
    std::string_view out = session_.PendingOutput();
    const PeerSession::FileChunk* file =
        out.empty() ? session_.PendingFile() : nullptr;
    if (out.empty() && !file) break;
    absl::StatusOr<size_t> n =
        file ? transport_->SendFile(file->file->fd(), file->offset,
                                    static_cast<size_t>(file->length))
             : transport_->Write(out);
    if (!n.ok()) {
      failed = n.status();
      break;
    }
    if (*n == 0) break;
    if (file) {
      session_.ConsumeFile(*n, ctx_->Now());
    } else {
      session_.ConsumeOutput(*n, ctx_->Now());
    }
    EmitIo(EventType::kPeerWrite, static_cast<int64_t>(*n));
  }
  if (files) transport_->EndFileSends();
  if (!failed.ok()) return Close(std::move(failed));
  if (!closed_) transport_->SetWantWrite(session_.has_output());
}

void PeerConnection::Tick(absl::Time now) {
  if (closed_) return;
  if (!transport_->connected()) {
    if (now - opened_at_ > kConnectTimeout) {
      Close(absl::DeadlineExceededError(absl::StrFormat(
          "connect not complete after %s", absl::FormatDuration(kConnectTimeout))));
    }
    return;
  }
  session_.Tick(now);
  Pump();
  if (!closed_) ResumeReading();
}

// --- rate limits ------------------------------------------------------------------

int64_t PeerConnection::Quota(bool upload) const {
  int64_t quota = ctx_->rate_limit(upload).Available();
  if (torrent_) quota = std::min(quota, torrent_->rate_limit(upload).Available());
  return quota;
}

void PeerConnection::Charge(bool upload, int64_t bytes) {
  ctx_->rate_limit(upload).Consume(bytes);
  if (torrent_) torrent_->rate_limit(upload).Consume(bytes);
}

void PeerConnection::EmitIo(EventType type, int64_t length) {
  const bool torrent_wants = torrent_ && torrent_->Wants(type);
  if (!torrent_wants && !ctx_->Wants(type)) return;
  Event e;
  e.type = type;
  e.peer = ref();
  e.length = length;
  if (torrent_) {
    torrent_->Emit(e);
  } else {
    ctx_->Emit(e);
  }
}

}  // namespace bt::client
