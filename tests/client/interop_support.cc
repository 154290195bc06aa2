#include "tests/client/interop_support.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "metainfo/torrent_creator.h"
#include "metainfo/torrent_info.h"
#include "tests/testing/ports.h"

namespace bt::client::interop {

namespace fs = std::filesystem;

const char* const kPayloadFiles[3] = {"payload/video.bin",
                                      "payload/extras/notes.txt",
                                      "payload/extras/deep/image.bin"};

namespace {

void WriteRandom(const fs::path& p, size_t size, uint32_t seed) {
  fs::create_directories(p.parent_path());
  std::mt19937_64 rng(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t v = rng();
    std::memcpy(&data[i], &v, 8);
  }
  std::ofstream(p, std::ios::binary).write(data.data(), data.size());
}

}  // namespace

void WritePayload(const std::string& dir) {
  // Its own bytes per test process, so its own info-hash: interop tests run
  // side by side, and a peer of another test that dials a port since
  // reused must not join this one's swarm (Transmission, for one, keeps
  // one peer per IP address, and every test's peers are on 127.0.0.1).
  static const uint32_t seed = std::random_device()();
  WriteRandom(fs::path(dir) / kPayloadFiles[0], 64 << 20, seed);
  WriteRandom(fs::path(dir) / kPayloadFiles[1], 5000, seed + 1);
  WriteRandom(fs::path(dir) / kPayloadFiles[2], 3 << 20, seed + 2);
}

absl::StatusOr<Sha1Hash> WriteTorrent(const std::string& dir,
                                      const std::string& path,
                                      const std::vector<std::string>& trackers) {
  metainfo::CreateOptions options;
  options.version = metainfo::TorrentVersion::kV1;
  options.piece_length = 256 * 1024;
  for (const std::string& t : trackers) options.trackers.push_back({t});
  absl::StatusOr<std::string> torrent =
      metainfo::CreateTorrent(dir + "/payload", options);
  if (!torrent.ok()) return torrent.status();
  absl::StatusOr<metainfo::TorrentInfo> info =
      metainfo::TorrentInfo::Parse(*torrent);
  if (!info.ok()) return info.status();
  std::ofstream(path, std::ios::binary) << *torrent;
  return *info->info_hash_v1();
}

std::vector<TransferCase> TransferCases() {
  using protocol::EncryptionPolicy;
  return {{false, EncryptionPolicy::kForced},
          {false, EncryptionPolicy::kDisabled},
          {true, EncryptionPolicy::kForced},
          {true, EncryptionPolicy::kDisabled}};
}

std::string PolicyName(protocol::EncryptionPolicy policy) {
  return std::string(protocol::EncryptionPolicyName(policy));
}

std::string TransferCaseName(const TransferCase& c, const std::string& peer) {
  return (c.btkit_seeds ? peer : std::string("Btkit")) + "Downloads_" +
         PolicyName(c.policy);
}

void WireEncryption::Watch(Client& client, Torrent* const& torrent) {
  client.OnEvent(EventType::kPeerConnect, [this, &torrent](const Event&) {
    if (torrent == nullptr) return true;
    for (const PeerInfo& p : torrent->peers()) {
      (p.encrypted ? encrypted_ : plain_) = true;
      (p.utp ? utp_ : tcp_) = true;
    }
    return true;
  });
}

void ConnectionDiary::Watch(Client& client) {
  start_ = absl::Now();
  client.OnEvent(EventType::kTrackerSuccess, [this](const Event& e) {
    std::string peers;
    for (const Endpoint& p : e.peers)
      absl::StrAppend(&peers, " ", p.ToString());
    Note(absl::StrCat("tracker answered ", e.announce_event, ", ",
                      e.peers.size(), " peers:", peers));
    return true;
  });
  client.OnEvent(EventType::kTrackerFailure, [this](const Event& e) {
    Note(absl::StrCat("tracker failed: ", e.reason));
    return true;
  });
  client.OnEvent(EventType::kPeerConnect, [this](const Event& e) {
    Note(absl::StrCat("handshake with ", e.peer.address.ToString(),
                      e.peer.incoming ? " (incoming)" : ""));
    return true;
  });
  client.OnEvent(EventType::kPeerDisconnect, [this](const Event& e) {
    Note(absl::StrCat("closed ", e.peer.address.ToString(),
                      e.peer.incoming ? " (incoming)" : "", ": ", e.reason));
    return true;
  });
}

void ConnectionDiary::Note(const std::string& line) {
  if (lines_.size() >= kMaxLines) {
    ++dropped_;
    return;
  }
  lines_.push_back(absl::StrFormat(
      "+%.1fs %s", absl::ToDoubleSeconds(absl::Now() - start_), line));
}

std::string ConnectionDiary::ToString() const {
  if (lines_.empty()) return "no tracker answer, handshake or close seen";
  std::string out = absl::StrJoin(lines_, "\n");
  if (dropped_ > 0) absl::StrAppend(&out, "\n(", dropped_, " more)");
  return out;
}

::testing::AssertionResult WireEncryption::OnlyOver(bool utp) const {
  if ((utp ? utp_ : tcp_) && !(utp ? tcp_ : utp_)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "wanted only " << (utp ? "uTP" : "TCP") << ", saw "
         << (utp_ ? "uTP " : "") << (tcp_ ? "TCP" : "")
         << (utp_ || tcp_ ? "" : "no connection");
}

::testing::AssertionResult WireEncryption::Matches(
    protocol::EncryptionPolicy policy) const {
  const bool want_encrypted = policy != protocol::EncryptionPolicy::kDisabled;
  const bool want_plain = policy != protocol::EncryptionPolicy::kForced;
  if ((encrypted_ && !want_encrypted) || (plain_ && !want_plain) ||
      (!encrypted_ && !plain_)) {
    return ::testing::AssertionFailure()
           << "policy " << PolicyName(policy) << " but connections seen: "
           << (encrypted_ ? "encrypted " : "") << (plain_ ? "plaintext" : "")
           << (encrypted_ || plain_ ? "" : "none");
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult DownloadAll(Client& client, Torrent& torrent,
                                       absl::Time deadline) {
  // The handler outlives this call: it counts into shared storage.
  auto passed = std::make_shared<int>(0);
  torrent.OnEvent(EventType::kPieceHashPass, [passed](const Event&) {
    ++*passed;
    return true;
  });
  while (!torrent.complete() && absl::Now() < deadline) {
    absl::Status s = client.DoOneLoop(0.01);
    if (!s.ok()) return ::testing::AssertionFailure() << s;
  }
  if (!torrent.complete()) {
    return ::testing::AssertionFailure()
           << torrent.pieces_have() << " of " << torrent.info().num_pieces()
           << " pieces before the deadline";
  }
  if (*passed != static_cast<int>(torrent.info().num_pieces())) {
    return ::testing::AssertionFailure()
           << *passed << " piece_hash_pass events for "
           << torrent.info().num_pieces() << " pieces";
  }
  return ::testing::AssertionSuccess();
}

int RunUntilExit(Client& client, testing::Subprocess& process,
                 absl::Time deadline) {
  while (absl::Now() < deadline) {
    if (!client.DoOneLoop(0.01).ok()) return -1;
    absl::StatusOr<int> done = process.Wait(absl::Now());
    if (done.ok()) return *done;
  }
  return -1;
}

::testing::AssertionResult SameFiles(const std::string& want_dir,
                                     const std::string& got_dir) {
  for (const char* f : kPayloadFiles) {
    const fs::path want = fs::path(want_dir) / f, got = fs::path(got_dir) / f;
    std::error_code ec;
    const auto want_size = fs::file_size(want, ec);
    const auto got_size = fs::file_size(got, ec);
    if (ec || want_size != got_size) {
      return ::testing::AssertionFailure()
             << got << ": size " << (ec ? -1 : static_cast<int64_t>(got_size))
             << ", want " << want_size;
    }
    std::ifstream a(want, std::ios::binary), b(got, std::ios::binary);
    std::string x(1 << 20, '\0'), y(1 << 20, '\0');
    for (uint64_t offset = 0; offset < want_size; offset += x.size()) {
      a.read(x.data(), x.size());
      b.read(y.data(), y.size());
      if (a.gcount() != b.gcount() ||
          std::memcmp(x.data(), y.data(), a.gcount()) != 0) {
        return ::testing::AssertionFailure()
               << got << " differs in the MiB at offset " << offset;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

absl::StatusOr<BtSeed> StartBtSeed(const std::string& torrent,
                                   const std::string& dir,
                                   const std::vector<std::string>& extra) {
  const char* bt = std::getenv("BT_BINARY");
  return ::bt::testing::StartListening([&](uint16_t port) {
    std::vector<std::string> argv = {bt ? bt : "client/cli/bt",
                                     "seed",
                                     torrent,
                                     dir,
                                     "--port",
                                     absl::StrCat(port),
                                     "--encryption",
                                     "disabled",
                                     "--dht-bootstrap=",
                                     "--no-lsd"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  });
}

}  // namespace bt::client::interop
