#include "dht/reply_budget.h"

#include <vector>

namespace bt::dht {
namespace {

// Encoded sizes of one list entry: a compact peer as its own bencoded
// string, a compact node or a 20-byte sample inside one shared string.
size_t EntrySize(const Endpoint& peer) { return peer.is_v6() ? 3 + 18 : 2 + 6; }
size_t EntrySize(const NodeInfo& node) {
  return node.endpoint.is_v6() ? 20 + 18 : 20 + 6;
}
size_t EntrySize(const Sha1Hash&) { return Sha1Hash::kSize; }

// DropFromBack removes entries from the end of `list` until at least
// `excess` bytes are saved, and the list itself once empty. False if there
// was no list to trim.
template <typename T>
bool DropFromBack(std::optional<std::vector<T>>& list, size_t excess) {
  if (!list) return false;
  size_t saved = 0;
  while (!list->empty() && saved < excess) {
    saved += EntrySize(list->back());
    list->pop_back();
  }
  if (list->empty()) list.reset();
  return true;
}

bool DropItem(Response& r) {
  if (!r.value && r.key.empty() && r.signature.empty()) return false;
  r.value.reset();
  r.key.clear();
  r.signature.clear();
  return true;
}

}  // namespace

std::optional<std::string> FitReply(Message& reply, size_t budget) {
  Response& r = reply.response;
  for (;;) {
    std::string bytes = EncodeMessage(reply);
    if (bytes.size() <= budget) return bytes;
    if (reply.kind != MessageKind::kResponse) return std::nullopt;
    // Each pass saves the excess (length prefixes only shrink further) or
    // empties one field, so there are few passes.
    size_t excess = bytes.size() - budget;
    if (!DropFromBack(r.values, excess) && !DropFromBack(r.samples, excess) &&
        !DropFromBack(r.nodes6, excess) && !DropFromBack(r.nodes, excess) &&
        !DropItem(r)) {
      return std::nullopt;
    }
  }
}

}  // namespace bt::dht
