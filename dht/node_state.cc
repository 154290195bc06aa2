// Node, its saved state (our id and contacts, for a quick restart) and the
// external address other nodes report (BEP 42). The rest of Node is in
// node.cc and node_serving.cc.
#include "dht/node.h"

#include <string>
#include <string_view>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "bencode/encoder.h"
#include "dht/node_id.h"

namespace bt::dht {

absl::StatusOr<SavedState> ParseSavedState(std::string_view bytes) {
  bencode::DecodeOptions options;
  options.max_input_size = 1 << 20;
  options.max_depth = 4;
  ASSIGN_OR_RETURN(bencode::Document doc, bencode::Decode(bytes, options));
  bencode::Node root = doc.root();
  if (!root.is_dict()) {
    return absl::InvalidArgumentError("dht state: not a dict at byte 0");
  }
  SavedState state;
  ASSIGN_OR_RETURN(std::string_view id, root.GetString("id"));
  if (!NodeId::FromSpan(AsBytes(id), &state.id)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("dht state: \"id\" has %d bytes, want 20", id.size()));
  }
  if (root.Find("nodes")) {
    ASSIGN_OR_RETURN(std::string_view s, root.GetString("nodes"));
    ASSIGN_OR_RETURN(auto v4, metainfo::ParseCompactNodes4(s));
    state.nodes.insert(state.nodes.end(), v4.begin(), v4.end());
  }
  if (root.Find("nodes6")) {
    ASSIGN_OR_RETURN(std::string_view s, root.GetString("nodes6"));
    ASSIGN_OR_RETURN(auto v6, metainfo::ParseCompactNodes6(s));
    state.nodes.insert(state.nodes.end(), v6.begin(), v6.end());
  }
  return state;
}

std::string Node::SaveState() const {
  std::string nodes, nodes6;
  for (const NodeInfo& n : table_.AllContacts()) {
    const Contact* c = table_.Find(n.id);
    if (!c || !c->confirmed || c->IsBad(options_.table.max_failures)) continue;
    metainfo::AppendCompactNode(n, n.endpoint.is_v6() ? &nodes6 : &nodes);
  }
  std::string out;
  bencode::Writer w(&out);
  w.BeginDict();
  NodeId saved_id = SuggestedId().value_or(id_);
  w.Key("id").String(AsChars(saved_id.span()));
  if (!nodes.empty()) w.Key("nodes").String(nodes);
  if (!nodes6.empty()) w.Key("nodes6").String(nodes6);
  w.End();
  return out;
}

std::optional<Endpoint> Node::ExternalAddress() const {
  absl::flat_hash_map<Endpoint, int> counts;
  for (const auto& [voter, addr] : ip_votes_) {
    Endpoint a = addr;
    a.set_port(0);
    ++counts[a];
  }
  std::optional<Endpoint> best;
  int best_count = 0;
  for (const auto& [addr, n] : counts) {
    if (n > best_count) {
      best = addr;
      best_count = n;
    }
  }
  if (best_count < 3) return std::nullopt;
  return best;
}

std::optional<NodeId> Node::SuggestedId() const {
  std::optional<Endpoint> external = ExternalAddress();
  if (!external || IsSecureNodeId(id_, external->address_bytes())) {
    return std::nullopt;
  }
  return SecureNodeId(external->address_bytes(), id_random_[19], id_random_);
}

}  // namespace bt::dht
