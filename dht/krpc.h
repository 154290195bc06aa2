// KRPC: the bencoded query/response/error messages of the mainline DHT
// (BEP 5), with the IPv6 extensions (BEP 32: "nodes6", "want"), the node id
// security extension's "ip" field (BEP 42), read-only nodes (BEP 43: "ro"),
// arbitrary data storage (BEP 44: "get", "put") and infohash sampling
// (BEP 51: "sample_infohashes").
//
//   bt::dht::Message m;
//   absl::Status s = bt::dht::ParseMessage(packet, &m);
//   if (s.ok() && m.kind == bt::dht::MessageKind::kQuery &&
//       m.query.method == bt::dht::Method::kPing) { ... }
//
//   bt::dht::Message ping = bt::dht::Message::MakeQuery("aa", bt::dht::Method::kPing, my_id);
//   std::string bytes = bt::dht::EncodeMessage(ping);
//
// Parsing is strict and bounded: every known field is checked for type,
// length and range; unknown keys are ignored (the protocol's forward
// compatibility rule); sizes are capped by the limits below.
#ifndef DHT_KRPC_H_
#define DHT_KRPC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "metainfo/compact.h"

namespace bt::dht {

using metainfo::NodeInfo;

// Limits on what a remote party controls. Exceeding one is
// kResourceExhausted.
inline constexpr size_t kMaxPacketSize = 4096;       // whole datagram
inline constexpr size_t kMaxTransactionIdSize = 16;  // "t"
inline constexpr size_t kMaxTokenSize = 64;          // "token"
inline constexpr size_t kMaxVersionSize = 32;        // "v"
inline constexpr size_t kMaxValues = 256;            // entries of "values"
inline constexpr size_t kMaxWantEntries = 16;        // entries of "want"
inline constexpr size_t kMaxErrorMessageSize = 512;  // error text
inline constexpr size_t kMaxMethodNameSize = 64;     // "q"
inline constexpr int64_t kMaxSampleInterval = 21600;  // BEP 51 "interval"

// KRPC error codes (BEP 5).
inline constexpr int kErrorGeneric = 201;
inline constexpr int kErrorServer = 202;
inline constexpr int kErrorProtocol = 203;
inline constexpr int kErrorMethodUnknown = 204;

enum class MessageKind : uint8_t { kQuery, kResponse, kError };

// Method of a query. kUnknown is a well-formed query with a method this node
// does not implement (answered with error 204); its name is in
// Query::method_name.
enum class Method : uint8_t {
  kPing,
  kFindNode,
  kGetPeers,
  kAnnouncePeer,
  kSampleInfohashes,  // BEP 51
  kGet,               // BEP 44
  kPut,               // BEP 44
  kUnknown,
};

// MethodName returns "ping", "find_node", "get_peers", "announce_peer",
// "sample_infohashes", "get", "put" or "unknown".
const char* MethodName(Method m);

struct Query {
  Method method = Method::kPing;
  std::string method_name;  // the "q" value as received / to send
  NodeId id;                // querying node's id
  NodeId target;            // find_node, sample_infohashes, get
  Sha1Hash info_hash;       // get_peers, announce_peer
  uint16_t port = 0;        // announce_peer
  bool implied_port = false;  // announce_peer: use the packet's source port
  std::string token;          // announce_peer, put
  bool want_n4 = false;       // BEP 32 "want" contains "n4"
  bool want_n6 = false;       // BEP 32 "want" contains "n6"
  // BEP 44. get: `seq` asks only for newer items. put: the item's bencoded
  // value (always set), and for mutable items the 32-byte key "k", the
  // 64-byte signature "sig", "seq", an optional "salt" and "cas".
  std::optional<int64_t> seq;
  std::optional<int64_t> cas;
  std::string value;
  std::string key;        // empty for immutable items
  std::string signature;  // empty for immutable items
  std::string salt;
};

struct Response {
  NodeId id;  // responding node's id
  std::optional<std::vector<NodeInfo>> nodes;   // "nodes" (IPv4)
  std::optional<std::vector<NodeInfo>> nodes6;  // "nodes6" (IPv6)
  std::optional<std::vector<Endpoint>> values;  // "values" (peers)
  std::optional<std::string> token;             // get_peers
  // BEP 51 sample_infohashes: refresh interval (0..21600 s), number of
  // info-hashes stored, and a sample of them.
  std::optional<int64_t> interval;
  std::optional<int64_t> num;
  std::optional<std::vector<Sha1Hash>> samples;
  // BEP 44 get: the bencoded value, and for mutable items its key,
  // signature and sequence number (`seq` may come alone: "not newer").
  std::optional<std::string> value;
  std::string key;
  std::string signature;
  std::optional<int64_t> seq;
};

struct Error {
  int64_t code = kErrorGeneric;
  std::string message;
};

// Message is one KRPC datagram. Only the member matching `kind` is used.
struct Message {
  std::string transaction_id;  // "t"
  MessageKind kind = MessageKind::kQuery;
  Query query;
  Response response;
  Error error;
  bool read_only = false;      // "ro": 1 (BEP 43), meaningful in queries
  std::optional<Endpoint> ip;  // "ip" (BEP 42): the receiver's address
  std::string version;         // "v", empty when absent

  static Message MakeQuery(std::string transaction_id, Method method,
                           const NodeId& id);
  static Message MakeResponse(std::string transaction_id, const NodeId& id);
  static Message MakeError(std::string transaction_id, int code,
                           std::string message);
};

// ParseMessage decodes `packet` into `*out`. On failure the status is
// kInvalidArgument (malformed: wrong type, missing or bad field; the message
// names the field) or kResourceExhausted (a limit above), and `*out` holds
// what could be read before the problem: `transaction_id` and `kind` are set
// when the packet got that far, so a malformed query can be answered with
// error 203. `packet` need not outlive `*out`.
absl::Status ParseMessage(std::string_view packet, Message* out);

// EncodeMessage returns the canonical bencoding of `m` (only the fields of
// its kind; unset optionals are omitted; "want" only when a want flag is
// set; "port" always for announce_peer).
std::string EncodeMessage(const Message& m);

}  // namespace bt::dht

#endif  // DHT_KRPC_H_
