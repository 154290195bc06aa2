// PeerConnection: one TCP connection to a peer — socket I/O on the event
// loop, Message Stream Encryption by policy, the handshake, and the
// peer-wire state of both sides (choked, interested, requests in flight,
// requests to serve). Swarm-wide decisions (which blocks, whom to unchoke,
// verification) belong to its Torrent.
//
// Lifetime: the Client owns connections. Close() unhooks the socket at
// once and the Client deletes the object later, outside any callback, so a
// connection may close itself from its own handlers.
#ifndef CLIENT_PEER_CONNECTION_H_
#define CLIENT_PEER_CONNECTION_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "client/events.h"
#include "client/piece_picker.h"
#include "protocol/extension_handshake.h"
#include "protocol/handshake.h"
#include "protocol/message.h"
#include "protocol/message_parser.h"
#include "protocol/mse.h"
#include "storage/bitfield.h"

namespace bt::client {

class Client;
class Torrent;

class PeerConnection {
 public:
  // Outgoing: `fd` is a non-blocking socket with connect() in progress.
  // `torrent` is the torrent to talk about; `encrypt` runs MSE first.
  static std::unique_ptr<PeerConnection> Outgoing(Client* client,
                                                  uint64_t id, int fd,
                                                  const Endpoint& address,
                                                  Torrent* torrent,
                                                  bool encrypt);
  // Incoming: `fd` was just accepted; the torrent is found from the
  // handshake.
  static std::unique_ptr<PeerConnection> Incoming(Client* client,
                                                  uint64_t id, int fd,
                                                  const Endpoint& address);
  ~PeerConnection();
  PeerConnection(const PeerConnection&) = delete;
  PeerConnection& operator=(const PeerConnection&) = delete;

  // Start registers the socket with the event loop.
  absl::Status Start();
  // Close ends the connection (once): peer_disconnect with `reason`.
  void Close(const std::string& reason);
  bool closed() const { return closed_; }

  uint64_t id() const { return id_; }
  const Endpoint& address() const { return address_; }
  const PeerRef& ref() const { return ref_; }
  Torrent* torrent() const { return torrent_; }
  bool active() const { return phase_ == Phase::kActive; }
  bool encrypted() const { return mse_ && mse_->encrypted(); }
  bool incoming() const { return ref_.incoming; }

  // Peer-wire state.
  bool am_choking() const { return am_choking_; }
  bool am_interested() const { return am_interested_; }
  bool peer_choking() const { return peer_choking_; }
  bool peer_interested() const { return peer_interested_; }
  const storage::Bitfield& peer_have() const { return peer_have_; }
  bool peer_is_seed() const { return peer_have_.size() && peer_pieces_ == peer_have_.size(); }
  uint32_t peer_pieces() const { return peer_pieces_; }
  size_t requests_in_flight() const { return in_flight_.size(); }
  // RequestDepth is how many requests to keep in flight: enough for about
  // two seconds at the current rate, within the peer's reqq.
  int RequestDepth() const;

  // Byte counters of block payload, and their smoothed rates.
  int64_t payload_down() const { return payload_down_; }
  int64_t payload_up() const { return payload_up_; }
  double download_rate() const { return down_rate_; }
  double upload_rate() const { return up_rate_; }
  absl::Time connected_at() const { return connected_at_; }
  bool snubbed() const { return snubbed_; }

  // Actions the torrent takes.
  void SetChoking(bool choke);
  void SetInterested(bool interested);
  void SendRequests(const std::vector<BlockRef>& blocks);
  void SendCancel(BlockRef block);
  void SendHave(uint32_t piece);
  // RequestableHaveSet is what we may request now: everything the peer has
  // when it unchokes us, else only its allowed-fast pieces.
  storage::Bitfield RequestableHaveSet() const;
  // Metadata exchange (BEP 9).
  bool offers_metadata() const {
    return their_extensions_.IdOf("ut_metadata") != 0;
  }
  int metadata_requests() const { return metadata_requests_; }
  void SendMetadataRequest(uint32_t piece);
  void SendMetadataData(uint32_t piece, std::string_view data,
                        uint64_t total_size);
  void SendMetadataReject(uint32_t piece);
  // Piece-layer hash exchange (BEP 52): a hash request, hashes or hash
  // reject. These messages have no packet events of their own.
  int hash_requests() const { return hash_requests_; }
  void SendHashMessage(const protocol::Message& m);
  // OnMetadata: the torrent's metadata just arrived; apply what the peer
  // said it has before that.
  void OnMetadata();
  // ListenAddress is where this peer accepts connections: the address we
  // dialled, or for an incoming peer its address with the port from its
  // extension handshake; nullopt if unknown.
  std::optional<Endpoint> ListenAddress() const;
  // SendPex sends BEP 11 peer exchange: the listen addresses in `current`
  // (the torrent's other peers) that this peer has not been told of yet,
  // and those it was told of that are gone. At most once a minute; nothing
  // if the peer does not support ut_pex.
  void SendPex(const std::vector<std::pair<Endpoint, uint8_t>>& current,
               absl::Time now);
  // DropRequests forgets every request in flight (the peer choked us
  // without the Fast extension, or it is snubbed).
  void DropRequests();
  // Tick: rates, time-outs and keep-alives, once a second.
  void Tick(absl::Time now);
  // OnQuota: rate-limit quota was refilled; resume reading (download) or
  // serving (upload).
  void OnQuota(bool upload);

