// SocketTable: every uTP connection that shares one UDP socket, as a
// sans-I/O core. The owner hands it the uTP datagrams the socket receives
// and the time; it routes each to its connection by (peer, connection id),
// accepts new connections from SYNs within bounds (total and half-open),
// answers packets for unknown connections with a rate-limited RESET, runs
// the connections' timers, and yields the datagrams they want sent.
//
//   bt::protocol::utp::SocketTable table(options, &random_u32);
//   ASSIGN_OR_RETURN(auto id, table.Connect(peer, now));
//   // socket readable:
//   table.HandleDatagram(bytes, from, now);
//   for (auto id : table.TakeAccepted()) adopt(id);
//   for (auto id : table.TakeTouched()) notify(id);   // state may have changed
//   std::string out; bt::Endpoint to;
//   while (table.PollDatagram(now, out, to)) socket.SendTo(out, to);
//   // when table.next_deadline() passes: table.Tick(now), then as above.
//
// A connection belongs to the owner from Connect or TakeAccepted until
// Release; after Release the table closes it gracefully and forgets it
// once it is closed or `linger` has passed. Not thread-safe.
#ifndef PROTOCOL_UTP_SOCKET_TABLE_H_
#define PROTOCOL_UTP_SOCKET_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/token_bucket.h"
#include "protocol/utp/connection.h"

namespace bt::protocol::utp {

struct SocketTableOptions {
  ConnectionOptions connection;
  bool accept_incoming = true;
  size_t max_connections = 1000;
  // Accepted connections whose peer has sent no data yet; SYNs beyond
  // this are dropped (a SYN flood costs a bounded amount of state).
  size_t max_half_open = 64;
  // RESETs sent for packets of unknown connections, per second.
  double resets_per_second = 50;
  // Connections to loopback peers probe for packets of this many stream
  // bytes (ConnectionOptions::probe_payload); 0 keeps connection's.
  size_t loopback_probe_payload = 0;
  // How long a released connection may take to finish closing.
  absl::Duration linger = absl::Seconds(15);
};

class SocketTable {
 public:
  using Id = uint64_t;

  // `random` supplies connection ids and initial sequence numbers (a
  // secure generator in a client, a seeded one in tests); it must outlive
  // the table.
  SocketTable(SocketTableOptions options, std::function<uint32_t()> random);

  // Connect starts a connection to `peer` (its SYN is queued). Error:
  // kResourceExhausted when max_connections are open.
  absl::StatusOr<Id> Connect(const Endpoint& peer, absl::Time now);
  // HandleDatagram takes one datagram that LooksLikeUtp from `from`.
  // Malformed ones are dropped and counted.
  void HandleDatagram(std::string_view datagram, const Endpoint& from,
                      absl::Time now);
  // HandleUnreachable: an ICMP error says `peer` has no UDP socket there;
  // connections to it still connecting fail at once (so a caller can fall
  // back to TCP without waiting for SYN timeouts).
  void HandleUnreachable(const Endpoint& peer, absl::Time now);
  // Tick runs the timers of connections whose deadline has passed and
  // forgets released connections that are done.
  void Tick(absl::Time now);
  absl::Time next_deadline() const { return next_deadline_; }

  // TakeAccepted: connections made from SYNs since the last call; the
  // caller owns them now (and must Release each eventually).
  std::vector<Id> TakeAccepted();
  // TakeTouched: owned connections that got packets or timer events since
  // the last call, whose state, readability or writability may differ.
  std::vector<Id> TakeTouched();
  // PollDatagram writes the next datagram any connection wants sent into
  // `out` and its destination into `to`; false when there is none.
  bool PollDatagram(absl::Time now, std::string& out, Endpoint& to);

  // Find: the connection, or null for an unknown or released id. The
  // pointer is valid until the next call into the table.
  Connection* Find(Id id);
  // Endpoint of the peer of `id` (unspecified when unknown).
  Endpoint peer(Id id) const;
  // MarkActive: the owner wrote, read or closed `id`; it is polled for
  // datagrams and its deadline recomputed.
  void MarkActive(Id id);
  // Release: the owner is done with `id`. It is closed gracefully (FIN
  // after what was written) unless already closed, and forgotten once
  // closed or `linger` after `now`.
  void Release(Id id, absl::Time now);

  size_t size() const { return entries_.size(); }
  struct Stats {
    uint64_t malformed = 0, unknown = 0, resets_sent = 0;
    uint64_t syns_refused = 0, accepted = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Key {
    Endpoint peer;
    uint16_t recv_id;
    friend bool operator==(const Key&, const Key&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.peer, k.recv_id);
    }
  };
  struct Entry {
    Key key;
    Connection connection;
    bool released = false;
    absl::Time released_at;
  };

  Entry* Lookup(const Endpoint& from, const Packet& packet);
  void Accept(const Packet& syn, const Endpoint& from, absl::Time now);
  void SendReset(const Packet& packet, const Endpoint& from, absl::Time now);
  void Touch(Id id);
  void Forget(Id id);
  bool Finished(const Entry& e, absl::Time now) const;
  ConnectionOptions OptionsFor(const Endpoint& peer) const;
  void NoteDeadline(const Connection& c);

  SocketTableOptions options_;
  std::function<uint32_t()> random_;
  Id next_id_ = 1;
  absl::flat_hash_map<Id, Entry> entries_;
  absl::flat_hash_map<Key, Id> by_key_;
  absl::flat_hash_set<Id> half_open_;
  std::vector<Id> accepted_;
  // Connections to poll for datagrams, in the order they were touched,
  // and the owned ones to report through TakeTouched.
  std::vector<Id> to_poll_;
  absl::flat_hash_set<Id> to_poll_set_;
  size_t poll_index_ = 0;
  absl::flat_hash_set<Id> to_report_;
  std::vector<std::pair<std::string, Endpoint>> resets_;
  TokenBucket reset_budget_;
  absl::Time next_deadline_ = absl::InfiniteFuture();
  Stats stats_;
};

}  // namespace bt::protocol::utp

#endif  // PROTOCOL_UTP_SOCKET_TABLE_H_
