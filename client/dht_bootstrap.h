// DhtBootstrap: turns the host names a client's DHT starts from into
// addresses, off the event loop: the routers of ClientOptions::dht_bootstrap
// and the nodes a .torrent lists (BEP 5 "nodes"). Each address a router's
// name resolves to is handed to `add_router` (a trusted bootstrap node);
// each of a torrent's nodes to `add_hint` (pinged once, kept if it answers:
// a .torrent is not trusted as a router).
//
//   DhtBootstrap bootstrap(&resolver,
//                          [&](const Endpoint& e) { client.AddDhtNode(e); },
//                          [&](const Endpoint& e) { client.AddDhtHint(e); });
//   bootstrap.AddRouters(DefaultDhtRouters());
//   bootstrap.AddTorrentNodes(info.nodes());
//   // results arrive as the loop runs
//
// Names that do not resolve are skipped (the DHT finds others). Lookups
// are bounded: at most kMaxTorrentNodes per torrent, kMaxPending at once.
#ifndef CLIENT_DHT_BOOTSTRAP_H_
#define CLIENT_DHT_BOOTSTRAP_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "base/endpoint.h"
#include "base/host_port.h"
#include "client/net/resolver.h"
#include "metainfo/torrent_info.h"

namespace bt::client {

class DhtBootstrap {
 public:
  using AddEndpoint = std::function<void(const Endpoint&)>;

  // kMaxTorrentNodes: the most "nodes" entries of one torrent looked up.
  static constexpr size_t kMaxTorrentNodes = 32;
  // kMaxPending: the most lookups waiting at once; more are dropped.
  static constexpr size_t kMaxPending = 128;

  // `resolver` must outlive the DhtBootstrap. The callbacks run on the
  // loop's thread, from the loop, never inside a call to this class.
  DhtBootstrap(Resolver* resolver, AddEndpoint add_router,
               AddEndpoint add_hint);
  // ~DhtBootstrap cancels the lookups still pending.
  ~DhtBootstrap();
  DhtBootstrap(const DhtBootstrap&) = delete;
  DhtBootstrap& operator=(const DhtBootstrap&) = delete;

  // AddRouters looks each router up.
  void AddRouters(const std::vector<HostPort>& routers);
  // AddTorrentNodes looks up the first kMaxTorrentNodes of a torrent's
  // nodes (their ports are 1..65535: metainfo checks).
  void AddTorrentNodes(const std::vector<metainfo::DhtNode>& nodes);

  // pending is the number of lookups not answered yet.
  size_t pending() const { return pending_.size(); }

 private:
  void Lookup(const std::string& host, uint16_t port, const AddEndpoint* add);

  Resolver* resolver_;
  AddEndpoint add_router_;
  AddEndpoint add_hint_;
  absl::flat_hash_set<uint64_t> pending_;
};

}  // namespace bt::client

#endif  // CLIENT_DHT_BOOTSTRAP_H_
