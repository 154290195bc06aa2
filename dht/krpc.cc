#include "dht/krpc.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "bencode/encoder.h"

namespace bt::dht {
namespace {

using bencode::Node;
using bencode::Type;

absl::Status Invalid(std::string_view what, const Node& n) {
  return absl::InvalidArgumentError(
      absl::StrFormat("krpc: %s at byte %d", what, n.offset()));
}

absl::Status TooBig(std::string_view what, size_t size, size_t limit) {
  return absl::ResourceExhaustedError(
      absl::StrFormat("krpc: %s is %d bytes, limit %d", what, size, limit));
}

// String field `key` of `dict` with length in [min, max] (max violations are
// kResourceExhausted unless min == max).
absl::StatusOr<std::string_view> GetBoundedString(const Node& dict,
                                                  std::string_view key,
                                                  size_t min, size_t max) {
  std::optional<Node> n = dict.Find(key);
  if (!n) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "krpc: missing \"%s\" in dict at byte %d", key, dict.offset()));
  }
  if (!n->is_string()) {
    return Invalid(absl::StrFormat("\"%s\" is a %s, want string", key,
                                   bencode::TypeName(n->type())),
                   *n);
  }
  std::string_view s = n->string_value();
  if (min == max && s.size() != min) {
    return Invalid(absl::StrFormat("\"%s\" has %d bytes, want %d", key,
                                   s.size(), min),
                   *n);
  }
  if (s.size() < min) {
    return Invalid(absl::StrFormat("\"%s\" is shorter than %d bytes", key, min),
                   *n);
  }
  if (s.size() > max) return TooBig(absl::StrFormat("\"%s\"", key), s.size(), max);
  return s;
}

template <typename Fixed>
absl::StatusOr<Fixed> GetFixed(const Node& dict, std::string_view key) {
  ASSIGN_OR_RETURN(std::string_view s,
                   GetBoundedString(dict, key, Fixed::kSize, Fixed::kSize));
  return Fixed::FromBytes(AsBytes(s));
}

absl::StatusOr<int64_t> GetIntIn(const Node& dict, std::string_view key,
                                 int64_t lo, int64_t hi) {
  std::optional<Node> n = dict.Find(key);
  if (!n) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "krpc: missing \"%s\" in dict at byte %d", key, dict.offset()));
  }
  if (!n->is_int()) {
    return Invalid(absl::StrFormat("\"%s\" is a %s, want integer", key,
                                   bencode::TypeName(n->type())),
                   *n);
  }
  int64_t v = n->int_value();
  if (v < lo || v > hi) {
    return Invalid(
        absl::StrFormat("\"%s\" = %d outside [%d, %d]", key, v, lo, hi), *n);
  }
  return v;
}

absl::StatusOr<std::vector<NodeInfo>> ParseNodes(const Node& dict,
                                                 std::string_view key,
                                                 bool v6) {
  ASSIGN_OR_RETURN(std::string_view s,
                   GetBoundedString(dict, key, 0, kMaxPacketSize));
  size_t unit = v6 ? 38 : 26;
  if (s.size() % unit != 0) {
    return Invalid(absl::StrFormat("\"%s\" length %d is not a multiple of %d",
                                   key, s.size(), unit),
                   *dict.Find(key));
  }
  if (v6) return metainfo::ParseCompactNodes6(s);
  return metainfo::ParseCompactNodes4(s);
}

absl::StatusOr<std::vector<Endpoint>> ParseValues(const Node& dict) {
  Node list = *dict.Find("values");
  if (!list.is_list()) return Invalid("\"values\" is not a list", list);
  if (list.size() > kMaxValues) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "krpc: \"values\" has %d entries, limit %d", list.size(), kMaxValues));
  }
  std::vector<Endpoint> out;
  out.reserve(list.size());
  for (Node item : list.items()) {
    if (!item.is_string()) return Invalid("\"values\" entry is not a string", item);
    std::string_view s = item.string_value();
    if (s.size() != 6 && s.size() != 18) {
      return Invalid(absl::StrFormat("\"values\" entry has %d bytes, want 6 "
                                     "or 18",
                                     s.size()),
                     item);
    }
    // The length is checked: the address goes straight into place.
    const size_t address_size = s.size() - 2;
    Endpoint::FromBytes(
        AsBytes(s.substr(0, address_size)),
        static_cast<uint16_t>(static_cast<uint8_t>(s[address_size]) << 8 |
                              static_cast<uint8_t>(s[address_size + 1])),
        &out.emplace_back());
  }
  return out;
}

