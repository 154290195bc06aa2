// Test-only support for the client's interop tests against real peers
// (libtorrent, aria2, Transmission): the shared multi-file payload, a
// byte-for-byte comparison of two copies, the transfer cases (direction
// and encryption), the checks every transfer makes and a record of its
// connections for failure messages, and `bt seed` on a free port. Their
// tracker is tests/testing:opentracker.
//
//   WritePayload(root + "/seed");               // once per test suite
//   ASSIGN_OR_RETURN(Sha1Hash ih, WriteTorrent(root + "/seed",
//                                              root + "/p.torrent", {url}));
//   EXPECT_TRUE(SameFiles(root + "/seed", out_dir));
#ifndef TESTS_CLIENT_INTEROP_SUPPORT_H_
#define TESTS_CLIENT_INTEROP_SUPPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/hash.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "protocol/mse.h"
#include "tests/testing/ports.h"
#include "tests/testing/subprocess.h"

namespace bt::client::interop {

// The payload's files, relative to the directory that holds "payload/":
// 64 MiB + 3 MiB + 5000 bytes in nested directories (67 MiB in all).
extern const char* const kPayloadFiles[3];

// WritePayload writes the payload's pseudo-random files under `dir`: the
// same bytes for every call in one process, others in the next.
void WritePayload(const std::string& dir);

// WriteTorrent creates a v1 torrent (256 KiB pieces) of `dir`/payload with
// `trackers` as one tier each (none: no announce), writes it to `path` and
// returns its info-hash.
absl::StatusOr<Sha1Hash> WriteTorrent(const std::string& dir,
                                      const std::string& path,
                                      const std::vector<std::string>& trackers);

// SameFiles compares every payload file under `want_dir` and `got_dir`
// byte for byte (sizes first, then contents in 1 MiB chunks).
::testing::AssertionResult SameFiles(const std::string& want_dir,
                                     const std::string& got_dir);

// TransferCase is one interop transfer: who seeds, and btkit's policy.
struct TransferCase {
  bool btkit_seeds = false;
  protocol::EncryptionPolicy policy = protocol::EncryptionPolicy::kEnabled;
};

// TransferCases are both directions, each with encryption forced and
// disabled.
std::vector<TransferCase> TransferCases();

// PolicyName is "forced", "enabled" or "disabled".
std::string PolicyName(protocol::EncryptionPolicy policy);

// TransferCaseName names a case in a parameterised suite:
// "<peer>Downloads_forced" when btkit seeds, else "BtkitDownloads_forced".
std::string TransferCaseName(const TransferCase& c, const std::string& peer);

// WireEncryption records how the peers of a torrent were connected, as
// each connects: encrypted or in plaintext, over uTP or TCP.
class WireEncryption {
 public:
  // Watch listens to `client`'s peer_connect events; `torrent` is read
  // when they arrive, so it may be set after the call.
  void Watch(Client& client, Torrent* const& torrent);
  // Matches: under kForced only encrypted connections were seen, under
  // kDisabled only plaintext ones (kEnabled accepts either).
  ::testing::AssertionResult Matches(protocol::EncryptionPolicy policy) const;
  // OnlyOver: connections were seen, all over uTP (`utp`) or all over TCP.
  ::testing::AssertionResult OnlyOver(bool utp) const;

 private:
  bool encrypted_ = false, plain_ = false, utp_ = false, tcp_ = false;
};

// ConnectionDiary keeps, for a failure message, how a client found and
// reached its peers: tracker answers (with the peers they named), completed
// handshakes and closed connections (with why), each with the time since
// Watch; the first kMaxLines of them.
//
//   ConnectionDiary diary;
//   diary.Watch(*client);
//   ASSERT_TRUE(done) << diary;
class ConnectionDiary {
 public:
  static constexpr size_t kMaxLines = 40;
  void Watch(Client& client);
  // Note adds `line` (with the time since Watch); past kMaxLines it only
  // counts it.
  void Note(const std::string& line);
  std::string ToString() const;

 private:
  absl::Time start_;
  std::vector<std::string> lines_;
  size_t dropped_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, const ConnectionDiary& d) {
  return os << d.ToString();
}

// DownloadAll runs `client` until `torrent` completes or `deadline`
// passes, and succeeds when it completed with one piece_hash_pass event per
// piece.
::testing::AssertionResult DownloadAll(Client& client, Torrent& torrent,
                                       absl::Time deadline);

// RunUntilExit runs `client` until `process` exits or `deadline` passes;
// returns its exit status, or -1 if it is still running.
int RunUntilExit(Client& client, testing::Subprocess& process,
                 absl::Time deadline);

// BtSeed is a `bt seed` process (the test's own build, or the binary named
// by $BT_BINARY, to measure another build) and the port it listens on.
using BtSeed = ::bt::testing::ListeningProcess;
// StartBtSeed runs `bt seed torrent dir --port P --encryption disabled`
// (and `extra` flags) on a free port and returns once it accepts
// connections (a port taken between choosing and binding it is replaced
// by another), or an error.
absl::StatusOr<BtSeed> StartBtSeed(const std::string& torrent,
                                   const std::string& dir,
                                   const std::vector<std::string>& extra = {});

}  // namespace bt::client::interop

#endif  // TESTS_CLIENT_INTEROP_SUPPORT_H_
