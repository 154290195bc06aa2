// Stateful fuzz harness for the client core: one Torrent on a SimClient (no
// sockets, threads or clock; an in-memory disk) with several peer
// connections, driven by a script decoded from the input. Checks after every
// step that no session holds more unsent bytes than its bound, that the
// have-set matches the metadata, and that the torrent references exactly
// the connections still open for it; at the end, that every piece the
// torrent says it has hashes correctly on the in-memory disk.
//
// Input: 4 setup bytes, then operations.
//   s0: bits 0-1 version (v1, v2, hybrid, v1); bits 2-3 mode (seed,
//       leecher from the metainfo, magnet link, leecher with resume data);
//       bit 4 multi-file; bit 5 a zero-length file; bit 6 an info
//       dictionary padded past one metadata piece; bit 7 small session and
//       disk-queue limits.
//   s1: size of the first file; s2: bits 0-3 size of the second file,
//       bit 4 where the empty file goes, bit 5 32 KiB pieces, bit 6 MSE
//       enabled, bit 7 magnet names only the v2 hash (hybrid);
//   s3: bits 0-4 pieces already on disk (leecher, resume), the odd ones
//       corrupt when bit 7 is set (their blocks then listed as partial in
//       the resume data); bit 5 every event wanted; bit 6 a resume path
//       (resume data saved on stop and periodically); bit 0 also adds the
//       v2 hash to a hybrid magnet link.
//   Each operation is one byte, `op | slot << 5`: slot picks one of the
//   open connections (by index modulo their number), op one of kOp* below;
//   most take one argument byte, a few more. Missing bytes read as zero.
//   An operation on a slot when no connection is open reads no argument.
//
//   Reader in(data, size);
//   Harness h;
//   if (h.Setup(in)) h.Run(in);  // aborts if an invariant is violated
//
// The harness's parts: torrent_fuzz_setup.cc (the torrent, the client and
// the disk before the first step; restarts and whole-torrent controls),
// torrent_fuzz_steps.cc (one operation per step, client-level and
// connection-level ones), torrent_fuzz_wire_ops.cc (peer-wire messages),
// torrent_fuzz_exchange_ops.cc (extension, metadata, PEX and hash
// messages), torrent_fuzz_messages.cc (what an honest peer would send) and
// torrent_fuzz_checks.cc (reading what our side sent, and the invariants).
#ifndef TESTS_FUZZ_TORRENT_FUZZ_HARNESS_H_
#define TESTS_FUZZ_TORRENT_FUZZ_HARNESS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "client/client_options.h"
#include "client/torrent.h"
#include "metainfo/torrent_info.h"
#include "protocol/merkle_hashes.h"
#include "protocol/message.h"
#include "protocol/message_parser.h"
#include "protocol/ut_metadata.h"
#include "storage/memory_file_backend.h"
#include "tests/client/testing/sim_client.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::client::torrent_fuzz {

// Check aborts the run, naming the invariant `what`, unless `ok`.
void Check(bool ok, const char* what);

// The ids our fuzzed peers want extension messages with.
inline constexpr uint8_t kPeerUtMetadata = 3;
inline constexpr uint8_t kPeerUtPex = 4;
// Where the torrent's files and its resume data live on the in-memory disk.
inline constexpr char kSavePath[] = "/dl";
inline constexpr char kResumePath[] = "/state/t.resume";