absl::Status ParseQuery(const Node& root, Message* out) {
  Query& q = out->query;
  ASSIGN_OR_RETURN(std::string_view name,
                   GetBoundedString(root, "q", 1, kMaxMethodNameSize));
  q.method_name = std::string(name);
  if (name == "ping") {
    q.method = Method::kPing;
  } else if (name == "find_node") {
    q.method = Method::kFindNode;
  } else if (name == "get_peers") {
    q.method = Method::kGetPeers;
  } else if (name == "announce_peer") {
    q.method = Method::kAnnouncePeer;
  } else if (name == "sample_infohashes") {
    q.method = Method::kSampleInfohashes;
  } else if (name == "get") {
    q.method = Method::kGet;
  } else if (name == "put") {
    q.method = Method::kPut;
  } else {
    q.method = Method::kUnknown;
  }
  std::optional<Node> a = root.Find("a");
  if (!a) return Invalid("query without \"a\"", root);
  if (!a->is_dict()) return Invalid("\"a\" is not a dict", *a);
  ASSIGN_OR_RETURN(q.id, GetFixed<NodeId>(*a, "id"));
  switch (q.method) {
    case Method::kFindNode:
    case Method::kSampleInfohashes: {
      ASSIGN_OR_RETURN(q.target, GetFixed<NodeId>(*a, "target"));
      break;
    }
    case Method::kGetPeers: {
      ASSIGN_OR_RETURN(q.info_hash, GetFixed<Sha1Hash>(*a, "info_hash"));
      break;
    }
    case Method::kAnnouncePeer: {
      ASSIGN_OR_RETURN(q.info_hash, GetFixed<Sha1Hash>(*a, "info_hash"));
      if (a->Find("implied_port")) {
        ASSIGN_OR_RETURN(int64_t implied, GetIntIn(*a, "implied_port", 0, 1));
        q.implied_port = implied == 1;
      }
      if (a->Find("port") || !q.implied_port) {
        ASSIGN_OR_RETURN(int64_t port, GetIntIn(*a, "port", 0, 65535));
        q.port = static_cast<uint16_t>(port);
      }
      ASSIGN_OR_RETURN(std::string_view token,
                       GetBoundedString(*a, "token", 0, kMaxTokenSize));
      q.token = std::string(token);
      break;
    }
    case Method::kGet: {
      ASSIGN_OR_RETURN(q.target, GetFixed<NodeId>(*a, "target"));
      if (a->Find("seq")) {
        ASSIGN_OR_RETURN(q.seq, GetIntIn(*a, "seq", 0, INT64_MAX));
      }
      break;
    }
    case Method::kPut: {
      ASSIGN_OR_RETURN(std::string_view token,
                       GetBoundedString(*a, "token", 0, kMaxTokenSize));
      q.token = std::string(token);
      std::optional<Node> v = a->Find("v");
      if (!v) return Invalid("put without \"v\"", *a);
      q.value = std::string(v->raw());
      if (a->Find("k")) {
        ASSIGN_OR_RETURN(std::string_view k, GetBoundedString(*a, "k", 32, 32));
        ASSIGN_OR_RETURN(std::string_view sig,
                         GetBoundedString(*a, "sig", 64, 64));
        ASSIGN_OR_RETURN(q.seq, GetIntIn(*a, "seq", 0, INT64_MAX));
        q.key = std::string(k);
        q.signature = std::string(sig);
        if (a->Find("salt")) {
          ASSIGN_OR_RETURN(std::string_view salt,
                           GetBoundedString(*a, "salt", 0, kMaxPacketSize));
          q.salt = std::string(salt);
        }
        if (a->Find("cas")) {
          ASSIGN_OR_RETURN(q.cas, GetIntIn(*a, "cas", 0, INT64_MAX));
        }
      }
      break;
    }
    default:
      break;
  }
  if (std::optional<Node> want = a->Find("want")) {
    if (!want->is_list()) return Invalid("\"want\" is not a list", *want);
    if (want->size() > kMaxWantEntries) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("krpc: \"want\" has %d entries, limit %d",
                          want->size(), kMaxWantEntries));
    }
    for (Node w : want->items()) {
      if (!w.is_string()) return Invalid("\"want\" entry is not a string", w);
      if (w.string_value() == "n4") q.want_n4 = true;
      if (w.string_value() == "n6") q.want_n6 = true;
    }
  }
  return absl::OkStatus();
}

