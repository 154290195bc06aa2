// PeerSession: one peer-wire conversation as a sans-I/O state machine. Bytes
// received and the time go in; bytes to send, events (session_events.h)
// and the conversation's state come out. It owns Message Stream Encryption
// (through protocol/mse.h), the handshake, the streaming parser, choke and
// interest state, both request queues, metadata and hash-exchange
// bookkeeping, peer exchange, and every per-peer bound: the send buffer
// (a peer that does not read is dropped), the requests it may queue, the
// metadata and hash requests it may have outstanding, pending haves before
// the metadata, unsolicited blocks, and the handshake and idle timeouts.
// It never touches a socket, a clock or a disk: the owner moves the bytes,
// reads blocks it is asked to serve, and passes the time.
//
//   bt::client::PeerSessionOptions options;
//   options.address = peer;
//   options.peer_id = my_id;
//   bt::client::PeerSession session(options, &torrent, now);   // outgoing
//   session.Start(now);                      // once the transport connects
//   // whenever bytes arrive:
//   session.Receive(absl::MakeSpan(buf, n), now);
//   for (auto& e : session.TakeEvents()) Handle(e);
//   while (auto r = session.NextToServe()) ReadBlockLater(*r);
//   ... later: session.SendBlock(*r, data);
//   // whenever the transport can take bytes:
//   size_t sent = write(fd, session.PendingOutput());
//   session.ConsumeOutput(sent, now);
//   // about once a second:
//   session.Tick(now);
//   if (session.closed()) Drop(session.close_reason());
//
// Errors: when the peer breaks the protocol or a bound, or a timeout
// passes, the session closes itself: closed() turns true, close_reason()
// says what and where, and all later input is ignored. Commands on a
// closed session do nothing.
//
// Lifetime: the SessionTorrent (given, or found through
// options.find_torrent) must outlive the session or the session must be
// closed first. Not thread-safe.
#ifndef CLIENT_SESSION_PEER_SESSION_H_
#define CLIENT_SESSION_PEER_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/bytes.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "base/token_bucket.h"
#include "client/block_buffers.h"
#include "client/events.h"
#include "client/session/block_ref.h"
#include "client/session/pex_tracker.h"
#include "client/session/request_tracker.h"
#include "client/session/serve_queue.h"
#include "client/session/session_events.h"
#include "client/session/session_torrent.h"
#include "protocol/extension_handshake.h"
#include "protocol/handshake.h"
#include "protocol/message.h"
#include "protocol/message_parser.h"
#include "protocol/mse.h"
#include "storage/bitfield.h"
#include "storage/file_backend.h"

