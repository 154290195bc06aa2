// PeerSession: the extension protocol (BEP 10) with ut_metadata (BEP 9) and
// ut_pex (BEP 11), and the BEP 52 hash exchange. Every request the peer can
// make here is answered only while the send buffer has room, from a
// bounded queue; every answer we accept is one we asked this peer for.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "client/session/peer_session.h"
#include "protocol/ut_metadata.h"
#include "protocol/ut_pex.h"

namespace bt::client {
namespace {

// The ids we receive extension messages with (our extension handshake).
constexpr uint8_t kUtPexId = 1;
constexpr uint8_t kUtMetadataId = 2;

}  // namespace

bool PeerSession::offers_metadata() const {
  return their_extensions_.IdOf("ut_metadata") != 0;
}

void PeerSession::SendExtensionHandshake() {
  protocol::ExtensionHandshake mine;
  mine.v = options_.client_name;
  mine.p = options_.listen_port;
  mine.reqq = static_cast<uint32_t>(options_.limits.max_queued_requests);
  mine.m["ut_metadata"] = kUtMetadataId;
  const metainfo::TorrentInfo* info = torrent_->metainfo();
  // BEP 27: private torrents get peers from their trackers only.
  if (!info || !info->is_private()) mine.m["ut_pex"] = kUtPexId;
  if (info) mine.metadata_size = info->info_bytes().size();
  Endpoint yourip = options_.address;
  yourip.set_port(0);
  mine.yourip = yourip;
  // BEP 21; a peer told 1 before is told 0 when it no longer holds.
  const bool upload_only = torrent_->upload_only();
  if (upload_only || sent_upload_only_) mine.upload_only = upload_only;
  sent_upload_only_ = upload_only;
  extensions_sent_ = true;
  std::string payload;
  protocol::AppendExtensionHandshake(mine, &payload);
  SendExtended(0, payload);
}

void PeerSession::UpdateUploadOnly() {
  if (!active() || !extensions_sent_ ||
      torrent_->upload_only() == sent_upload_only_) {
    return;
  }
  SendExtensionHandshake();
}

void PeerSession::SendExtended(uint8_t id, std::string_view payload) {
  std::string bytes;
  protocol::AppendExtended(id, payload, &bytes);
  Send(bytes);
  if (Wants(EventType::kPacketOutgoingExtended)) {
    Event e = NewEvent(EventType::kPacketOutgoingExtended);
    e.extension_id = id;
    e.payload = std::string(payload);
    events_.push_back(std::move(e));
  }
}

absl::Status PeerSession::OnExtended(const protocol::Extended& x,
                                     absl::Time now) {
  if (Wants(EventType::kPacketIncomingExtended)) {
    Event e = NewEvent(EventType::kPacketIncomingExtended);
    e.extension_id = x.id;
    e.payload = std::string(x.payload);
    events_.push_back(std::move(e));
  }
  if (x.id == 0) {
    protocol::ExtensionLimits limits;
    limits.max_metadata_size = options_.limits.max_metadata_size;
    ASSIGN_OR_RETURN(their_extensions_,
                     protocol::ParseExtensionHandshake(x.payload, limits));
    events_.push_back(PeerExtensionsArrived{});
    if (their_extensions_.metadata_size && offers_metadata()) {
      events_.push_back(MetadataSizeOffered{*their_extensions_.metadata_size});
    }
    return absl::OkStatus();
  }
  if (x.id == kUtMetadataId) return OnMetadataMessage(x.payload);
  if (x.id == kUtPexId) OnPex(x.payload, now);
  return absl::OkStatus();
}

// --- ut_metadata ------------------------------------------------------------

absl::Status PeerSession::OnMetadataMessage(std::string_view payload) {
  absl::StatusOr<protocol::MetadataMessage> m = protocol::ParseMetadataMessage(
      payload, options_.limits.max_metadata_size);
  if (!m.ok()) {
    // BEP 9: unknown message types are ignored, not errors.
    if (m.status().code() == absl::StatusCode::kUnimplemented) {
      return absl::OkStatus();
    }
    return m.status();
  }
  if (m->type == protocol::MetadataMessageType::kRequest) {
    // An honest peer asks for each piece once: the queue holds at most
    // that many, and is answered while the send buffer has room.
    const metainfo::TorrentInfo* info = torrent_->metainfo();
    const size_t bound = std::max<size_t>(
        options_.limits.max_queued_metadata_requests,
        info ? protocol::MetadataPieceCount(info->info_bytes().size()) : 0);
    if (their_metadata_requests_.size() >= bound) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "more than %d metadata requests queued", bound));
    }
    their_metadata_requests_.push_back(m->piece);
    ServeControl();
    return absl::OkStatus();
  }
  // Data and rejects count only as answers to what we asked this peer.
  auto it = std::find_if(our_metadata_.begin(), our_metadata_.end(),
                         [&](const Asked& a) { return a.piece == m->piece; });
  if (it == our_metadata_.end()) return absl::OkStatus();
  our_metadata_.erase(it);
  if (m->type == protocol::MetadataMessageType::kData) {
    events_.push_back(MetadataPieceArrived{m->piece, m->total_size,
                                           std::string(m->data)});
  } else {
    events_.push_back(MetadataPieceRejected{m->piece});
  }
  return absl::OkStatus();
}

void PeerSession::RequestMetadataPiece(uint32_t piece, absl::Time now) {
  const uint8_t id = their_extensions_.IdOf("ut_metadata");
  if (!active() || id == 0) return;
  std::string payload;
  protocol::AppendMetadataMessage(
      {protocol::MetadataMessageType::kRequest, piece}, &payload);
  our_metadata_.push_back(Asked{piece, {}, now});
  SendExtended(id, payload);
}

