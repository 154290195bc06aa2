// PeerSession: the peer-wire messages of BEP 3, 5 and 6 in both directions,
// and serving blocks.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "client/session/peer_session.h"

namespace bt::client {

absl::Status PeerSession::OnMessage(const protocol::Message& m,
                                    absl::Time now) {
  using namespace protocol;  // NOLINT: message type names
  if (const auto* hs = std::get_if<Handshake>(&m)) return OnHandshake(*hs, now);
  if (!active()) {
    return absl::FailedPreconditionError("message before the handshake");
  }
  if (const auto* p = std::get_if<Piece>(&m)) return OnPiece(*p, now);
  if (const auto* r = std::get_if<protocol::Request>(&m)) return OnRequest(*r);
  if (const auto* h = std::get_if<Have>(&m)) return OnHave(h->piece);
  if (const auto* b = std::get_if<protocol::Bitfield>(&m)) {
    return OnBitfield(b->bits);
  }
  if (std::holds_alternative<HaveAll>(m)) return OnHaveAllOrNone(true);
  if (std::holds_alternative<HaveNone>(m)) return OnHaveAllOrNone(false);
  if (const auto* r = std::get_if<Reject>(&m)) return OnReject(*r);
  if (const auto* x = std::get_if<Extended>(&m)) return OnExtended(*x, now);
  if (std::holds_alternative<KeepAlive>(m)) {
    Emit(EventType::kPacketIncomingKeepalive);
  } else if (std::holds_alternative<Choke>(m)) {
    OnPeerChoke(true);
  } else if (std::holds_alternative<Unchoke>(m)) {
    OnPeerChoke(false);
  } else if (std::holds_alternative<Interested>(m) ||
             std::holds_alternative<NotInterested>(m)) {
    const bool interested = std::holds_alternative<Interested>(m);
    Emit(interested ? EventType::kPacketIncomingInterested
                    : EventType::kPacketIncomingNotInterested);
    if (interested != peer_interested_) {
      peer_interested_ = interested;
      events_.push_back(PeerInterestChanged{interested});
    }
  } else if (const auto* c = std::get_if<protocol::Cancel>(&m)) {
    OnCancel(*c);
  } else if (const auto* a = std::get_if<AllowedFast>(&m)) {
    OnAllowedFast(a->piece);
  } else if (const auto* s = std::get_if<Suggest>(&m)) {
    Emit(EventType::kPacketIncomingSuggest, s->piece);
  } else if (const auto* p = std::get_if<Port>(&m)) {
    if (Wants(EventType::kPacketIncomingPort)) {
      Event e = NewEvent(EventType::kPacketIncomingPort);
      e.port = p->port;
      events_.push_back(std::move(e));
    }
    if (p->port != 0) events_.push_back(DhtPortArrived{p->port});
  } else if (const auto* hr = std::get_if<HashRequest>(&m)) {
    OnHashRequest(hr->range);
  } else if (const auto* hs = std::get_if<Hashes>(&m)) {
    OnHashAnswer(hs->range, hs->hashes, /*rejected=*/false);
  } else if (const auto* hj = std::get_if<HashReject>(&m)) {
    OnHashAnswer(hj->range, {}, /*rejected=*/true);
  }
  // Unknown message ids are ignored (BEP 10 peers may send them).
  return absl::OkStatus();
}

// --- what the peer has --------------------------------------------------------

absl::Status PeerSession::OnHave(uint32_t piece) {
  Emit(EventType::kPacketIncomingHave, piece);
  if (num_pieces() == 0) {
    // Kept until the metadata tells the piece count; a bounded hint.
    if (pending_haves_.size() < options_.limits.max_pending_haves) {
      pending_haves_.push_back(piece);
    }
    return absl::OkStatus();
  }
  if (!peer_have_.Get(piece)) {
    peer_have_.Set(piece);
    ++peer_pieces_;
    events_.push_back(PeerHaveArrived{piece});
  }
  return absl::OkStatus();
}

absl::Status PeerSession::OnBitfield(std::string_view bits) {
  if (Wants(EventType::kPacketIncomingBitfield)) {
    Event e = NewEvent(EventType::kPacketIncomingBitfield);
    e.payload = std::string(bits);
    events_.push_back(std::move(e));
  }
  if (num_pieces() == 0) {
    // Kept until the metadata tells the piece count, if of a sane size; a
    // late one (after have none or a bitfield) adds to what is known, as
    // it does afterwards.
    if (bits.size() <= options_.limits.max_pending_bitfield &&
        !pending_all_.value_or(false)) {
      if (pending_bitfield_.empty()) {
        pending_bitfield_ = std::string(bits);
      } else if (pending_bitfield_.size() == bits.size()) {
        for (size_t i = 0; i < bits.size(); ++i) pending_bitfield_[i] |= bits[i];
      } else {
        return absl::InvalidArgumentError(absl::StrFormat(
            "bitfield of %d bytes after one of %d", bits.size(),
            pending_bitfield_.size()));
      }
    }
    peer_have_known_ = true;
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(storage::Bitfield have,
                   storage::Bitfield::FromBytes(bits, num_pieces()));
  if (peer_have_known_ || peer_pieces_ > 0) {
    MergeLateHaves(have);
    return absl::OkStatus();
  }
  peer_have_ = std::move(have);
  peer_pieces_ = static_cast<uint32_t>(peer_have_.Count());
  peer_have_known_ = true;
  events_.push_back(PeerHaveSetKnown{});
  return absl::OkStatus();
}

absl::Status PeerSession::OnHaveAllOrNone(bool all) {
  Emit(all ? EventType::kPacketIncomingHaveAll
           : EventType::kPacketIncomingHaveNone);
  if (num_pieces() == 0) {
    if (!all && (peer_have_known_ || !pending_haves_.empty())) {
      return absl::InvalidArgumentError("have none after the bitfield");
    }
    pending_all_ = all;
    peer_have_known_ = true;
    return absl::OkStatus();
  }
  if (peer_have_known_ || peer_pieces_ > 0) {
    if (!all) return absl::InvalidArgumentError("have none after the bitfield");
    // A seed saying so again costs nothing; anyone else becomes one.
    if (!peer_is_seed()) MergeLateHaves(storage::Bitfield(num_pieces(), true));
    return absl::OkStatus();
  }
  peer_have_ = storage::Bitfield(num_pieces(), all);
  peer_pieces_ = all ? num_pieces() : 0;
  peer_have_known_ = true;
  events_.push_back(PeerHaveSetKnown{});
  return absl::OkStatus();
}

// aria2 (1.36 at least) sends a bitfield, or "have all" once it is complete,
// in place of 20 or more pending haves, long after the handshake. BEP 3
// allows a bitfield only first, but refusing it cuts every aria2 downloader
// off after its first 20 pieces; so a late one counts as a have for each
// new piece (a peer never loses pieces: cleared bits are ignored).
void PeerSession::MergeLateHaves(const storage::Bitfield& bits) {
  for (uint32_t piece = 0; piece < bits.size(); ++piece) {
    if (bits.Get(piece) && !peer_have_.Get(piece)) {
      peer_have_.Set(piece);
      ++peer_pieces_;
      events_.push_back(PeerHaveArrived{piece});
    }
  }
}

// --- choking, requests and blocks from the peer -------------------------------

void PeerSession::OnPeerChoke(bool choked) {
  Emit(choked ? EventType::kPacketIncomingChoke
              : EventType::kPacketIncomingUnchoke);
  if (choked == peer_choking_) return;
  peer_choking_ = choked;
  events_.push_back(PeerChokeChanged{choked});
  // With the Fast extension the peer rejects what it will not serve;
  // without it every request in flight is void.
  if (choked && !fast_ && requests_.in_flight() > 0) {
    events_.push_back(RequestsReturned{requests_.GiveUpAll()});
  }
}

void PeerSession::OnAllowedFast(uint32_t piece) {
  Emit(EventType::kPacketIncomingAllowedFast, piece);
  // Before the metadata the offer is only a hint and is dropped.
  if (piece < allowed_by_peer_.size() && !allowed_by_peer_.Get(piece)) {
    allowed_by_peer_.Set(piece);
    events_.push_back(AllowedFastArrived{piece});
  }
}

absl::Status PeerSession::OnRequest(const protocol::Request& r) {
  Emit(EventType::kPacketIncomingRequest, r.piece, r.begin, r.length);
  const auto reject = [&] {
    if (fast_) {
      SendMessage(protocol::Reject{r.piece, r.begin, r.length},
                  EventType::kPacketOutgoingReject);
    }
  };
  if (num_pieces() == 0) {
    reject();
    return absl::OkStatus();
  }
  if (r.length == 0 || r.begin + int64_t{r.length} > PieceSize(r.piece)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "request outside piece %d: offset %d length %d", r.piece, r.begin,
        r.length));
  }
  const bool allowed = !am_choking_ || AllowedForPeer(r.piece);
  if (!allowed || !torrent_->serving() || !torrent_->have().Get(r.piece) ||
      (super_seeding_ && !revealed_.Get(r.piece)) || !serve_.Push(r)) {
    reject();
  }
  return absl::OkStatus();
}

