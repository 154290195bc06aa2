// WebSeedConnection: runs one WebSeed (web_seed.h) over HttpFetch on the
// client's event loop. It asks its host for blocks, sends the run's Range
// requests one after the other (HttpFetch has no keep-alive, so each
// request is its own connection and nothing is pipelined), hands the
// blocks back when the run is complete, and on any failure (connect,
// time-out, redirects past the bound, 404, wrong length, garbage) gives the
// blocks back and backs off, so a bad server never stalls the torrent.
//
//   WebSeedConnection::Host host{.pick = ..., .give_back = ...,
//                                .deliver = ..., .now = ...};
//   auto c = std::make_unique<WebSeedConnection>(loop, &resolver, id,
//                                                *std::move(seed), host, {});
//   c->Pump();  // whenever there may be work (a tick, a piece done)
//
// The host callbacks run on the loop and must not destroy the connection.
#ifndef CLIENT_WEB_SEED_CONNECTION_H_
#define CLIENT_WEB_SEED_CONNECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/liveness.h"
#include "client/net/event_loop.h"
#include "client/net/http_fetch.h"
#include "client/net/resolver.h"
#include "client/session/block_ref.h"
#include "client/web_seed.h"

namespace bt::client {

struct WebSeedConnectionOptions {
  // Deadline of one request (redirects included): a server that trickles
  // data is given up on after this.
  absl::Duration request_timeout = absl::Seconds(30);
  int max_redirects = 5;
};

class WebSeedConnection {
 public:
  struct Host {
    // pick returns up to `max_blocks` blocks for connection `id` (recorded
    // as requested by it).
    std::function<std::vector<BlockRef>(uint64_t id, int max_blocks)> pick;
    // give_back returns blocks `id` will not deliver to the picker.
    std::function<void(uint64_t id, const std::vector<BlockRef>&)> give_back;
    // deliver hands over one block received from the server.
    std::function<void(uint64_t id, BlockRef block, std::string data)> deliver;
    // now is the current time.
    std::function<absl::Time()> now;
    // on_error (optional) hears each failed request.
    std::function<void(uint64_t id, const absl::Status&)> on_error;
  };

  // `loop` and `resolver` must outlive the connection.
  WebSeedConnection(EventLoop* loop, Resolver* resolver, uint64_t id,
                    WebSeed seed, Host host,
                    WebSeedConnectionOptions options = {});
  ~WebSeedConnection();
  WebSeedConnection(const WebSeedConnection&) = delete;
  WebSeedConnection& operator=(const WebSeedConnection&) = delete;

  uint64_t id() const { return id_; }
  const WebSeed& seed() const { return seed_; }
  int64_t bytes_received() const { return bytes_received_; }
  const absl::Status& last_error() const { return last_error_; }

  // BlameAddress is the address this web seed's blocks are recorded under
  // for blame (PieceVerifier): an IPv6 address in the discard-only prefix
  // 100::/64 (RFC 6666), which no peer can have, holding `id`; port 0.
  static Endpoint BlameAddress(uint64_t id);
  Endpoint blame_address() const { return BlameAddress(id_); }

  // Pump starts a run when the seed is ready and the picker has work.
  void Pump();
  // Stop cancels a run in progress and gives its blocks back.
  void Stop();
  // Drop stops using this server for good (its data failed a hash check).
  void Drop(std::string reason);

 private:
  // Advance sends the run's next request, or delivers a complete run.
  void Advance();
  void SendNext();
  void OnFetched(absl::StatusOr<tracker::HttpResponse> r);
  void Failed(absl::Status status);

  EventLoop* loop_;
  Resolver* resolver_;
  uint64_t id_;
  WebSeed seed_;
  Host host_;
  WebSeedConnectionOptions options_;
  std::unique_ptr<HttpFetch> fetch_;
  int64_t bytes_received_ = 0;
  absl::Status last_error_;
  Liveness liveness_;
};

}  // namespace bt::client

#endif  // CLIENT_WEB_SEED_CONNECTION_H_
