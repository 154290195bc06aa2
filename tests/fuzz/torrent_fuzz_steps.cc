// One step of the torrent fuzz harness: an operation byte, the operation
// (on the client and torrent, or on one connection's slot), then the
// bookkeeping and the invariants. Peer-wire messages are in
// torrent_fuzz_wire_ops.cc, extension, metadata and hash messages in
// torrent_fuzz_exchange_ops.cc.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/peer_connection.h"
#include "tests/fuzz/torrent_fuzz_harness.h"

namespace bt::client::torrent_fuzz {

using client::testing::SimPeer;

void Harness::Run(Reader& in) {
  for (int steps = 0; !in.done() && steps < 1000; ++steps) Step(in);
  FinalCheck();
  if (verbose_) LogSummary();
}

void Harness::Step(Reader& in) {
  const uint8_t b = in.Byte();
  const uint8_t op = b & 0x1f;
  const uint8_t sel = b >> 5;
  if (!ClientOp(op, in)) {
    // Without an open connection, the operation (and its arguments) is
    // skipped.
    if (Slot* s = Pick(sel)) {
      (void)(ConnectionOp(op, *s, in) || WireOp(op, *s, in) ||
             ExchangeOp(op, *s, in));
    }
  }
  if (auto_run_) sim_->RunPending();
  Sync();
  CheckInvariants();
  if (verbose_) LogStep(op, sel);
}

bool Harness::ClientOp(uint8_t op, Reader& in) {
  switch (op) {
    case kOpIncoming: {
      const uint8_t a = in.Byte();
      if (slots_.size() < 48) AddSlot(sim_->Incoming(AddressOf(a)), true);
      return true;
    }
    case kOpAddPeer: {
      const uint8_t a = in.Byte();
      t_->AddPeer(AddressOf(a), (a & 0x80) ? PeerSet::Source::kPex
                                          : PeerSet::Source::kTracker);
      return true;
    }
    case kOpTorrent:
      TorrentControl(in.Byte());
      return true;
    case kOpFilePriority: {
      const uint8_t a = in.Byte();
      if (t_->num_files() > 0) {
        (void)t_->SetFilePriority(a % t_->num_files(), (a >> 5) % 3);
      }
      return true;
    }
    case kOpAdvance:
      Advance(in.Byte());
      return true;
    case kOpRestart:
      Restart(in.Byte());
      return true;
    case kOpRunPending: {
      const uint8_t a = in.Byte();
      if (a & 0x80) auto_run_ = !auto_run_;
      sim_->RunPending((a & 0x7f) == 0 ? size_t{1} << 20 : (a & 0x7f));
      return true;
    }
    default:
      return false;
  }
}

void Harness::Advance(uint8_t arg) {
  static constexpr int kMillis[] = {100,   500,   1000,   2000,
                                    5000,  11000, 31000,  61000,
                                    91000, 1000,  181000, 301000,
                                    1000,  3000,  10500,  30500};
  const absl::Duration d = absl::Milliseconds(kMillis[arg & 15]);
  // (Simulated time is bounded: each second ticks everything.)
  if (elapsed_ + d > absl::Hours(2)) return;
  elapsed_ += d;
  sim_->Advance(d);
  // What a client does as time passes: refill the torrent's rate limits and
  // wake the connections they paused.
  t_->rate_limit(true).Refill(sim_->Now());
  t_->rate_limit(false).Refill(sim_->Now());
  for (uint64_t id = 1; id <= connections_made_; ++id) {
    if (PeerConnection* c = sim_->connection(id); c && !c->closed()) {
      c->OnQuota(/*upload=*/false);
      if (!c->closed()) c->OnQuota(/*upload=*/true);
    }
  }
}

// ConnectionOp performs an operation on the connection's transport rather
// than in its protocol; false if `op` is not one.
bool Harness::ConnectionOp(uint8_t op, Slot& s, Reader& in) {
  switch (op) {
    case kOpConnect:
      s.peer->CompleteConnect();
      return true;
    case kOpConnectFail:
      if (PeerConnection* c = sim_->connection(s.id);
          c && !c->closed() && c->connecting()) {
        c->OnTransportError(absl::UnavailableError("connection refused"));
      } else {
        s.peer->DeliverEof();
      }
      return true;
    case kOpRaw: {
      const uint8_t a = in.Byte();
      Send(s, in.Bytes(a));
      return true;
    }
    case kOpReading: {
      const uint8_t a = in.Byte();
      switch (a & 3) {
        case 0:
        case 3:
          Take(s);
          break;
        case 1:
          // A peer that stops reading: its socket buffer fills up.
          s.reading = false;
          s.peer->set_write_capacity(s.peer->written_pending() +
                                     (a >> 2) * 1024);
          break;
        case 2:
          s.reading = true;
          s.peer->set_write_capacity(static_cast<size_t>(-1));
          break;
      }
      return true;
    }
    case kOpClose:
      s.peer->DeliverEof();
      return true;
    default:
      return false;
  }
}

Slot* Harness::Pick(uint8_t sel) {
  std::vector<Slot*> open;
  for (auto& s : slots_) {
    if (!s->peer->closed()) open.push_back(s.get());
  }
  if (open.empty()) return nullptr;
  return open[sel % open.size()];
}

void Harness::AddSlot(SimPeer* peer, bool incoming) {
  auto slot = std::make_unique<Slot>();
  slot->peer = peer;
  slot->address = peer->remote();
  slot->incoming = incoming;
  slot->id = ++connections_made_;
  slot->peer_id = FuzzPeerId(incoming ? '1' : '2', slots_.size());
  if (PeerConnection* c = sim_->connection(slot->id); c && !incoming) {
    Check(!c->incoming() && c->address() == slot->address,
          "connection ids follow creation order");
  }
  slots_.push_back(std::move(slot));
}

void Harness::LogStep(uint8_t op, uint8_t sel) {
  std::fprintf(stderr, "op %d slot %d: %s have %u conns %zu", op, sel,
               TorrentStateName(t_->state()), t_->pieces_have(),
               t_->connection_count());
  for (auto& sl : slots_) {
    PeerConnection* c = sim_->connection(sl->id);
    for (const protocol::Request& r : sl->requests) {
      std::fprintf(stderr, " %u:%u", r.piece, r.begin / protocol::kBlockSize);
    }
    std::fprintf(stderr, " [%s%s req %zu md %zu hr %zu%s]",
                 sl->peer->closed() ? "closed " : "",
                 c && c->session().active() ? "active" : "",
                 sl->requests.size(), sl->metadata_requests.size(),
                 sl->hash_requests.size(),
                 c && c->session().am_interested() ? " interested" : "");
  }
  std::fprintf(stderr, "\n");
}

void Harness::LogSummary() {
  size_t banned = 0;
  for (uint8_t a = 0; a < 8; ++a) banned += t_->Banned(AddressOf(a));
  std::fprintf(stderr,
               "state %s metadata %d pieces %u/%u connections %zu slots %zu "
               "banned %zu\n",
               TorrentStateName(t_->state()), t_->has_metadata(),
               t_->pieces_have(), full_->num_pieces(), t_->connection_count(),
               slots_.size(), banned);
  std::fprintf(stderr, "error: %s\n", t_->error().ToString().c_str());
}

}  // namespace bt::client::torrent_fuzz