void PeerSession::OnCancel(const protocol::Cancel& c) {
  Emit(EventType::kPacketIncomingCancel, c.piece, c.begin, c.length);
  // BEP 6: every request gets exactly one answer; a request being read
  // completes, a queued one is rejected.
  if (serve_.Cancel(protocol::Request{c.piece, c.begin, c.length}) && fast_) {
    SendMessage(protocol::Reject{c.piece, c.begin, c.length},
                EventType::kPacketOutgoingReject);
  }
}

BlockBytes PeerSession::KeepBlock(std::string_view data) {
  const std::less<const char*> before;
  const std::string_view in = received_;
  if (received_keeper_ && !before(data.data(), in.data()) &&
      !before(in.data() + in.size(), data.data() + data.size())) {
    return BlockBytes(received_keeper_, data);
  }
  return options_.block_buffers ? options_.block_buffers->Copy(data)
                                : std::string(data);
}

absl::Status PeerSession::OnPiece(const protocol::Piece& p, absl::Time now) {
  Emit(EventType::kPacketIncomingBlock, p.piece, p.begin,
       static_cast<int64_t>(p.data.size()));
  if (p.begin % kBlockSize != 0) return OnUnsolicited("block at an odd offset");
  const BlockRef block{p.piece, p.begin / kBlockSize};
  switch (requests_.MatchBlock(block, p.data.size())) {
    case RequestTracker::Match::kWrongLength:
      return absl::InvalidArgumentError(absl::StrFormat(
          "block %d:%d of %d bytes answers a request of %d", p.piece, p.begin,
          p.data.size(), num_pieces() ? BlockLength(block) : 0));
    case RequestTracker::Match::kUnknown:
      return OnUnsolicited("block never requested");
    case RequestTracker::Match::kInFlight:
      last_block_ = now;
      snubbed_ = false;
      payload_down_ += static_cast<int64_t>(p.data.size());
      if (request_slow_start_ && slow_start_depth_ < kMaxRequestDepth) {
        ++slow_start_depth_;
      }
      events_.push_back(BlockArrived{block, KeepBlock(p.data), true});
      return absl::OkStatus();
    case RequestTracker::Match::kGivenUp:
      // Late, but an answer: the peer is alive.
      last_block_ = now;
      snubbed_ = false;
      payload_down_ += static_cast<int64_t>(p.data.size());
      events_.push_back(BlockArrived{block, KeepBlock(p.data), false});
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status PeerSession::OnReject(const protocol::Reject& r) {
  Emit(EventType::kPacketIncomingReject, r.piece, r.begin, r.length);
  const BlockRef block{r.piece, r.begin / kBlockSize};
  const RequestTracker::Match match =
      r.begin % kBlockSize != 0 ? RequestTracker::Match::kUnknown
                                : requests_.MatchReject(block, r.length);
  if (match == RequestTracker::Match::kUnknown) {
    return OnUnsolicited("reject of a request never sent");
  }
  // A request we gave up on (cancelled, snubbed) was returned already.
  if (match == RequestTracker::Match::kInFlight) {
    events_.push_back(RequestsReturned{{block}});
  }
  return absl::OkStatus();
}

absl::Status PeerSession::OnUnsolicited(std::string_view what) {
  // BEP 6: with the Fast extension every request has exactly one answer,
  // so an unmatched one is an error; without it, late answers to voided
  // requests are normal and only a stream of them is refused.
  if (fast_ || ++unsolicited_ > options_.limits.max_unsolicited) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s (%d unsolicited answers)", what, std::max(unsolicited_, 1)));
  }
  return absl::OkStatus();
}

// --- commands -----------------------------------------------------------------

void PeerSession::SetChoking(bool choke) {
  if (choke == am_choking_ || !active()) return;
  am_choking_ = choke;
  if (!choke) {
    SendMessage(protocol::Unchoke{}, EventType::kPacketOutgoingUnchoke);
    return;
  }
  SendMessage(protocol::Choke{}, EventType::kPacketOutgoingChoke);
  // Queued requests for allowed-fast pieces stay; the rest are dropped
  // (and, with the Fast extension, rejected explicitly, after the choke).
  for (const protocol::Request& r : serve_.RemoveIf(
           [&](const protocol::Request& r) {
             return !(fast_ && AllowedForPeer(r.piece));
           })) {
    if (fast_) {
      SendMessage(protocol::Reject{r.piece, r.begin, r.length},
                  EventType::kPacketOutgoingReject);
    }
  }
}

void PeerSession::SetInterested(bool interested) {
  if (interested == am_interested_ || !active()) return;
  am_interested_ = interested;
  if (interested) {
    SendMessage(protocol::Interested{}, EventType::kPacketOutgoingInterested);
  } else {
    SendMessage(protocol::NotInterested{},
                EventType::kPacketOutgoingNotInterested);
  }
}

void PeerSession::Request(absl::Span<const BlockRef> blocks, absl::Time now) {
  if (!active() || num_pieces() == 0 || blocks.empty()) return;
  std::string bytes;
  for (const BlockRef& b : blocks) {
    if (b.piece >= num_pieces()) continue;
    const uint32_t length = BlockLength(b);
    if (length == 0) continue;
    protocol::AppendRequest(b.piece, b.begin(), length, &bytes);
    requests_.Add(b, length, now);
    Emit(EventType::kPacketOutgoingRequest, b.piece, b.begin(), length);
  }
  Send(bytes);
}

void PeerSession::Cancel(BlockRef b) {
  if (!active() || !requests_.GiveUp(b)) return;
  const uint32_t length = BlockLength(b);
  SendMessage(protocol::Cancel{b.piece, b.begin(), length},
              EventType::kPacketOutgoingCancel);
}

void PeerSession::SendHave(uint32_t piece) {
  if (!active() || piece >= num_pieces()) return;
  std::string bytes;
  protocol::AppendHave(piece, &bytes);
  Send(bytes);
  Emit(EventType::kPacketOutgoingHave, piece);
}

void PeerSession::RevealPiece(uint32_t piece) {
  if (!super_seeding_ || piece >= revealed_.size() || revealed_.Get(piece) ||
      !torrent_->have().Get(piece)) {
    return;
  }
  revealed_.Set(piece);
  SendHave(piece);
}

void PeerSession::EndSuperSeeding() {
  if (!super_seeding_) return;
  super_seeding_ = false;
  const storage::Bitfield& have = torrent_->have();
  if (active() && fast_ && have.All()) {
    // After haves, "have all" is a late bitfield, which peers merge.
    SendMessage(protocol::HaveAll{}, EventType::kPacketOutgoingHaveAll);
  } else if (active()) {
    storage::Bitfield rest = have;
    rest.AndNot(revealed_);
    SendHaves(rest);
  }
  revealed_ = storage::Bitfield();
}

// --- serving --------------------------------------------------------------------

std::optional<protocol::Request> PeerSession::NextToServe() {
  std::optional<protocol::Request> r;
  if (active() && HasRoom() && torrent_->serving() &&
      (serve_burst_ || serve_.reading_bytes() == 0)) {
    r = serve_.Pop();
  }
  serve_burst_ = r.has_value();
  return r;
}

void PeerSession::SendBlock(const protocol::Request& r, ByteSpan data) {
  if (!serve_.FinishRead(r) || closed()) return;
  if (data.size() != r.length) {
    // Every request gets one answer (BEP 6): a read that came back short
    // is a failed read.
    if (fast_) {
      SendMessage(protocol::Reject{r.piece, r.begin, r.length},
                  EventType::kPacketOutgoingReject);
    }
    return;
  }
  std::string header;
  protocol::AppendPieceHeader(r.piece, r.begin, r.length, &header);
  const size_t from = out_.size();
  out_.append(header);
  out_.append(reinterpret_cast<const char*>(data.data()), data.size());
  if (mse_ && mse_->done()) mse_->Encrypt(&out_, from);
  payload_up_ += r.length;
  Emit(EventType::kPacketOutgoingBlock, r.piece, r.begin, r.length);
}

bool PeerSession::CanSendFromFile() const {
  return !mse_ || (mse_->done() && !mse_->encrypted());
}

void PeerSession::SendBlockFromFile(
    const protocol::Request& r, std::shared_ptr<const storage::SendableFile> file,
    int64_t offset) {
  if (!serve_.FinishRead(r) || closed()) return;
  if (!CanSendFromFile()) {
    return Fail(absl::InternalError("a block from a file for an encrypted peer"));
  }
  std::string header;
  protocol::AppendPieceHeader(r.piece, r.begin, r.length, &header);
  out_.append(header);
  files_.push_back(
      QueuedFileChunk{out_.size(), FileChunk{std::move(file), offset, r.length}});
  file_bytes_ += r.length;
  payload_up_ += r.length;
  Emit(EventType::kPacketOutgoingBlock, r.piece, r.begin, r.length);
}

void PeerSession::AbortServe(const protocol::Request& r) {
  if (!serve_.FinishRead(r) || !fast_) return;
  SendMessage(protocol::Reject{r.piece, r.begin, r.length},
              EventType::kPacketOutgoingReject);
}

}  // namespace bt::client