// --- ut_pex -------------------------------------------------------------------

void PeerSession::OnPex(std::string_view payload, absl::Time now) {
  // A peer sending faster than BEP 11 allows is not listened to, nor are
  // peers of a private torrent.
  const metainfo::TorrentInfo* info = torrent_->metainfo();
  if ((info && info->is_private()) ||
      now - pex_received_at_ < options_.limits.pex_receive_interval) {
    return;
  }
  pex_received_at_ = now;
  absl::StatusOr<protocol::PexMessage> pex = protocol::ParsePexMessage(payload);
  if (!pex.ok()) return;  // a bad hint is dropped, not fatal
  PexPeersArrived added;
  auto take = [&](const std::vector<Endpoint>& peers,
                  const std::vector<uint8_t>& flags) {
    for (size_t i = 0; i < peers.size(); ++i) {
      added.added.push_back(peers[i]);
      added.flags.push_back(flags.empty() ? std::nullopt
                                          : std::optional<uint8_t>(flags[i]));
    }
  };
  take(pex->added, pex->added_flags);
  take(pex->added6, pex->added6_flags);
  if (!added.added.empty()) events_.push_back(std::move(added));
}

void PeerSession::SendPex(
    const std::vector<std::pair<Endpoint, uint8_t>>& current, absl::Time now) {
  const uint8_t id = their_extensions_.IdOf("ut_pex");
  // BEP 27: no peer exchange for private torrents.
  const metainfo::TorrentInfo* info = active() ? torrent_->metainfo() : nullptr;
  if (id == 0 || !active() || (info && info->is_private()) ||
      now - pex_sent_at_ < options_.limits.pex_send_interval) {
    return;
  }
  std::optional<protocol::PexMessage> pex = pex_.Update(current, ListenAddress());
  if (!pex) return;
  pex_sent_at_ = now;
  std::string payload;
  protocol::AppendPexMessage(*pex, &payload);
  SendExtended(id, payload);
}

// --- BEP 52 hashes --------------------------------------------------------------

void PeerSession::OnHashRequest(const protocol::HashRange& range) {
  if (their_hashes_outstanding_ + their_hash_queue_.size() >=
      options_.limits.max_queued_hash_requests) {
    // Not one of the outstanding ones: SendHashReject would release one.
    std::string bytes;
    protocol::AppendMessage(protocol::HashReject{range}, &bytes);
    Send(bytes);
    return;
  }
  their_hash_queue_.push_back(range);
  ServeControl();
}

void PeerSession::OnHashAnswer(const protocol::HashRange& range,
                               std::string_view hashes, bool rejected) {
  auto it = std::find_if(our_hashes_.begin(), our_hashes_.end(),
                         [&](const Asked& a) { return a.range == range; });
  if (it == our_hashes_.end()) return;  // not asked: ignored
  our_hashes_.erase(it);
  if (rejected) {
    events_.push_back(HashRequestRejected{range});
  } else {
    events_.push_back(HashesArrived{range, std::string(hashes)});
  }
}

void PeerSession::RequestHashes(const protocol::HashRange& range,
                                absl::Time now) {
  if (!active()) return;
  our_hashes_.push_back(Asked{0, range, now});
  std::string bytes;
  protocol::AppendMessage(protocol::HashRequest{range}, &bytes);
  Send(bytes);
}

void PeerSession::SendHashes(const protocol::HashRange& range,
                             std::string_view hashes) {
  if (their_hashes_outstanding_ > 0) --their_hashes_outstanding_;
  std::string bytes;
  protocol::AppendMessage(protocol::Hashes{range, hashes}, &bytes);
  Send(bytes);
  ServeControl();
}

void PeerSession::SendHashReject(const protocol::HashRange& range) {
  if (their_hashes_outstanding_ > 0) --their_hashes_outstanding_;
  std::string bytes;
  protocol::AppendMessage(protocol::HashReject{range}, &bytes);
  Send(bytes);
  ServeControl();
}

// --- serving and expiry -----------------------------------------------------------

void PeerSession::ServeControl() {
  if (!active()) return;
  const metainfo::TorrentInfo* info = torrent_->metainfo();
  const uint8_t metadata_id = their_extensions_.IdOf("ut_metadata");
  while (!their_metadata_requests_.empty() && HasRoom() && !closed()) {
    const uint32_t piece = their_metadata_requests_.front();
    their_metadata_requests_.pop_front();
    if (metadata_id == 0) continue;  // nobody to answer
    protocol::MetadataMessage m;
    m.piece = piece;
    const uint64_t offset = uint64_t{piece} * protocol::kMetadataPieceSize;
    if (info && offset < info->info_bytes().size()) {
      m.type = protocol::MetadataMessageType::kData;
      m.total_size = info->info_bytes().size();
      m.data = std::string_view(info->info_bytes())
                   .substr(offset, protocol::kMetadataPieceSize);
    } else {
      m.type = protocol::MetadataMessageType::kReject;
    }
    std::string payload;
    protocol::AppendMetadataMessage(m, &payload);
    SendExtended(metadata_id, payload);
  }
  while (!their_hash_queue_.empty() && HasRoom() && !closed() &&
         their_hashes_outstanding_ <
             options_.limits.max_outstanding_hash_requests) {
    ++their_hashes_outstanding_;
    events_.push_back(HashRequestArrived{their_hash_queue_.front()});
    their_hash_queue_.pop_front();
  }
}

void PeerSession::ExpireAsked(absl::Time now) {
  const absl::Time cutoff = now - options_.limits.request_timeout;
  for (std::deque<Asked>* asked : {&our_metadata_, &our_hashes_}) {
    while (!asked->empty() && asked->front().at < cutoff) asked->pop_front();
  }
}

}  // namespace bt::client