// Reader hands out the input's bytes in order; past the end, zeros.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  // Bytes returns the next `n` bytes, fewer at the end of the input.
  std::string Bytes(size_t n) {
    n = std::min(n, size_ - std::min(pos_, size_));
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// How the torrent is added at setup (s0 bits 2-3).
enum class StartMode : uint8_t {
  kSeed = 0,     // every piece on disk
  kLeecher = 1,  // from the metainfo, some pieces on disk
  kMagnet = 2,   // from a magnet link, nothing on disk
  kResume = 3,   // from the metainfo and resume data
};

// SetupChoices are the four setup bytes, decoded (see the comment above).
struct SetupChoices {
  metainfo::testing::Version version;
  StartMode mode;
  bool multi_file;
  bool empty_file;       // multi-file only
  bool empty_file_last;  // else between the two others
  size_t first_file_size;
  size_t second_file_size;  // multi-file only
  int64_t piece_length;
  bool pad_info;
  bool small_limits;
  bool encryption;
  bool magnet_v2_only;     // hybrid magnet links
  bool magnet_adds_v2;     // hybrid magnet links: both hashes
  uint8_t pieces_on_disk;  // bit p: piece p (p < 5), leecher modes
  bool odd_pieces_corrupt;
  bool all_events;
  bool resume_path;
  uint8_t resume_peer;  // the address the resume data lists
};

SetupChoices DecodeSetup(Reader& in);

enum Op : uint8_t {
  kOpIncoming = 0,      // arg: address
  kOpAddPeer,           // arg: address (bit 7: from PEX)
  kOpConnect,           // complete an outgoing connect
  kOpConnectFail,       // fail it (transport error), or drop: EOF
  kOpHandshake,         // arg: flags (see SendHandshake())
  kOpBitfield,          // arg: kind (+ bytes)
  kOpHave,              // arg: piece
  kOpHaveAllNone,       // arg: bit 0 all
  kOpRequest,           // args: piece, block, length kind
  kOpPiece,             // arg: which request, how wrong
  kOpCancel,            // args: as request
  kOpReject,            // arg: which request
  kOpAllowedFast,       // arg: piece
  kOpExtHandshake,      // arg: flags
  kOpMetadataRequest,   // arg: piece
  kOpMetadataData,      // arg: which request, how wrong (or a reject)
  kOpRestart,           // arg: run pending first; stop first
  kOpPex,               // arg: peers
  kOpHashRequest,       // arg: range kind
  kOpHashes,            // arg: which request, how wrong
  kOpHashReject,        // arg: which request
  kOpSmall,             // arg: choke, unchoke, interested, ... (see Small())
  kOpRaw,               // arg: length, then the bytes
  kOpReading,           // arg: take now, stop reading, resume reading
  kOpAdvance,           // arg: duration
  kOpRunPending,        // arg: how many tasks (bit 7: toggle auto-run)
  kOpTorrent,           // arg: pause, start, super-seed, stop, resume, limits
  kOpFilePriority,      // arg: file, priority
  kOpServeAll,          // answer every block request seen, rightly
  kOpMetadataAll,       // answer every metadata and hash request seen
  kOpSeederScript,      // handshake + ext + have all + unchoke (arg: flags)
  kOpClose,             // EOF from the peer
};

// What one fuzzed peer learned from the bytes our side sent it.
struct Slot {
  client::testing::SimPeer* peer = nullptr;
  uint64_t id = 0;  // connection id
  Endpoint address;
  bool incoming = false;
  PeerId peer_id;
  bool reading = true;
  bool opaque = false;  // our stream could not be parsed (MSE)
  std::unique_ptr<protocol::MessageParser> parser;
  std::vector<protocol::Request> requests;        // block requests to it
  std::vector<uint32_t> metadata_requests;        // ut_metadata requests
  std::vector<protocol::HashRange> hash_requests;  // BEP 52 requests
  std::vector<protocol::Request> served;          // blocks we sent it
  uint8_t our_ut_metadata = 2;  // from our extension handshake
  uint8_t our_ut_pex = 1;
};

// AddressOf maps a byte to one of eight IP addresses (bans are per
// address), a few ports each.
Endpoint AddressOf(uint8_t a);

// FuzzPeerId is the peer id of the `index`th slot; `kind` tells incoming
// ('1') from outgoing ('2') connections.
PeerId FuzzPeerId(char kind, size_t index);

// TakeAt removes and returns the element `sel` (modulo the size) of a
// non-empty `v`.
template <typename T>
T TakeAt(std::vector<T>& v, size_t sel) {
  const size_t i = sel % v.size();
  T taken = v[i];
  v.erase(v.begin() + i);
  return taken;
}

class Harness {
 public:
  // Setup reads the setup bytes and adds the torrent; false if the input
  // describes no torrent worth running.
  bool Setup(Reader& in);
  // Run performs the operations (at most 1000), then the final check.
  void Run(Reader& in);

 private:
  // --- setup (torrent_fuzz_setup.cc) ---
  bool MakeTorrent(const SetupChoices& c);
  ClientOptions OptionsFor(const SetupChoices& c);
  // StartClient makes a new client with options_ (events watched).
  void StartClient();
  bool WriteExistingData(const SetupChoices& c);
  bool AddTorrent(const SetupChoices& c);
  // ParamsOnDisk: a torrent saved under kSavePath on the harness's disk.
  TorrentParams ParamsOnDisk();
  void WatchEvents();
  void Restart(uint8_t arg);
  void TorrentControl(uint8_t arg);
  std::optional<std::string> FileOnDisk(uint8_t sel) const;

  // --- one step (torrent_fuzz_steps.cc) ---
  void Step(Reader& in);
  // ClientOp performs an operation that needs no connection; false if
  // `op` is not one.
  bool ClientOp(uint8_t op, Reader& in);
  void Advance(uint8_t arg);
  bool ConnectionOp(uint8_t op, Slot& s, Reader& in);
  Slot* Pick(uint8_t sel);
  // AddSlot makes the slot of a new connection (the next id).
  void AddSlot(client::testing::SimPeer* peer, bool incoming);
  void LogStep(uint8_t op, uint8_t sel);
  void LogSummary();

  // --- peer-wire messages (torrent_fuzz_wire_ops.cc) ---
  bool WireOp(uint8_t op, Slot& s, Reader& in);
  void SendHandshake(Slot& s, uint8_t flags);
  void SendBitfield(Slot& s, Reader& in);
  void SendRequestOrCancel(uint8_t op, Slot& s, Reader& in);
  void SendPiece(Slot& s, uint8_t arg);
  void SendReject(Slot& s, uint8_t arg);
  void ServeAll(Slot& s);
  void SendSeederOpening(Slot& s, uint8_t flags);
  void Small(Slot& s, uint8_t arg);

  // --- extension, metadata and hash messages
  // (torrent_fuzz_exchange_ops.cc) ---
  bool ExchangeOp(uint8_t op, Slot& s, Reader& in);
  void SendMetadataRequest(Slot& s, uint8_t arg);
  void SendMetadataData(Slot& s, uint8_t arg);
  void AnswerMetadataAndHashes(Slot& s);
  void SendPex(Slot& s, uint8_t arg);
  void SendHashRequest(Slot& s, uint8_t arg);
  void SendHashes(uint8_t op, Slot& s, uint8_t arg);

  // --- what a peer sends (torrent_fuzz_messages.cc) ---
  void Send(Slot& s, const std::string& bytes) {
    if (!s.peer->closed()) s.peer->Deliver(bytes);
  }
  void SendMessage(Slot& s, const protocol::Message& m) {
    std::string bytes;
    protocol::AppendMessage(m, &bytes);
    Send(s, bytes);
  }
  std::string HandshakeBytes(const Slot& s, uint8_t flags) const;
  std::string ExtHandshakeBytes(uint8_t flags) const;
  // MetadataBytes: `m` as a ut_metadata message to our side.
  static std::string MetadataBytes(const Slot& s,
                                   const protocol::MetadataMessage& m);
  // BlockBytes: the torrent's content at that place, zero-padded.
  std::string BlockBytes(uint32_t piece, uint32_t begin, uint32_t length) const;
  std::string AllPiecesBitfield() const;
  std::optional<std::string> HashesFor(const protocol::HashRange& r);
  uint32_t NumPieces() const { return full_->num_pieces(); }
  // PieceSize: the piece's length (the last one may be shorter; 0 past the
  // end).
  int64_t PieceSize(uint32_t piece) const {
    return full_->layout().PieceSize(piece);
  }

  // --- bookkeeping after each step (torrent_fuzz_checks.cc) ---
  void Sync();
  void Take(Slot& s);
  void CheckInvariants();
  void FinalCheck();

  // The disk outlives the clients: a restart finds the files and the
  // resume data there.
  storage::MemoryFileBackend disk_;
  ClientOptions options_;
  bool events_wanted_ = false;
  std::unique_ptr<client::testing::SimClient> sim_;
  Torrent* t_ = nullptr;
  std::shared_ptr<const metainfo::TorrentInfo> full_;
  std::string space_;  // the piece space an honest seed serves
  std::map<Sha256Hash, protocol::PieceLayerTree> trees_;
  std::vector<std::unique_ptr<Slot>> slots_;
  size_t outgoing_seen_ = 0;
  uint64_t connections_made_ = 0;
  bool auto_run_ = true;
  bool tampered_ = false;
  absl::Duration elapsed_ = absl::ZeroDuration();
  size_t send_bound_ = 0;
  const bool verbose_ = std::getenv("TORRENT_FUZZER_VERBOSE") != nullptr;
};

}  // namespace bt::client::torrent_fuzz

#endif  // TESTS_FUZZ_TORRENT_FUZZ_HARNESS_H_