namespace bt::client {

// SessionLimits bounds what one peer can make a session hold or do.
struct SessionLimits {
  // The handshake (MSE included) must complete this long after Start().
  absl::Duration handshake_timeout = absl::Seconds(10);
  // A peer silent this long (not even a keep-alive) is dropped.
  absl::Duration idle_timeout = absl::Seconds(180);
  absl::Duration keepalive_interval = absl::Seconds(90);
  // A peer that sends no requested block this long with requests in flight
  // is snubbed: its requests go back to the pool.
  absl::Duration snub_after = absl::Seconds(30);
  // Our metadata and hash requests unanswered this long are forgotten.
  absl::Duration request_timeout = absl::Seconds(30);
  // Serving (blocks, metadata, hashes) adds to the send buffer only while
  // fewer than this many bytes are unsent.
  size_t send_high_water = 512 * 1024;
  // A peer that lets more than this many bytes pile up unsent (it does not
  // read its socket) is dropped.
  size_t send_buffer_max = 1024 * 1024;
  // Block requests the peer may queue with us (advertised as reqq).
  size_t max_queued_requests = 500;
  // Metadata requests of the peer waiting for room in the send buffer (or
  // the metadata's piece count, if larger).
  size_t max_queued_metadata_requests = 16;
  // Hash requests of the peer given to the owner and not yet answered, and
  // in all (beyond that they are rejected).
  size_t max_outstanding_hash_requests = 8;
  size_t max_queued_hash_requests = 256;
  // Blocks and rejects matching no request of ours tolerated from a peer
  // without the Fast extension (with it the first one ends the session, as
  // BEP 6 requires).
  int max_unsolicited = 32;
  // Before the metadata: haves remembered, and the largest bitfield kept.
  size_t max_pending_haves = 1 << 16;
  size_t max_pending_bitfield = 256 * 1024;
  // Largest message accepted before the piece count is known (the
  // bitfield of a torrent of 2M pieces); afterwards the largest is that
  // torrent's bitfield, but at least 128 KiB.
  uint32_t max_message_before_metadata = 256 * 1024 + 1;
  // Largest metadata_size an extension handshake may announce.
  uint64_t max_metadata_size = 16 << 20;
  // Peer exchange messages received closer together than this are ignored
  // (BEP 11 allows one a minute); ours go out at most this often.
  absl::Duration pex_receive_interval = absl::Seconds(30);
  absl::Duration pex_send_interval = absl::Seconds(60);
  // Messages per second a peer may make us handle (a second's worth may
  // come at once). Beyond it the session asks its owner to stop reading
  // (InputThrottled) until the budget has refilled: a flood of cheap
  // messages costs at most this much work. A 16 KiB block is a message,
  // so this is far above any honest transfer.
  double max_messages_per_second = 100000;
};

struct PeerSessionOptions {
  // Who the peer is, and which side opened the connection.
  Endpoint address;
  bool incoming = false;
  // Our peer id, the TCP port we listen on (extension handshake "p") and
  // our DHT port (sent in a PORT message to DHT-capable peers).
  PeerId peer_id;
  uint16_t listen_port = 0;
  std::optional<uint16_t> dht_port;
  std::string client_name = "btkit/0.1.0";
  // Encryption policy; for an outgoing session, whether to start with MSE
  // (false: a plain BitTorrent handshake, e.g. the retry after a peer
  // refused MSE; ignored under kForced).
  protocol::EncryptionPolicy encryption = protocol::EncryptionPolicy::kEnabled;
  bool encrypt = true;
  // Incoming sessions: the torrents MSE may be for, and how to find the
  // torrent a handshake names (null: unknown or not running).
  const protocol::SkeyTable* skeys = nullptr;
  std::function<SessionTorrent*(const Sha1Hash&)> find_torrent;
  // Which user-visible packet_* events to produce (null: none).
  std::function<bool(EventType)> wants_event;
  // Random bytes for MSE keys and pads (null: BoringSSL's generator).
  void (*random_bytes)(MutableByteSpan) = nullptr;
  // Where a received block's bytes are copied (null: a new string each).
  BlockBuffers* block_buffers = nullptr;
  SessionLimits limits;
};

class PeerSession {
 public:
  // `torrent` is the torrent an outgoing session talks about; null for an
  // incoming one (the handshake names it).
  PeerSession(PeerSessionOptions options, SessionTorrent* torrent,
              absl::Time now);
  ~PeerSession();
  PeerSession(const PeerSession&) = delete;
  PeerSession& operator=(const PeerSession&) = delete;

  // --- input ---------------------------------------------------------------
  // Start: the transport is connected. An outgoing session queues MSE's
  // first step or its handshake; both start the handshake clock.
  void Start(absl::Time now);
  // Receive consumes bytes from the peer (decrypting them in place). With
  // `keeper`, which keeps `bytes` alive, a block that lies wholly in them
  // is passed on as a view holding it (BlockBytes), not copied.
  void Receive(absl::Span<char> bytes, absl::Time now,
               std::shared_ptr<const void> keeper = nullptr);
  // Tick runs timeouts, snubbing, keep-alives and rates; about once a
  // second.
  void Tick(absl::Time now);
  // Close ends the session from our side (no event; close_reason() is
  // `reason`).
  void Close(absl::Status reason);

  // --- output --------------------------------------------------------------
  // PendingOutput is the bytes to send (already encrypted); ConsumeOutput
  // drops the first `n` of them once sent.
  std::string_view PendingOutput() const;
  void ConsumeOutput(size_t n, absl::Time now);
  // FileChunk is block payload to send straight from an open file
  // (sendfile), queued by SendBlockFromFile.
  struct FileChunk {
    std::shared_ptr<const storage::SendableFile> file;
    int64_t offset = 0;  // of the next byte to send, in the file
    int64_t length = 0;  // left to send
  };
  // PendingFile is, once PendingOutput is empty, the file bytes to send
  // next (null if none); ConsumeFile drops the first `n` of them once sent.
  const FileChunk* PendingFile() const;
  void ConsumeFile(size_t n, absl::Time now);
  // has_output: something is left to send, bytes or file bytes.
  bool has_output() const { return unsent() > 0; }
  bool has_file_output() const { return !files_.empty(); }
  // send_buffer_bytes is the memory held for output. A choked peer's
  // buffer is freed once sent; an unchoked one's is kept for the next
  // blocks.
  size_t send_buffer_bytes() const { return out_.capacity(); }
  // InputThrottled: the peer sent more messages than its budget allows;
  // stop reading from it until this turns false (checked again with a
  // later `now`).
  bool InputThrottled(absl::Time now);
  // TakeEvents returns (and forgets) what happened since the last call.
  std::vector<SessionEvent> TakeEvents() { return std::exchange(events_, {}); }
  bool has_events() const { return !events_.empty(); }

