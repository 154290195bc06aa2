// Torrent: BEP 19 web seeds. Each `url-list` URL is a WebSeedConnection
// that the picker treats as one more peer holding every piece: it is given
// runs of blocks, and its blocks are recorded for blame under an address
// of its own, so a server whose data fails a hash check is dropped.
#include "client/torrent.h"

namespace bt::client {

std::vector<WebSeedInfo> Torrent::web_seeds() const {
  std::vector<WebSeedInfo> out;
  for (const auto& c : web_seeds_) {
    WebSeedInfo w;
    w.url = c->seed().url();
    w.dropped = c->seed().dropped();
    w.drop_reason = c->seed().drop_reason();
    w.failures = c->seed().failures();
    w.bytes_received = c->bytes_received();
    if (!c->last_error().ok()) w.last_error = c->last_error().ToString();
    out.push_back(std::move(w));
  }
  return out;
}

void Torrent::StartWebSeeds() {
  if (!ctx_ || !ctx_->loop() || !has_metadata() || !web_seeds_.empty()) return;
  WebSeedConnection::Host host;
  host.pick = [this](uint64_t id, int max_blocks) {
    std::vector<BlockRef> blocks;
    if (state_ != TorrentState::kDownloading || !picker_) return blocks;
    storage::Bitfield all(info_->num_pieces(), true);
    // Whole pieces while there are unstarted ones; then help finish the
    // rest like any peer.
    picker_->PickWholePieces(all, max_blocks, id, &blocks);
    if (blocks.empty()) picker_->Pick(all, max_blocks, id, &blocks);
    return blocks;
  };
  host.give_back = [this](uint64_t id, const std::vector<BlockRef>& blocks) {
    if (!picker_) return;
    for (BlockRef b : blocks) picker_->OnRequestDropped(b, id);
  };
  host.deliver = [this](uint64_t id, BlockRef block, std::string data) {
    if (state_ != TorrentState::kDownloading) {
      if (picker_) picker_->OnRequestDropped(block, id);
      return;
    }
    AcceptBlock(block, std::move(data), id,
                WebSeedConnection::BlameAddress(id));
  };
  host.now = [this] { return ctx_->Now(); };
  for (const std::string& url : info_->web_seeds()) {
    // URLs of other schemes (ftp) are ignored, as BEP 19 allows.
    absl::StatusOr<WebSeed> seed = WebSeed::Create(url, *info_);
    if (!seed.ok()) continue;
    if (!web_seed_resolver_) {
      web_seed_resolver_ = std::make_unique<Resolver>(ctx_->loop());
    }
    web_seeds_.push_back(std::make_unique<WebSeedConnection>(
        ctx_->loop(), web_seed_resolver_.get(),
        kWebSeedIdBase + web_seeds_.size(), *std::move(seed), host));
  }
}

void Torrent::PumpWebSeeds() {
  if (state_ == TorrentState::kDownloading) StartWebSeeds();
  for (const auto& c : web_seeds_) {
    if (state_ == TorrentState::kDownloading) {
      c->Pump();
    } else {
      c->Stop();
    }
  }
}

bool Torrent::BlameWebSeed(const Endpoint& culprit) {
  for (const auto& c : web_seeds_) {
    if (c->blame_address() != culprit) continue;
    c->Drop("sent data that failed a hash check");
    return true;
  }
  return false;
}

}  // namespace bt::client
