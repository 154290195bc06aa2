// Node, the serving side: its answers to the queries of other nodes. The
// rest of Node is in node.cc (lookups, table upkeep) and node_state.cc.
#include "dht/node.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dht/reply_budget.h"

namespace bt::dht {
namespace {

// Nodes per reply: BEP 5's K, whatever the table's bucket size (as in
// libtorrent), so that peers and samples always have room beside them.
constexpr size_t kReplyNodes = 8;

// AddItem puts a BEP 44 get answer for `item` into `r`: an immutable
// item's value; a mutable item's "seq", and its value, key and signature
// unless the asker already has `newer_than` or newer.
void AddItem(const DhtItem& item, std::optional<int64_t> newer_than,
             Response* r) {
  if (!item.is_mutable) {
    r->value = item.value;
    return;
  }
  r->seq = item.seq;
  if (newer_than && item.seq <= *newer_than) return;
  r->value = item.value;
  r->key = std::string(AsChars(ByteSpan(item.key)));
  r->signature = std::string(AsChars(ByteSpan(item.signature)));
}

}  // namespace

void Node::ReplyError(const std::string& tid, int code, std::string text,
                      const Endpoint& to) {
  Message e = Message::MakeError(tid, code, std::move(text));
  e.version = options_.version;
  if (SendReply(e, to)) ++stats_.errors_sent;
}

bool Node::SendReply(Message& reply, const Endpoint& to) {
  std::optional<std::string> bytes = FitReply(reply, options_.max_response_size);
  if (!bytes) return false;
  outgoing_.push_back(OutgoingPacket{*std::move(bytes), to});
  ++stats_.packets_out;
  return true;
}

bool Node::CheckToken(const Message& m, const Endpoint& from, absl::Time now) {
  if (tokens_.Check(m.query.token, from.address_bytes(), now)) return true;
  ++stats_.bad_tokens;
  ReplyError(m.transaction_id, kErrorProtocol, "invalid token", from);
  return false;
}

bool Node::ItemFitsReplies(const DhtItem& item) const {
  // The largest get reply without nodes: the longest transaction id, an
  // "ip" of our family, a token.
  Message reply =
      Message::MakeResponse(std::string(kMaxTransactionIdSize, 't'), id_);
  reply.ip = ipv6_ ? Endpoint::V6({}, 1) : Endpoint::V4({}, 1);
  reply.version = options_.version;
  reply.response.token = std::string(kTokenSize, 't');
  AddItem(item, std::nullopt, &reply.response);
  return EncodeMessage(reply).size() <= options_.max_response_size;
}

void Node::AddNodesForFamily(const Endpoint& requester, bool want_n4,
                             bool want_n6, const NodeId& target,
                             Response* r) const {
  // BEP 32: without "want", the requester's family decides. This node only
  // knows its own family.
  bool want_own = (want_n4 || want_n6) ? (ipv6_ ? want_n6 : want_n4)
                                       : requester.is_v6() == ipv6_;
  if (!want_own) return;
  std::vector<NodeInfo> closest = table_.Closest(target, kReplyNodes);
  if (ipv6_) {
    r->nodes6 = std::move(closest);
  } else {
    r->nodes = std::move(closest);
  }
}

void Node::HandleQuery(Message& m, const Endpoint& from, absl::Time now) {
  if (options_.read_only) return;  // BEP 43: read-only nodes stay silent
  if (from.port() == 0) return;
  if (!limiter_.Allow(from, now)) {
    ++stats_.dropped_rate_limited;
    return;
  }
  const Query& q = m.query;
  if (!m.read_only && SameFamily(from) && q.id != id_) {
    NoteTableSuggestion(table_.OnQuery(NodeInfo{q.id, from}, now), now);
    // A newcomer is in the table unconfirmed: check that it answers, so it
    // can be handed out to others.
    const Contact* c = table_.Find(q.id);
    if (c && !c->confirmed && c->failures == 0 && c->node.endpoint == from) {
      Ping(c->node.endpoint, c->node.id, now);
    }
  }
  Message reply = Message::MakeResponse(m.transaction_id, id_);
  reply.ip = from;
  reply.version = options_.version;
  Response& r = reply.response;
  switch (q.method) {
    case Method::kPing:
      break;
    case Method::kFindNode:
      AddNodesForFamily(from, q.want_n4, q.want_n6, q.target, &r);
      break;
    case Method::kGetPeers: {
      r.token = tokens_.Issue(from.address_bytes(), now);
      AddNodesForFamily(from, q.want_n4, q.want_n6,
                        NodeId::FromBytes(q.info_hash.span()), &r);
      // As many peers as could fit; SendReply trims them to the budget.
      std::vector<Endpoint> peers = store_.Get(
          q.info_hash, from.is_v6(),
          options_.max_response_size / (from.is_v6() ? 18 + 3 : 6 + 2), now,
          rng_);
      if (!peers.empty()) r.values = std::move(peers);
      break;
    }
    case Method::kAnnouncePeer: {
      if (!CheckToken(m, from, now)) return;
      uint16_t port = q.implied_port ? from.port() : q.port;
      if (port == 0) {
        ReplyError(m.transaction_id, kErrorProtocol, "invalid port", from);
        return;
      }
      Endpoint peer = from;
      peer.set_port(port);
      if (store_.Add(q.info_hash, peer, now)) ++stats_.announces_stored;
      break;
    }
    case Method::kSampleInfohashes: {
      AddNodesForFamily(from, q.want_n4, q.want_n6, q.target, &r);
      r.interval = absl::ToInt64Seconds(options_.sample_interval);
      r.num = static_cast<int64_t>(store_.hash_count());
      r.samples = store_.SampleHashes(
          options_.max_response_size / Sha1Hash::kSize, rng_);
      break;
    }
    case Method::kGet: {
      r.token = tokens_.Issue(from.address_bytes(), now);
      AddNodesForFamily(from, q.want_n4, q.want_n6, q.target, &r);
      if (const DhtItem* item = items_.Get(q.target, now)) {
        AddItem(*item, q.seq, &r);
      }
      break;
    }
    case Method::kPut: {
      if (!CheckToken(m, from, now)) return;
      DhtItem item;
      item.value = q.value;
      if (!q.key.empty()) {
        item.is_mutable = true;
        std::copy(q.key.begin(), q.key.end(), item.key.begin());
        std::copy(q.signature.begin(), q.signature.end(),
                  item.signature.begin());
        item.seq = q.seq.value_or(0);
        item.salt = q.salt;
      }
      // What could not be served within the reply budget is not stored.
      int error = ItemFitsReplies(item) ? items_.Put(item, q.cas, now)
                                        : kErrorValueTooBig;
      if (error != 0) {
        const char* text = error == kErrorValueTooBig       ? "value too big"
                           : error == kErrorInvalidSignature ? "invalid signature"
                           : error == kErrorSaltTooBig       ? "salt too big"
                           : error == kErrorCasMismatch      ? "cas mismatch"
                                                             : "sequence number too low";
        ReplyError(m.transaction_id, error, text, from);
        return;
      }
      break;
    }
    case Method::kUnknown:
      ReplyError(m.transaction_id, kErrorMethodUnknown, "method unknown", from);
      return;
  }
  if (SendReply(reply, from)) ++stats_.queries_answered;
}

}  // namespace bt::dht