 private:
  enum class Phase { kConnecting, kMse, kHandshake, kActive };
  struct InFlight {
    BlockRef block;
    absl::Time sent;
  };
  struct QueuedRequest {
    uint32_t piece, begin, length;
  };

  PeerConnection(Client* client, uint64_t id, int fd, const Endpoint& address,
                 bool incoming);
  void OnReady(uint32_t ready);
  void OnConnected();
  void OnReadable();
  void Flush();
  void WantWrite(bool on);
  void ApplyInterest();
  // Quota is what the rate limits allow to move now in one direction (the
  // minimum over the client's and the torrent's buckets); Charge takes
  // from them.
  int64_t Quota(bool upload) const;
  void Charge(bool upload, int64_t bytes);
  absl::Status Consume(char* data, size_t n);
  absl::Status FeedParser(std::string_view plain);
  absl::Status OnMessage(const protocol::Message& m);
  absl::Status OnHandshake(const protocol::Handshake& hs);
  absl::Status OnRequest(const protocol::Request& r);
  void OnPiece(const protocol::Piece& p);
  // MergeLatePeerHaves takes a bitfield or "have all" received after the
  // peer's first one as a have for each piece not yet known.
  void MergeLatePeerHaves(const storage::Bitfield& bits);
  void BecomeActive();
  // OurHandshake returns our 68-byte handshake, counts it as sent and
  // reports packet_outgoing_handshake.
  std::string OurHandshake();
  void SendHandshake();
  // Send appends a plain message and encrypts it if the stream is.
  void Send(std::string_view message);
  void SendExtended(uint8_t id, std::string_view payload);
  void SendMessage(const protocol::Message& m, EventType type);
  void ServeRequests();
  void RemoveInFlight(BlockRef block);
  void EmitPacket(EventType type, uint32_t index = 0, uint32_t offset = 0,
                  int64_t length = 0);
  Event NewEvent(EventType type) const;

  Client* client_;
  uint64_t id_;
  int fd_;
  Endpoint address_;
  PeerRef ref_;
  Torrent* torrent_ = nullptr;
  Phase phase_;
  bool closed_ = false;
  bool writable_interest_ = false;
  bool read_paused_ = false;  // out of download quota

  std::unique_ptr<protocol::MseHandshake> mse_;
  bool mse_initiator_ = false;
  bool handshake_sent_ = false;
  protocol::MessageParser parser_;
  protocol::Handshake their_handshake_;
  bool fast_ = false;
  bool extensions_ = false;
  protocol::ExtensionHandshake their_extensions_;

  std::string in_buf_;
  std::string out_;
  size_t out_pos_ = 0;

  bool am_choking_ = true, am_interested_ = false;
  bool peer_choking_ = true, peer_interested_ = false;
  storage::Bitfield peer_have_;
  uint32_t peer_pieces_ = 0;
  bool peer_have_known_ = false;
  std::vector<InFlight> in_flight_;
  // What the peer said it has before we knew the piece count (magnets).
  std::string pending_bitfield_;
  std::vector<uint32_t> pending_haves_;
  std::optional<bool> pending_all_;
  int metadata_requests_ = 0;
  int hash_requests_ = 0;  // hash requests we sent not yet answered
  // Peer exchange: what we last told this peer, and when.
  absl::flat_hash_set<Endpoint> pex_told_;
  absl::Time pex_sent_at_ = absl::InfinitePast();
  absl::Time pex_received_at_ = absl::InfinitePast();
  // BEP 6: pieces we let this peer fetch while we choke it, and pieces it
  // lets us fetch while it chokes us.
  std::vector<uint32_t> allowed_for_peer_;
  storage::Bitfield allowed_by_peer_;
  std::deque<QueuedRequest> to_serve_;

  int64_t payload_down_ = 0, payload_up_ = 0;
  int64_t rate_down_mark_ = 0, rate_up_mark_ = 0;
  double down_rate_ = 0, up_rate_ = 0;
  absl::Time connected_at_;
  absl::Time last_received_;
  absl::Time last_sent_;
  absl::Time last_block_;
  bool snubbed_ = false;
};

}  // namespace bt::client

#endif  // CLIENT_PEER_CONNECTION_H_
