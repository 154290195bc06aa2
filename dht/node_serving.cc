// Node, the serving side: its answers to the queries of other nodes. The
// rest of Node (lookups, table upkeep, state) is in node.cc.
#include "dht/node.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace bt::dht {

void Node::ReplyError(const std::string& tid, int code, std::string text,
                      const Endpoint& to) {
  Message e = Message::MakeError(tid, code, std::move(text));
  e.version = options_.version;
  Send(e, to);
  ++stats_.errors_sent;
}

void Node::AddNodesForFamily(const Endpoint& requester, bool want_n4,
                             bool want_n6, const NodeId& target,
                             Response* r) const {
  // BEP 32: without "want", the requester's family decides. This node only
  // knows its own family.
  bool want_own = (want_n4 || want_n6) ? (ipv6_ ? want_n6 : want_n4)
                                       : requester.is_v6() == ipv6_;
  if (!want_own) return;
  std::vector<NodeInfo> closest = table_.Closest(target, options_.table.bucket_size);
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
      Ping(c->node, now);
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
      // Fill the rest of the size budget with peers.
      size_t used = EncodeMessage(reply).size();
      size_t entry = from.is_v6() ? 18 + 3 : 6 + 2;
      size_t budget = options_.max_response_size > used + 16
                          ? options_.max_response_size - used - 16
                          : 0;
      std::vector<Endpoint> peers = store_.Get(q.info_hash, from.is_v6(),
                                               budget / entry, now, rng_);
      if (!peers.empty()) r.values = std::move(peers);
      break;
    }
    case Method::kAnnouncePeer: {
      if (!tokens_.Check(q.token, from.address_bytes(), now)) {
        ++stats_.bad_tokens;
        ReplyError(m.transaction_id, kErrorProtocol, "invalid token", from);
        return;
      }
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
      size_t used = EncodeMessage(reply).size() + 16;  // + "7:samples0:"
      size_t budget = options_.max_response_size > used + 8
                          ? options_.max_response_size - used - 8
                          : 0;
      r.samples = store_.SampleHashes(budget / Sha1Hash::kSize, rng_);
      break;
    }
    case Method::kGet: {
      r.token = tokens_.Issue(from.address_bytes(), now);
      AddNodesForFamily(from, q.want_n4, q.want_n6, q.target, &r);
      if (const DhtItem* item = items_.Get(q.target, now)) {
        if (!item->is_mutable) {
          r.value = item->value;
        } else {
          r.seq = item->seq;
          if (!q.seq || item->seq > *q.seq) {
            r.value = item->value;
            r.key = std::string(AsChars(ByteSpan(item->key)));
            r.signature = std::string(AsChars(ByteSpan(item->signature)));
          }
        }
      }
      break;
    }
    case Method::kPut: {
      if (!tokens_.Check(q.token, from.address_bytes(), now)) {
        ++stats_.bad_tokens;
        ReplyError(m.transaction_id, kErrorProtocol, "invalid token", from);
        return;
      }
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
      int error = items_.Put(item, q.cas, now);
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
  Send(reply, from);
  ++stats_.queries_answered;
}

}  // namespace bt::dht