absl::Status ParseResponse(const Node& root, Message* out) {
  Response& r = out->response;
  std::optional<Node> body = root.Find("r");
  if (!body) return Invalid("response without \"r\"", root);
  if (!body->is_dict()) return Invalid("\"r\" is not a dict", *body);
  ASSIGN_OR_RETURN(r.id, GetFixed<NodeId>(*body, "id"));
  if (body->Find("nodes")) {
    ASSIGN_OR_RETURN(r.nodes, ParseNodes(*body, "nodes", false));
  }
  if (body->Find("nodes6")) {
    ASSIGN_OR_RETURN(r.nodes6, ParseNodes(*body, "nodes6", true));
  }
  if (body->Find("values")) {
    ASSIGN_OR_RETURN(r.values, ParseValues(*body));
  }
  if (body->Find("interval")) {
    ASSIGN_OR_RETURN(r.interval,
                     GetIntIn(*body, "interval", 0, kMaxSampleInterval));
  }
  if (body->Find("num")) {
    ASSIGN_OR_RETURN(r.num, GetIntIn(*body, "num", 0, int64_t{1} << 40));
  }
  if (body->Find("samples")) {
    ASSIGN_OR_RETURN(std::string_view samples,
                     GetBoundedString(*body, "samples", 0, kMaxPacketSize));
    if (samples.size() % Sha1Hash::kSize != 0) {
      return Invalid(
          absl::StrFormat("\"samples\" length %d is not a multiple of 20",
                          samples.size()),
          *body->Find("samples"));
    }
    // Copied straight into place: a hash built and pushed one at a time
    // made this the costliest part of a sample_infohashes reply.
    std::vector<Sha1Hash> hashes(samples.size() / Sha1Hash::kSize);
    for (size_t i = 0; i < hashes.size(); ++i) {
      std::memcpy(hashes[i].data(), samples.data() + i * Sha1Hash::kSize,
                  Sha1Hash::kSize);
    }
    r.samples = std::move(hashes);
  }
  if (body->Find("token")) {
    ASSIGN_OR_RETURN(std::string_view token,
                     GetBoundedString(*body, "token", 0, kMaxTokenSize));
    r.token = std::string(token);
  }
  if (std::optional<Node> v = body->Find("v")) r.value = std::string(v->raw());
  if (body->Find("k")) {
    ASSIGN_OR_RETURN(std::string_view k, GetBoundedString(*body, "k", 32, 32));
    r.key = std::string(k);
  }
  if (body->Find("sig")) {
    ASSIGN_OR_RETURN(std::string_view sig,
                     GetBoundedString(*body, "sig", 64, 64));
    r.signature = std::string(sig);
  }
  if (body->Find("seq")) {
    ASSIGN_OR_RETURN(r.seq, GetIntIn(*body, "seq", 0, INT64_MAX));
  }
  return absl::OkStatus();
}

absl::Status ParseError(const Node& root, Message* out) {
  std::optional<Node> e = root.Find("e");
  if (!e) return Invalid("error without \"e\"", root);
  if (!e->is_list()) return Invalid("\"e\" is not a list", *e);
  if (e->size() != 2) return Invalid("\"e\" does not have 2 entries", *e);
  auto it = e->items().begin();
  Node code = *it;
  Node text = *++it;
  if (!code.is_int()) return Invalid("error code is not an integer", code);
  if (!text.is_string()) return Invalid("error message is not a string", text);
  if (text.string_value().size() > kMaxErrorMessageSize) {
    return TooBig("error message", text.string_value().size(),
                  kMaxErrorMessageSize);
  }
  out->error.code = code.int_value();
  out->error.message = std::string(text.string_value());
  return absl::OkStatus();
}

}  // namespace