  // --- state ---------------------------------------------------------------
  bool active() const { return phase_ == Phase::kActive; }
  bool closed() const { return phase_ == Phase::kClosed; }
  const absl::Status& close_reason() const { return close_reason_; }
  // PlaintextRetryAdvised: an outgoing MSE attempt ended before the peer's
  // key arrived, as a peer without MSE behaves; reconnect in plaintext.
  bool PlaintextRetryAdvised() const;
  SessionTorrent* torrent() const { return torrent_; }
  const Endpoint& address() const { return options_.address; }
  bool incoming() const { return options_.incoming; }
  // peer_id is zero until the handshake arrived.
  const PeerId& peer_id() const { return their_handshake_.peer_id; }
  const protocol::ReservedBits& their_reserved() const {
    return their_handshake_.reserved;
  }
  const protocol::ExtensionHandshake& their_extensions() const {
    return their_extensions_;
  }
  bool encrypted() const { return mse_ && mse_->encrypted(); }
  bool fast() const { return fast_; }
  // ListenAddress is where the peer accepts connections: the address we
  // dialled, or an incoming peer's address with the port from its
  // extension handshake; nullopt if unknown.
  std::optional<Endpoint> ListenAddress() const;

  bool am_choking() const { return am_choking_; }
  bool am_interested() const { return am_interested_; }
  bool peer_choking() const { return peer_choking_; }
  bool peer_interested() const { return peer_interested_; }
  // peer_have is the peer's have-set: empty before the metadata, sized to
  // the torrent afterwards.
  const storage::Bitfield& peer_have() const { return peer_have_; }
  uint32_t peer_pieces() const { return peer_pieces_; }
  bool peer_is_seed() const {
    return peer_have_.size() > 0 && peer_pieces_ == peer_have_.size();
  }
  // RequestableHaveSet is what we may request now: everything the peer has
  // when it unchokes us, else its allowed-fast pieces.
  storage::Bitfield RequestableHaveSet() const;
  size_t requests_in_flight() const { return requests_.in_flight(); }
  // InFlight lists our requests in flight, oldest first.
  std::vector<BlockRef> InFlight() const { return requests_.InFlight(); }
  // RequestDepth is how many requests to keep in flight: about two
  // seconds at the current rate, within the peer's reqq. Until the rate
  // stops growing (slow start), each block that arrives adds one more,
  // so the depth doubles every round trip rather than waiting for the
  // rate average to catch up.
  int RequestDepth() const;
  bool snubbed() const { return snubbed_; }
  int64_t payload_down() const { return payload_down_; }
  int64_t payload_up() const { return payload_up_; }
  double download_rate() const { return down_rate_; }
  double upload_rate() const { return up_rate_; }
  absl::Time connected_at() const { return connected_at_; }
  // offers_metadata: the peer supports ut_metadata (BEP 9).
  bool offers_metadata() const;
  // peer_upload_only: the peer's last extension handshake said it only
  // uploads (BEP 21: a seed or partial seed, interested in nothing).
  bool peer_upload_only() const {
    return their_extensions_.upload_only.value_or(false);
  }
  // metadata_requests / hash_requests: ours in flight to this peer.
  int metadata_requests() const { return static_cast<int>(our_metadata_.size()); }
  int hash_requests() const { return static_cast<int>(our_hashes_.size()); }
  // Sizes, for tests and monitoring.
  size_t queued_requests() const { return serve_.queued(); }
  size_t pending_haves() const { return pending_haves_.size(); }

