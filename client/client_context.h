// ClientContext: the services a Torrent and its peer connections use from
// the client that holds them — the time, settings and identity, events,
// connection slots, the disk pool, rate limits, and (optionally) the DHT and
// trackers. Client implements it; tests and fuzzers implement it with a
// simulated clock, in-memory transports and a disk pool without threads, so
// a Torrent runs deterministically without sockets.
//
//   class FakeContext : public bt::client::ClientContext { ... };
//   FakeContext ctx;
//   ASSIGN_OR_RETURN(auto torrent, bt::client::Torrent::Open(params));
//   torrent->Attach(&ctx);
//
// Everything runs on one thread; the context must outlive its torrents.
#ifndef CLIENT_CLIENT_CONTEXT_H_
#define CLIENT_CLIENT_CONTEXT_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "client/client_options.h"
#include "client/disk_pool.h"
#include "client/events.h"
#include "client/rate_limiter.h"

namespace bt::client {

class EventLoop;
class Torrent;
class TrackerClient;

class ClientContext {
 public:
  virtual ~ClientContext() = default;

  // Now is the current time (a simulated one in tests).
  virtual absl::Time Now() const = 0;
  virtual const ClientOptions& options() const = 0;
  virtual const PeerId& peer_id() const = 0;
  // port is the TCP port we listen on.
  virtual uint16_t port() const = 0;

  // Wants / Emit: the client-wide event handlers (a torrent's own run
  // first). Emit returns false if a handler refused.
  virtual bool Wants(EventType type) const = 0;
  virtual bool Emit(const Event& e) = 0;

  // Connect opens an outgoing connection for `torrent` (after the IP
  // filter); false if refused or no slot is free. `utp_first`: try uTP
  // before TCP where both are allowed (false for a peer known to be
  // reachable over TCP only).
  virtual bool Connect(Torrent& torrent, const Endpoint& peer, bool encrypt,
                       bool utp_first) = 0;
  // CanConnect: the client-wide limits leave room for another outgoing
  // connection.
  virtual bool CanConnect() const = 0;
  // FindTorrent finds a running torrent by wire info-hash (incoming
  // handshakes); null if none.
  virtual Torrent* FindTorrent(const Sha1Hash& info_hash) = 0;
  // Defer runs `task` soon on this thread, outside the current call stack.
  virtual void Defer(std::function<void()> task) = 0;
  // Reap deletes a closed connection later, outside any of its callbacks.
  virtual void Reap(uint64_t connection) = 0;

  virtual DiskPool& disk() = 0;
  // rate_limit is the client-wide bucket for a direction; WaitForQuota
  // wakes a connection (PeerConnection::OnQuota) once buckets refill;
  // WaitForDisk wakes it (PeerConnection::OnDiskDrained) once the disk
  // pool has drained; RateLimitsChanged tells the client that `t`'s own
  // limits changed, to refill now.
  virtual RateLimiter& rate_limit(bool upload) = 0;
  virtual void WaitForQuota(uint64_t connection, bool upload) = 0;
  virtual void WaitForDisk(uint64_t connection) = 0;
  virtual void RateLimitsChanged(Torrent& t) = 0;
  // TickSoon: `t` changed state or got a connection, and may be busy
  // (Torrent::busy) from now on: the client ticks it every second until it
  // is idle again, and once more then.
  virtual void TickSoon(Torrent& t) = 0;

  // has_dht: the client runs a DHT. QueueDhtAnnounce asks it to announce
  // `info_hash` (BEP 5, in each address family's DHT) when its turn comes:
  // the client paces announces across torrents (DhtAnnounceQueue). The
  // peers found go to the running torrent with that info-hash.
  virtual bool has_dht() const = 0;
  virtual void QueueDhtAnnounce(const Sha1Hash& info_hash) = 0;
  // Optional services; null when the client has none (tests).
  virtual EventLoop* loop() = 0;
  virtual TrackerClient* trackers() = 0;
  // AddDhtHint passes a peer's DHT address (PORT message) to the DHT as an
  // untrusted hint: pinged once, never a bootstrap node.
  virtual void AddDhtHint(const Endpoint& node) = 0;
};

}  // namespace bt::client

#endif  // CLIENT_CLIENT_CONTEXT_H_
