// SimClient: a ClientContext for tests and fuzzers that runs Torrents and
// their PeerConnections without sockets, threads or a real clock. Peers are
// MemoryTransports the test writes into and reads from; the disk is a
// storage::MemoryFileBackend; disk jobs, deferred work and reaping go into
// one FIFO queue the test drains with RunPending(); time moves only with
// Advance(). Deterministic for a given sequence of calls.
//
//   bt::client::testing::SimClient sim;
//   ASSIGN_OR_RETURN(bt::client::Torrent* t, sim.AddTorrent(params));
//   bt::client::testing::SimPeer* peer = sim.Incoming(endpoint);
//   peer->Deliver(handshake_bytes);        // as if the peer sent them
//   sim.RunPending();
//   std::string sent = peer->TakeWritten();  // what we sent the peer
//   sim.Advance(absl::Seconds(1));          // ticks every torrent
#ifndef TESTS_CLIENT_TESTING_SIM_CLIENT_H_
#define TESTS_CLIENT_TESTING_SIM_CLIENT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client_context.h"
#include "client/net/transport.h"
#include "client/peer_connection.h"
#include "client/torrent.h"
#include "storage/memory_file_backend.h"

namespace bt::client::testing {

// SimPeer is the far end of one connection and its Transport: the test
// supplies the peer's bytes and collects what the connection sent. The
// SimClient owns it (the connection holds a forwarding handle), so it stays
// valid after the connection is gone.
class SimPeer : public Transport {
 public:
  SimPeer(const Endpoint& remote, bool connected)
      : remote_(remote), connected_(connected) {}

  // Deliver queues bytes from the peer and tells the connection (now, if
  // it is reading; else once it resumes).
  void Deliver(std::string_view bytes);
  // DeliverEof makes the next read report that the peer closed.
  void DeliverEof();
  // CompleteConnect finishes an outgoing connect.
  void CompleteConnect();
  // TakeWritten returns and forgets what the connection sent.
  std::string TakeWritten() { return std::exchange(written_, {}); }
  // write_capacity bounds the bytes the peer accepts before the test takes
  // them (a peer that does not read); unlimited by default.
  void set_write_capacity(size_t bytes) { write_capacity_ = bytes; }
  size_t written_pending() const { return written_.size(); }
  // input_pending: bytes delivered that the connection has not read yet.
  size_t input_pending() const { return input_.size(); }
  // closed: our side closed the connection.
  bool closed() const { return closed_; }
  // utp_first: the client asked for uTP before TCP when it dialled.
  bool utp_first() const { return utp_first_; }
  void set_utp_first(bool on) { utp_first_ = on; }

  // Transport.
  absl::Status Start(Observer* observer) override;
  absl::StatusOr<size_t> Read(absl::Span<char> buf) override;
  absl::StatusOr<size_t> Write(std::string_view data) override;
  void SetReading(bool on) override;
  void SetWantWrite(bool on) override { want_write_ = on; }
  void Close() override;
  bool connected() const override { return connected_; }
  const Endpoint& remote() const override { return remote_; }

 private:
  void Notify();

  Endpoint remote_;
  bool connected_;
  bool closed_ = false;
  bool utp_first_ = false;
  bool eof_ = false;
  bool reading_ = true;
  bool want_write_ = false;
  Observer* observer_ = nullptr;
  std::string input_;
  std::string written_;
  size_t write_capacity_ = static_cast<size_t>(-1);
};

class SimClient : public ClientContext {
 public:
  explicit SimClient(ClientOptions options = DefaultOptions());
  ~SimClient() override;

  static ClientOptions DefaultOptions();

  // AddTorrent opens, attaches and (if params.start) starts a torrent on
  // the in-memory disk.
  absl::StatusOr<Torrent*> AddTorrent(TorrentParams params);
  // Incoming makes a connection from `from`, as if accepted; the returned
  // peer stays valid for the SimClient's life.
  SimPeer* Incoming(const Endpoint& from);
  // Outgoing returns the transports of connections the torrents dialled
  // (in order); CompleteConnect() on one finishes it.
  const std::vector<SimPeer*>& outgoing() const { return outgoing_; }
  // RunPending runs queued work (disk jobs, deferred pumps, reaping) until
  // none is left, or `max` tasks ran; returns how many ran.
  size_t RunPending(size_t max = 1 << 20);
  // Advance moves time forward, ticking every torrent about once a second
  // and running pending work in between.
  void Advance(absl::Duration d);
  storage::MemoryFileBackend& disk_backend() { return disk_backend_; }
  PeerConnection* connection(uint64_t id);
  size_t open_connections() const;

  // ClientContext.
  absl::Time Now() const override { return now_; }
  const ClientOptions& options() const override { return options_; }
  const PeerId& peer_id() const override { return options_.peer_id; }
  uint16_t port() const override { return 6881; }
  bool Wants(EventType type) const override;
  bool Emit(const Event& e) override;
  bool Connect(Torrent& t, const Endpoint& peer, bool encrypt,
               bool utp_first) override;
  bool CanConnect() const override;
  Torrent* FindTorrent(const Sha1Hash& info_hash) override;
  void Defer(std::function<void()> task) override;
  void Reap(uint64_t connection) override;
  DiskPool& disk() override { return *pool_; }
  RateLimiter& rate_limit(bool upload) override {
    return upload ? upload_limit_ : download_limit_;
  }
  void WaitForQuota(uint64_t, bool) override {}
  void WaitForDisk(uint64_t connection) override;
  void RateLimitsChanged(Torrent&) override {}
  void TickSoon(Torrent&) override {}  // Advance ticks every torrent
  bool has_dht() const override { return false; }
  void QueueDhtAnnounce(const Sha1Hash&) override {}
  EventLoop* loop() override { return nullptr; }
  TrackerClient* trackers() override { return nullptr; }
  void AddDhtHint(const Endpoint&) override {}

  // on_event sees every event (all types are wanted when it is set).
  std::function<void(const Event&)> on_event;

 private:
  PeerSessionOptions SessionOptions(bool encrypt) const;

  ClientOptions options_;
  storage::MemoryFileBackend disk_backend_;
  std::deque<std::function<void()>> pending_;
  std::unique_ptr<DiskPool> pool_;
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  absl::Time next_tick_ = now_;
  protocol::SkeyTable skeys_;
  std::vector<std::unique_ptr<Torrent>> torrents_;
  std::map<uint64_t, std::unique_ptr<PeerConnection>> connections_;
  std::vector<std::unique_ptr<SimPeer>> peers_;
  std::vector<SimPeer*> outgoing_;
  std::vector<uint64_t> waiting_disk_;
  uint64_t next_id_ = 1;
  RateLimiter upload_limit_, download_limit_;
};

}  // namespace bt::client::testing

#endif  // TESTS_CLIENT_TESTING_SIM_CLIENT_H_