  // --- commands ------------------------------------------------------------
  void SetChoking(bool choke);
  void SetInterested(bool interested);
  // Request asks for `blocks` (of the torrent whose metadata is known).
  void Request(absl::Span<const BlockRef> blocks, absl::Time now);
  // Cancel withdraws a request in flight (endgame).
  void Cancel(BlockRef block);
  void SendHave(uint32_t piece);
  // super_seeding: the session started while the torrent super-seeded
  // (SessionTorrent::super_seeding): the peer was told we have nothing (have
  // none, or no bitfield), got no allowed-fast set, and is served only the
  // pieces revealed to it. RevealPiece sends a HAVE for `piece` and serves
  // it from then on (nothing unless super-seeding). EndSuperSeeding tells
  // the peer everything else we have (have all, or haves) and serves it.
  bool super_seeding() const { return super_seeding_; }
  void RevealPiece(uint32_t piece);
  void EndSuperSeeding();
  // UpdateUploadOnly sends the extension handshake again when the
  // torrent's upload_only() changed since we last told the peer (BEP 21;
  // BEP 10 allows a handshake at any time). Nothing to a peer without the
  // extension protocol, or before our first extension handshake.
  void UpdateUploadOnly();
  // OnMetadata: the torrent's metadata just became known. Applies what the
  // peer said it has before that (PeerHaveSetKnown) and sends our have-set.
  // The session also does this by itself on its next input.
  void OnMetadata();
  void RequestMetadataPiece(uint32_t piece, absl::Time now);
  void RequestHashes(const protocol::HashRange& range, absl::Time now);
  // SendHashes / SendHashReject answer a HashRequestArrived.
  void SendHashes(const protocol::HashRange& range, std::string_view hashes);
  void SendHashReject(const protocol::HashRange& range);
  // SendPex tells the peer (if it supports ut_pex, at most once a minute)
  // the listen addresses in `current` it has not heard of yet and those it
  // heard of that are gone.
  void SendPex(const std::vector<std::pair<Endpoint, uint8_t>>& current,
               absl::Time now);

  // --- serving -------------------------------------------------------------
  // NextToServe takes the next queued request out to be read, if the send
  // buffer (with reads in progress) is below the high-water mark; the
  // owner reads it and calls SendBlock (or AbortServe if the read failed).
  // Requests go out in bursts, each taken until this returns nothing, and
  // one starts only while no read is in progress: requests that arrive
  // while a burst is being read wait for it and leave together (one disk
  // job and one wake-up, not one per block).
  std::optional<protocol::Request> NextToServe();
  void SendBlock(const protocol::Request& r, ByteSpan data);
  // CanSendFromFile: this peer's traffic is not encrypted, so a block may
  // go out straight from its file: SendBlockFromFile queues the message
  // header, then the `r.length` bytes at `offset` of `file`.
  bool CanSendFromFile() const;
  void SendBlockFromFile(const protocol::Request& r,
                         std::shared_ptr<const storage::SendableFile> file,
                         int64_t offset);
  void AbortServe(const protocol::Request& r);

 private:
  // The fewest requests kept in flight, and where slow start begins.
  static constexpr int kMinRequestDepth = 16;
  // The most, whatever the peer's reqq says.
  static constexpr int kMaxRequestDepth = 2000;
  enum class Phase { kConnecting, kMse, kHandshake, kActive, kClosed };
  struct Asked {
    uint32_t piece = 0;  // metadata piece
    protocol::HashRange range;  // hash requests
    absl::Time at;
  };

  // Receive path (peer_session.cc).
  void Fail(absl::Status status);
  void FeedParser(std::string_view plain, absl::Time now);
  absl::Status OnMessage(const protocol::Message& m, absl::Time now);
  absl::Status OnHandshake(const protocol::Handshake& hs, absl::Time now);
  // OurHandshakeBytes returns our 68-byte handshake and reports it.
  std::string OurHandshakeBytes();
  void BecomeActive(absl::Time now);
  void SendOurHaveSet();
  // SendHaves sends a HAVE for every piece of `pieces`, allowed beyond the
  // send buffer's bound until sent (announce_allowance_).
  void SendHaves(const storage::Bitfield& pieces);
  void SyncMetadata();
  // Peer-wire messages (peer_session_messages.cc).
  absl::Status OnHave(uint32_t piece);
  absl::Status OnBitfield(std::string_view bits);
  absl::Status OnHaveAllOrNone(bool all);
  void MergeLateHaves(const storage::Bitfield& bits);
  absl::Status OnRequest(const protocol::Request& r);
  absl::Status OnPiece(const protocol::Piece& p, absl::Time now);
  // KeepBlock: a received block's bytes, to keep: a view holding the
  // receive buffer where the block lies wholly in it, else a copy.
  BlockBytes KeepBlock(std::string_view data);
  absl::Status OnReject(const protocol::Reject& r);
  void OnCancel(const protocol::Cancel& c);
  absl::Status OnUnsolicited(std::string_view what);
  void OnPeerChoke(bool choked);
  void OnAllowedFast(uint32_t piece);
  // Extensions (peer_session_extensions.cc).
  absl::Status OnExtended(const protocol::Extended& x, absl::Time now);
  absl::Status OnMetadataMessage(std::string_view payload);
  void OnPex(std::string_view payload, absl::Time now);
  void OnHashRequest(const protocol::HashRange& range);
  void OnHashAnswer(const protocol::HashRange& range, std::string_view hashes,
                    bool rejected);
  void SendExtensionHandshake();
  void SendExtended(uint8_t id, std::string_view payload);
  // ServeControl answers queued metadata and hash requests while the send
  // buffer has room.
  void ServeControl();
  void ExpireAsked(absl::Time now);
  // Output.
  void Send(std::string_view message);
  void SendMessage(const protocol::Message& m, EventType type);
  size_t unsent() const { return out_.size() - out_pos_ + file_bytes_; }
  // DropSentOutput forgets out_'s bytes before out_pos_, moving the file
  // chunks' places with them.
  void DropSentOutput();
  bool HasRoom() const;
  void Emit(EventType type, uint32_t index = 0, uint32_t offset = 0,
            int64_t length = 0);
  bool Wants(EventType type) const {
    return options_.wants_event && options_.wants_event(type);
  }
  Event NewEvent(EventType type) const;
  uint32_t num_pieces() const;
  int64_t PieceSize(uint32_t piece) const;
  uint32_t BlockLength(BlockRef b) const;
  bool AllowedForPeer(uint32_t piece) const;