const char* MethodName(Method m) {
  switch (m) {
    case Method::kPing:
      return "ping";
    case Method::kFindNode:
      return "find_node";
    case Method::kGetPeers:
      return "get_peers";
    case Method::kAnnouncePeer:
      return "announce_peer";
    case Method::kSampleInfohashes:
      return "sample_infohashes";
    case Method::kGet:
      return "get";
    case Method::kPut:
      return "put";
    case Method::kUnknown:
      break;
  }
  return "unknown";
}

Message Message::MakeQuery(std::string transaction_id, Method method,
                           const NodeId& id) {
  Message m;
  m.transaction_id = std::move(transaction_id);
  m.kind = MessageKind::kQuery;
  m.query.method = method;
  m.query.method_name = MethodName(method);
  m.query.id = id;
  return m;
}

Message Message::MakeResponse(std::string transaction_id, const NodeId& id) {
  Message m;
  m.transaction_id = std::move(transaction_id);
  m.kind = MessageKind::kResponse;
  m.response.id = id;
  return m;
}

Message Message::MakeError(std::string transaction_id, int code,
                           std::string message) {
  Message m;
  m.transaction_id = std::move(transaction_id);
  m.kind = MessageKind::kError;
  m.error.code = code;
  m.error.message = std::move(message);
  return m;
}

absl::Status ParseMessage(std::string_view packet, Message* out) {
  // Reset in place: assigning a fresh Message (over a kilobyte) built a
  // temporary and moved every field, a fifth of a small message's parse.
  std::destroy_at(out);
  std::construct_at(out);
  if (packet.size() > kMaxPacketSize) {
    return TooBig("packet", packet.size(), kMaxPacketSize);
  }
  bencode::DecodeOptions options;
  options.max_input_size = kMaxPacketSize;
  options.max_depth = 16;  // BEP 44 values may nest
  options.max_tokens = 1024;
  options.allow_unsorted_keys = true;
  ASSIGN_OR_RETURN(bencode::Document doc, bencode::Decode(packet, options));
  Node root = doc.root();
  if (!root.is_dict()) return Invalid("message is not a dict", root);
  ASSIGN_OR_RETURN(std::string_view t,
                   GetBoundedString(root, "t", 0, kMaxTransactionIdSize));
  out->transaction_id = std::string(t);
  ASSIGN_OR_RETURN(std::string_view y, GetBoundedString(root, "y", 1, 1));
  if (y == "q") {
    out->kind = MessageKind::kQuery;
  } else if (y == "r") {
    out->kind = MessageKind::kResponse;
  } else if (y == "e") {
    out->kind = MessageKind::kError;
  } else {
    out->kind = MessageKind::kError;
    return Invalid(absl::StrFormat("unknown message type \"%s\"", y),
                   *root.Find("y"));
  }
  if (root.Find("v")) {
    ASSIGN_OR_RETURN(std::string_view v,
                     GetBoundedString(root, "v", 0, kMaxVersionSize));
    out->version = std::string(v);
  }
  if (root.Find("ro")) {
    ASSIGN_OR_RETURN(int64_t ro, GetIntIn(root, "ro", 0, 1));
    out->read_only = ro == 1;
  }
  if (std::optional<Node> ip = root.Find("ip")) {
    if (!ip->is_string()) return Invalid("\"ip\" is not a string", *ip);
    std::string_view s = ip->string_value();
    if (s.size() != 6 && s.size() != 18) {
      return Invalid("\"ip\" is not 6 or 18 bytes", *ip);
    }
    ASSIGN_OR_RETURN(out->ip, metainfo::ParseCompactPeer(s));
  }
  switch (out->kind) {
    case MessageKind::kQuery:
      return ParseQuery(root, out);
    case MessageKind::kResponse:
      return ParseResponse(root, out);
    case MessageKind::kError:
      return ParseError(root, out);
  }
  return absl::OkStatus();
}

