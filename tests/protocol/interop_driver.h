// Test-only socket driver for protocol interop tests: starts an external
// peer program, opens loopback TCP connections, runs btkit's plain or MSE
// handshake over them, and downloads one piece with btkit's codec.
//
//   ASSIGN_OR_RETURN(auto peer, Subprocess::Start({"/usr/bin/python3", ...}));
//   ASSIGN_OR_RETURN(int fd, ConnectLoopback(port));
//   PeerWire wire(fd, torrent, deadline);
//   RETURN_IF_ERROR(wire.InitiateMse(EncryptionPolicy::kForced));
//   RETURN_IF_ERROR(wire.DownloadPiece(0));
#ifndef TESTS_PROTOCOL_INTEROP_DRIVER_H_
#define TESTS_PROTOCOL_INTEROP_DRIVER_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/hash.h"
#include "protocol/extension_handshake.h"
#include "protocol/handshake.h"
#include "protocol/message_parser.h"
#include "protocol/mse.h"

namespace bt::protocol::testing {

// Subprocess runs a program with pipes on stdin/stdout (stderr inherited);
// the destructor closes stdin and kills it (its whole process group).
class Subprocess {
 public:
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      const std::vector<std::string>& argv);
  ~Subprocess();
  // ReadLine reads one line from the program's stdout (without '\n').
  absl::StatusOr<std::string> ReadLine(absl::Time deadline);
  absl::Status WriteLine(const std::string& line);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int in_ = -1;   // program's stdin
  int out_ = -1;  // program's stdout
  std::string buffered_;
};

// Field returns the value of "key=value" in a space-separated line.
std::optional<std::string> Field(const std::string& line,
                                 const std::string& key);

// ConnectLoopback connects to 127.0.0.1:port.
absl::StatusOr<int> ConnectLoopback(int port);
// ConnectLoopbackRetrying retries until the peer listens or `deadline`.
absl::StatusOr<int> ConnectLoopbackRetrying(int port, absl::Time deadline);
// ListenLoopback listens on 127.0.0.1 on a free port; sets *port.
absl::StatusOr<int> ListenLoopback(int* port);
// Accept waits for one connection until `deadline`.
absl::StatusOr<int> Accept(int listen_fd, absl::Time deadline);

struct TorrentFacts {
  Sha1Hash info_hash;
  uint32_t piece_length = 0;
  uint32_t num_pieces = 0;
  uint64_t total_size = 0;
  Sha1Hash piece0_hash;
};

// ParseReady reads the facts from a READY line (see lt_peer.py).
absl::StatusOr<TorrentFacts> ParseReady(const std::string& line);

// PeerWire is one connection, driven by btkit's protocol layer.
class PeerWire {
 public:
  // Takes ownership of `fd`.
  PeerWire(int fd, const TorrentFacts& torrent, absl::Time deadline);
  ~PeerWire();

  // Plain BitTorrent handshake, we connect.
  absl::Status InitiatePlain();
  // MSE as initiator, our BitTorrent handshake as the initial payload.
  absl::Status InitiateMse(const MseOptions& options);
  // Accepted connection: MSE responder (which also detects a plain
  // handshake) and then our handshake back.
  absl::Status Respond(const MseOptions& options);

  // DownloadPiece exchanges extension handshakes, expects a bitfield or
  // have-all, says interested, requests every block of `piece` once
  // unchoked, and checks the assembled piece against its SHA-1.
  absl::Status DownloadPiece(uint32_t piece, const Sha1Hash& expected);

  // RequestHashes sends a BEP 52 hash request (once the peer's handshake
  // is in) and returns the payload of the `hashes` message answering it;
  // kUnavailable if the peer rejects it.
  absl::StatusOr<std::string> RequestHashes(const HashRange& range);
  // Send sends one message (once the peer's handshake is in).
  absl::Status Send(const Message& m);
  // AwaitUnchoke says interested and reads until the peer unchokes us.
  absl::Status AwaitUnchoke();

  const MseHandshake* mse() const { return mse_.get(); }
  const std::optional<Handshake>& their_handshake() const { return theirs_; }
  const std::optional<ExtensionHandshake>& their_extensions() const {
    return their_ext_;
  }
  bool saw_bitfield_or_have_all() const { return saw_have_; }
  // log lists the messages received, for failure reports.
  const std::string& log() const { return log_; }

 private:
  absl::Status SendAll(std::string bytes);  // encrypts when needed
  absl::Status SendRaw(std::string_view bytes);
  // ReadSome reads what is available (blocking until deadline_).
  absl::StatusOr<std::string> ReadSome();
  absl::StatusOr<Message> NextMessage();
  absl::Status RunMse(std::string first_out);
  absl::Status AwaitTheirHandshake();
  Handshake OurHandshake() const;

  int fd_;
  TorrentFacts torrent_;
  absl::Time deadline_;
  std::unique_ptr<MseHandshake> mse_;
  SkeyTable skeys_;
  MessageParser parser_;
  std::string chunk_;  // bytes fed to parser_ (must live until drained)
  std::optional<Handshake> theirs_;
  std::optional<ExtensionHandshake> their_ext_;
  bool saw_have_ = false;
  std::string log_;
};

}  // namespace bt::protocol::testing

#endif  // TESTS_PROTOCOL_INTEROP_DRIVER_H_