  PeerSessionOptions options_;
  SessionTorrent* torrent_;
  Phase phase_;
  absl::Status close_reason_;
  std::unique_ptr<protocol::MseHandshake> mse_;
  bool handshake_sent_ = false;
  bool have_none_sent_ = false;  // before the metadata (Fast peers)
  protocol::MessageParser parser_;
  protocol::Handshake their_handshake_;
  bool fast_ = false;
  protocol::ExtensionHandshake their_extensions_;
  bool extensions_sent_ = false;
  bool sent_upload_only_ = false;  // in our last extension handshake
  std::vector<SessionEvent> events_;
  // The bytes being parsed (only during Receive) and what keeps them alive
  // (null: blocks are copied out of them).
  std::string_view received_;
  std::shared_ptr<const void> received_keeper_;

  std::string out_;
  size_t out_pos_ = 0;
  // File chunks to send, each at its place in out_ (the bytes before it
  // go first); file_bytes_ sums their lengths.
  struct QueuedFileChunk {
    size_t at;
    FileChunk chunk;
  };
  std::deque<QueuedFileChunk> files_;
  size_t file_bytes_ = 0;
  // Unsent bytes of our own bulk announcement (haves after the metadata)
  // allowed beyond send_buffer_max.
  size_t announce_allowance_ = 0;

  bool am_choking_ = true, am_interested_ = false;
  bool peer_choking_ = true, peer_interested_ = false;
  // The piece count this session has applied (0: metadata not known yet).
  uint32_t pieces_known_ = 0;
  storage::Bitfield peer_have_;
  uint32_t peer_pieces_ = 0;
  bool peer_have_known_ = false;
  // What the peer said it has before we knew the piece count.
  std::string pending_bitfield_;
  std::vector<uint32_t> pending_haves_;
  std::optional<bool> pending_all_;
  // BEP 6: pieces we let the peer fetch while we choke it, and pieces it
  // lets us fetch while it chokes us.
  std::vector<uint32_t> allowed_for_peer_;
  storage::Bitfield allowed_by_peer_;
  // BEP 16: the pieces shown to the peer while super-seeding.
  bool super_seeding_ = false;
  storage::Bitfield revealed_;

  RequestTracker requests_;
  ServeQueue serve_;
  bool serve_burst_ = false;  // NextToServe is taking a burst
  int unsolicited_ = 0;
  std::deque<uint32_t> their_metadata_requests_;
  std::deque<protocol::HashRange> their_hash_queue_;
  size_t their_hashes_outstanding_ = 0;
  std::deque<Asked> our_metadata_;
  std::deque<Asked> our_hashes_;
  PexTracker pex_;
  TokenBucket message_budget_;
  absl::Time pex_sent_at_ = absl::InfinitePast();
  absl::Time pex_received_at_ = absl::InfinitePast();

  int64_t payload_down_ = 0, payload_up_ = 0;
  int64_t rate_down_mark_ = 0, rate_up_mark_ = 0;
  double down_rate_ = 0, up_rate_ = 0;
  bool request_slow_start_ = true;
  int slow_start_depth_ = kMinRequestDepth;
  double last_down_sample_ = 0;  // the download rate of the last tick
  absl::Time started_;
  absl::Time connected_at_;
  absl::Time last_received_;
  absl::Time last_sent_;
  absl::Time last_block_;
  absl::Time last_rate_tick_;
  bool snubbed_ = false;
};

}  // namespace bt::client

#endif  // CLIENT_SESSION_PEER_SESSION_H_
