// PeerConnection: a PeerSession on a Transport, wired to its Torrent. It is
// the only place where the session's bytes meet the network: it reads when
// the transport is readable (within the rate limits, and not while the disk
// pool is congested), hands the session's events to the torrent, asks the
// torrent to read the blocks the session will serve, and writes the
// session's output. All protocol state and every per-peer bound live in
// the session; all swarm decisions in the torrent.
//
//   auto c = std::make_unique<bt::client::PeerConnection>(
//       ctx, id, std::move(transport), session_options, &torrent);
//   RETURN_IF_ERROR(c->Start());
//   ... once a second: c->Tick(now);
//
// Lifetime: the client owns connections. Close() ends one at once (the
// transport is closed, peer_disconnect reported, the torrent told) and the
// client deletes it later (ClientContext::Reap), outside any callback, so a
// connection may be closed from its own handlers.
#ifndef CLIENT_PEER_CONNECTION_H_
#define CLIENT_PEER_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "client/client_context.h"
#include "client/events.h"
#include "client/net/transport.h"
#include "client/session/peer_session.h"

namespace bt::client {

class Torrent;

class PeerConnection : public Transport::Observer {
 public:
  // `torrent` is the torrent an outgoing connection is for; null for an
  // incoming one (its handshake names the torrent).
  PeerConnection(ClientContext* ctx, uint64_t id,
                 std::unique_ptr<Transport> transport,
                 PeerSessionOptions options, Torrent* torrent);
  ~PeerConnection() override;
  PeerConnection(const PeerConnection&) = delete;
  PeerConnection& operator=(const PeerConnection&) = delete;

  // Start hooks the transport up; an accepted connection starts its
  // session at once, an outgoing one once connected.
  absl::Status Start();
  // Close ends the connection once: transport closed, peer_disconnect
  // with the status' message as reason, the torrent told, reaped later.
  void Close(const absl::Status& reason);
  bool closed() const { return closed_; }

  uint64_t id() const { return id_; }
  Torrent* torrent() const { return torrent_; }
  PeerSession& session() { return session_; }
  // CanSendFromFile: blocks may go to this peer straight from their files
  // (ClientOptions::send_from_file, a TCP stream, not encrypted).
  bool CanSendFromFile() const;
  const PeerSession& session() const { return session_; }
  const Endpoint& address() const { return session_.address(); }
  bool incoming() const { return session_.incoming(); }
  bool active() const { return !closed_ && session_.active(); }
  // connecting: an outgoing connection whose transport is not connected.
  bool connecting() const { return !closed_ && !transport_->connected(); }
  bool utp() const { return transport_->is_utp(); }
  absl::Time opened_at() const { return opened_at_; }
  // useful: the peer has sent us payload or interest, or we sent it data;
  // a full client replaces connections that are not.
  bool useful() const;
  // mse_refused: an outgoing MSE attempt ended the way a peer without MSE
  // ends it (reconnect in plaintext).
  bool mse_refused() const { return mse_refused_; }
  PeerRef ref() const;

  // Tick passes the time to the session (timeouts, keep-alives) and ends a
  // connect that takes too long.
  void Tick(absl::Time now);
  // SchedulePump makes the connection hand over events and send output
  // soon (after the torrent gave its session commands).
  void SchedulePump();
  // Pump hands the session's events to the torrent, serves, and writes.
  void Pump();
  // OnQuota / OnDiskDrained resume what a rate limit or a busy disk paused.
  void OnQuota(bool upload);
  void OnDiskDrained();

  // Transport::Observer.
  void OnTransportConnected() override;
  void OnTransportReadable() override;
  void OnTransportWritable() override;
  void OnTransportError(absl::Status status) override;

 private:
  // Quota is what the rate limits (the client's and the torrent's) allow
  // to move now in one direction; Charge takes from them.
  int64_t Quota(bool upload) const;
  void Charge(bool upload, int64_t bytes);
  void ReadSome();
  void PauseReading();
  // ResumeReading undoes PauseReading unless the session is over its
  // message budget (Tick tries again).
  void ResumeReading();
  void DeliverEvents();
  void ServeMore();
  void Flush();
  void EmitIo(EventType type, int64_t length);
  Torrent* AttachIncoming(const Sha1Hash& info_hash);

  ClientContext* ctx_;
  uint64_t id_;
  std::unique_ptr<Transport> transport_;
  Torrent* torrent_;
  PeerSession session_;
  absl::Time opened_at_;
  bool closed_ = false;
  bool mse_refused_ = false;
  bool reading_paused_ = false;
  bool pump_scheduled_ = false;
  bool in_pump_ = false;
};

}  // namespace bt::client

#endif  // CLIENT_PEER_CONNECTION_H_
