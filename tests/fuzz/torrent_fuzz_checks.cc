// What the torrent fuzz harness learns and checks after each step: new
// outgoing connections, what our side sent each peer (requests to answer,
// blocks and metadata that must be the torrent's), the torrent's
// invariants, and at the end the pieces it has against the disk.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "client/peer_connection.h"
#include "protocol/extension_handshake.h"
#include "protocol/ut_metadata.h"
#include "protocol/ut_pex.h"
#include "storage/bitfield.h"
#include "storage/hash_checker.h"
#include "storage/piece_storage.h"
#include "tests/fuzz/torrent_fuzz_harness.h"

namespace bt::client::torrent_fuzz {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

void Harness::Sync() {
  // Connections the torrent dialled become slots.
  const std::vector<client::testing::SimPeer*>& out = sim_->outgoing();
  for (; outgoing_seen_ < out.size(); ++outgoing_seen_) {
    AddSlot(out[outgoing_seen_], /*incoming=*/false);
  }
  for (auto& s : slots_) {
    if (s->reading) Take(*s);
  }
}

// Take parses what our side sent the peer since the last time.
void Harness::Take(Slot& s) {
  std::string bytes = s.peer->TakeWritten();
  if (bytes.empty() || s.opaque) return;
  if (!s.parser) {
    protocol::ParserOptions o;
    o.expect_handshake = true;
    o.max_message_length = 4 << 20;
    o.max_block_length = 1 << 20;
    s.parser = std::make_unique<protocol::MessageParser>(o);
  }
  s.parser->Feed(bytes);
  while (true) {
    absl::StatusOr<std::optional<protocol::Message>> m = s.parser->Next();
    if (!m.ok()) {
      // Encrypted (MSE) or otherwise not for us to read.
      s.opaque = true;
      return;
    }
    if (!*m) break;
    if (const auto* r = std::get_if<protocol::Request>(&**m)) {
      if (s.requests.size() < 4096) s.requests.push_back(*r);
    } else if (const auto* c = std::get_if<protocol::Cancel>(&**m)) {
      auto it = std::find(s.requests.begin(), s.requests.end(),
                          protocol::Request{c->piece, c->begin, c->length});
      if (it != s.requests.end()) s.requests.erase(it);
    } else if (const auto* p = std::get_if<protocol::Piece>(&**m)) {
      if (s.served.size() < 64) {
        s.served.push_back(protocol::Request{
            p->piece, p->begin, static_cast<uint32_t>(p->data.size())});
      }
      // What we serve must be the torrent's data (unless its files were
      // changed underneath).
      Check(tampered_ || p->data == BlockBytes(p->piece, p->begin,
                                               static_cast<uint32_t>(
                                                   p->data.size())),
            "served block differs from the torrent's content");
    } else if (const auto* h = std::get_if<protocol::HashRequest>(&**m)) {
      if (s.hash_requests.size() < 64) s.hash_requests.push_back(h->range);
    } else if (const auto* x = std::get_if<protocol::Extended>(&**m)) {
      if (x->id == 0) {
        absl::StatusOr<protocol::ExtensionHandshake> hs =
            protocol::ParseExtensionHandshake(x->payload);
        Check(hs.ok(), "our extension handshake parses");
        if (uint8_t id = hs->IdOf("ut_metadata")) s.our_ut_metadata = id;
        if (uint8_t id = hs->IdOf("ut_pex")) s.our_ut_pex = id;
      } else if (x->id == kPeerUtMetadata) {
        absl::StatusOr<protocol::MetadataMessage> mm =
            protocol::ParseMetadataMessage(x->payload);
        Check(mm.ok(), "our ut_metadata message parses");
        if (mm->type == protocol::MetadataMessageType::kRequest &&
            s.metadata_requests.size() < 64) {
          s.metadata_requests.push_back(mm->piece);
        } else if (mm->type == protocol::MetadataMessageType::kData) {
          const std::string& info = full_->info_bytes();
          Check(mm->total_size == info.size() &&
                    mm->data == std::string_view(info).substr(
                                    size_t{mm->piece} *
                                        protocol::kMetadataPieceSize,
                                    protocol::kMetadataPieceSize),
                "served metadata differs from the torrent's");
        }
      } else if (x->id == kPeerUtPex) {
        Check(protocol::ParsePexMessage(x->payload).ok(),
              "our ut_pex message parses");
      }
    }
  }
}

void Harness::CheckInvariants() {
  size_t expected = 0;
  for (uint64_t id = 1; id <= connections_made_; ++id) {
    PeerConnection* c = sim_->connection(id);
    if (!c) continue;
    const PeerSession& s = c->session();
    if (c->closed()) {
      Check(s.closed(), "a closed connection's session is closed");
      continue;
    }
    Check(s.PendingOutput().size() <= send_bound_,
          "unsent output within send_buffer_max");
    if (c->torrent() == t_ && (!c->incoming() || s.active())) ++expected;
  }
  Check(t_->connection_count() == expected,
        "the torrent references exactly its open connections");
  if (t_->has_metadata()) {
    Check(t_->have().size() == t_->info().num_pieces(),
          "have-set sized to the torrent");
    Check(t_->info().num_pieces() == full_->num_pieces(),
          "adopted metadata is the torrent's");
  }
  Check(t_->pieces_have() <= full_->num_pieces(), "pieces_have bounded");
  Check(t_->bytes_done() <= t_->bytes_wanted() &&
            t_->bytes_wanted() <= full_->total_size(),
        "progress bounded");
  const auto [md_have, md_total] = t_->metadata_progress();
  const auto [pl_have, pl_total] = t_->piece_layer_progress();
  Check(md_have <= md_total && pl_have <= pl_total, "exchange progress");
  Check(!t_->name().empty(), "a name");
}

// FinalCheck: every piece the torrent says it has (unless its files were
// changed underneath) hashes correctly on the disk.
void Harness::FinalCheck() {
  sim_->RunPending();
  CheckInvariants();
  for (const PeerInfo& p : t_->peers()) {
    Check(p.pieces <= full_->num_pieces(), "a peer's pieces bounded");
  }
  if (!t_->has_metadata() || t_->pieces_have() == 0 || tampered_) return;
  storage::Bitfield have = t_->have();
  storage::StorageOptions options;
  for (size_t f = 0; f < t_->num_files(); ++f) {
    options.file_priorities.push_back(t_->file_priority(f));
  }
  auto storage = storage::PieceStorage::Create(*full_, kSavePath, &disk_,
                                               std::move(options));
  Check(storage.ok(), "storage for the final check");
  storage::CheckOptions check;
  check.threads = 1;
  check.pieces = &have;
  check.wanted_only = false;
  absl::StatusOr<storage::CheckResult> r =
      storage::CheckPieces(*full_, **storage, check);
  Check(r.ok(), "final hash check runs");
  for (uint32_t p = 0; p < have.size(); ++p) {
    if (have.Get(p) && !r->have.Get(p)) {
      std::fprintf(stderr, "piece %u is had but fails its hash\n", p);
      Check(false, "every piece we have hashes correctly on disk");
    }
  }
}

}  // namespace bt::client::torrent_fuzz