std::string EncodeMessage(const Message& m) {
  std::string out;
  bencode::Writer w(&out);
  w.BeginDict();
  switch (m.kind) {
    case MessageKind::kQuery: {
      const Query& q = m.query;
      const bool put = q.method == Method::kPut;
      const bool mutable_put = put && !q.key.empty();
      w.Key("a").BeginDict();
      if (mutable_put && q.cas) w.Key("cas").Int(*q.cas);
      w.Key("id").String(AsChars(q.id.span()));
      if (q.method == Method::kAnnouncePeer) {
        w.Key("implied_port").Int(q.implied_port ? 1 : 0);
      }
      if (q.method == Method::kGetPeers || q.method == Method::kAnnouncePeer) {
        w.Key("info_hash").String(AsChars(q.info_hash.span()));
      }
      if (mutable_put) w.Key("k").String(q.key);
      if (q.method == Method::kAnnouncePeer) w.Key("port").Int(q.port);
      if (mutable_put && !q.salt.empty()) w.Key("salt").String(q.salt);
      if ((mutable_put || q.method == Method::kGet) && q.seq) {
        w.Key("seq").Int(*q.seq);
      }
      if (mutable_put) w.Key("sig").String(q.signature);
      if (q.method == Method::kFindNode ||
          q.method == Method::kSampleInfohashes || q.method == Method::kGet) {
        w.Key("target").String(AsChars(q.target.span()));
      }
      if (q.method == Method::kAnnouncePeer || put) w.Key("token").String(q.token);
      if (put) w.Key("v").Raw(q.value);
      if (q.want_n4 || q.want_n6) {
        w.Key("want").BeginList();
        if (q.want_n4) w.String("n4");
        if (q.want_n6) w.String("n6");
        w.End();
      }
      w.End();
      break;
    }
    case MessageKind::kError:
      w.Key("e").BeginList().Int(m.error.code).String(m.error.message).End();
      break;
    case MessageKind::kResponse:
      break;
  }
  if (m.ip) {
    std::string compact;
    metainfo::AppendCompactPeer(*m.ip, &compact);
    w.Key("ip").String(compact);
  }
  if (m.kind == MessageKind::kQuery) {
    w.Key("q").String(m.query.method_name.empty() ? MethodName(m.query.method)
                                                   : m.query.method_name);
  }
  if (m.kind == MessageKind::kResponse) {
    const Response& r = m.response;
    w.Key("r").BeginDict();
    w.Key("id").String(AsChars(r.id.span()));
    if (r.interval) w.Key("interval").Int(*r.interval);
    if (!r.key.empty()) w.Key("k").String(r.key);
    if (r.nodes) {
      std::string compact;
      for (const NodeInfo& n : *r.nodes) metainfo::AppendCompactNode(n, &compact);
      w.Key("nodes").String(compact);
    }
    if (r.nodes6) {
      std::string compact;
      for (const NodeInfo& n : *r.nodes6) metainfo::AppendCompactNode(n, &compact);
      w.Key("nodes6").String(compact);
    }
    if (r.num) w.Key("num").Int(*r.num);
    if (r.samples) {
      std::string samples;
      for (const Sha1Hash& h : *r.samples) samples.append(AsChars(h.span()));
      w.Key("samples").String(samples);
    }
    if (r.seq) w.Key("seq").Int(*r.seq);
    if (!r.signature.empty()) w.Key("sig").String(r.signature);
    if (r.token) w.Key("token").String(*r.token);
    if (r.value) w.Key("v").Raw(*r.value);
    if (r.values) {
      w.Key("values").BeginList();
      for (const Endpoint& ep : *r.values) {
        std::string compact;
        metainfo::AppendCompactPeer(ep, &compact);
        w.String(compact);
      }
      w.End();
    }
    w.End();
  }
  if (m.kind == MessageKind::kQuery && m.read_only) w.Key("ro").Int(1);
  w.Key("t").String(m.transaction_id);
  if (!m.version.empty()) w.Key("v").String(m.version);
  w.Key("y").String(m.kind == MessageKind::kQuery      ? "q"
                    : m.kind == MessageKind::kResponse ? "r"
                                                       : "e");
  w.End();
  return out;
}

}  // namespace bt::dht
