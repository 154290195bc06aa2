// btkit's client against libtorrent 2.0 (python3-libtorrent) on loopback:
// a 64 MiB multi-file torrent downloaded by btkit from a libtorrent seeder,
// and by libtorrent from a btkit seeder, with encryption forced and
// disabled, the latter also with send_from_file (sendfile). The copies must
// be identical to the source.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bencode/decoder.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_creator.h"
#include "metainfo/torrent_info.h"
#include "tests/client/interop_support.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/files.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;
using ::bt::testing::ReadFileOrDie;
using protocol::EncryptionPolicy;

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kPeerScript[] = "tests/client/libtorrent_peer.py";

using interop::PolicyName;

class LibtorrentInteropTest
    : public ::testing::TestWithParam<interop::TransferCase> {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(kPython) || !root_.empty()) return;
    root_ = testing::TempDir("client_lt_interop");
    interop::WritePayload(root_ + "/seed");
    torrent_path_ = root_ + "/payload.torrent";
    auto ih = interop::WriteTorrent(root_ + "/seed", torrent_path_, {});
    ASSERT_TRUE(ih.ok()) << ih.status();
  }
  friend class LibtorrentMagnetTest;

  void SetUp() override {
    if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  }

  std::unique_ptr<Client> NewClient(bool send_from_file = false) {
    ClientOptions options = testing::LoopbackClientOptions();
    options.encryption = GetParam().policy;
    options.send_from_file = send_from_file;
    auto c = Client::Create(options);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // SeedToLibtorrent: `client` seeds the payload as `t` and libtorrent,
  // with the parameter's policy, downloads it into `dir`/lt; its copy must
  // be identical and `t` must have uploaded all of it.
  void SeedToLibtorrent(Client& client, const std::string& dir, Torrent*& t,
                        absl::Time deadline) {
    TorrentParams params;
    params.torrent_path = torrent_path_;
    params.save_path = root_ + "/seed";
    auto added = client.AddTorrent(params);
    ASSERT_TRUE(added.ok()) << added.status();
    t = *added;
    ASSERT_TRUE(t->complete());
    auto lt = testing::Subprocess::Start(
        {kPython, kPeerScript, "download", torrent_path_, dir + "/lt",
         dir + "/port", PolicyName(GetParam().policy),
         absl::StrFormat("127.0.0.1:%d", client.port()), "--timeout", "110"});
    ASSERT_TRUE(lt.ok()) << lt.status();
    ASSERT_EQ(interop::RunUntilExit(client, **lt, deadline), 0)
        << "libtorrent did not finish its download";
    EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/lt"));
    EXPECT_GE(t->uploaded(), int64_t{64} << 20);
  }

  static std::string root_;
  static std::string torrent_path_;

 public:
  static const std::string& root() { return root_; }
  static const std::string& torrent_path() { return torrent_path_; }
};

// Shares the parameterised suite's payload (made on first use).
class LibtorrentMagnetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (LibtorrentInteropTest::torrent_path().empty()) {
      MakePayload();
    }
  }
  static void MakePayload();
};

std::string LibtorrentInteropTest::root_;
std::string LibtorrentInteropTest::torrent_path_;

void LibtorrentMagnetTest::MakePayload() {
  LibtorrentInteropTest::SetUpTestSuite();
}

TEST_P(LibtorrentInteropTest, Transfers) {
  const interop::TransferCase& c = GetParam();
  const std::string dir = root_ + absl::StrFormat("/run_%d_%s", c.btkit_seeds,
                                                  PolicyName(c.policy));
  fs::create_directories(dir);
  const std::string port_file = dir + "/port";
  std::unique_ptr<Client> client = NewClient();
  ASSERT_TRUE(client);
  Torrent* t = nullptr;
  interop::WireEncryption wire;
  wire.Watch(*client, t);
  interop::ConnectionDiary diary;
  diary.Watch(*client);
  const absl::Time deadline = absl::Now() + absl::Seconds(120);

  if (c.btkit_seeds) {
    SeedToLibtorrent(*client, dir, t, deadline);
    if (HasFatalFailure()) return;
  } else {
    auto lt = testing::Subprocess::Start({kPython, kPeerScript, "seed",
                                          torrent_path_, root_ + "/seed",
                                          port_file, PolicyName(c.policy)});
    ASSERT_TRUE(lt.ok()) << lt.status();
    auto port_text = testing::WaitForFile(port_file, deadline);
    ASSERT_TRUE(port_text.ok()) << port_text.status();
    uint32_t port = 0;
    ASSERT_TRUE(absl::SimpleAtoi(*port_text, &port));
    TorrentParams params;
    params.torrent_path = torrent_path_;
    params.save_path = dir + "/btkit";
    params.peers = {*Endpoint::ParseAddress("127.0.0.1", port)};
    auto added = client->AddTorrent(params);
    ASSERT_TRUE(added.ok()) << added.status();
    t = *added;
    ASSERT_TRUE(interop::DownloadAll(*client, *t, deadline)) << diary;
    EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/btkit"));
  }
  EXPECT_TRUE(wire.Matches(c.policy));
}

// With send_from_file, btkit sends a plaintext peer's blocks straight from
// the payload's files (sendfile: no file_read once libtorrent is connected,
// but for the few blocks that straddle files and the tail of the seed's own
// check) and an RC4-encrypted peer's from memory (every block a file_read).
// Either way libtorrent's copy must be identical, across file boundaries.
class LibtorrentSendFromFileTest : public LibtorrentInteropTest {};

TEST_P(LibtorrentSendFromFileTest, Transfers) {
  const EncryptionPolicy policy = GetParam().policy;
  const std::string dir = root_ + "/sendfile_" + PolicyName(policy);
  fs::create_directories(dir);
  // Declared before the client, whose handlers use them.
  bool serving = false;
  int64_t reads = 0;
  Torrent* t = nullptr;
  interop::WireEncryption wire;
  std::unique_ptr<Client> client = NewClient(/*send_from_file=*/true);
  ASSERT_TRUE(client);
  wire.Watch(*client, t);
  client->OnEvent(EventType::kPeerConnect, [&](const Event&) {
    serving = true;
    return true;
  });
  client->OnEvent(EventType::kFileRead, [&](const Event& e) {
    if (serving) reads += e.length;
    return true;
  });
  SeedToLibtorrent(*client, dir, t, absl::Now() + absl::Seconds(120));
  if (HasFatalFailure()) return;
  EXPECT_TRUE(wire.Matches(policy));
  EXPECT_TRUE(wire.OnlyOver(/*utp=*/false));  // sendfile is for TCP only
  const int64_t total = t->info().total_size();
  if (policy == EncryptionPolicy::kDisabled) {
    EXPECT_LT(reads, total / 4) << "plaintext blocks were read, not sent";
  } else {
    EXPECT_GE(reads, total) << "encrypted blocks were not read into memory";
  }
}

INSTANTIATE_TEST_SUITE_P(
    SendFromFile, LibtorrentSendFromFileTest,
    ::testing::Values(interop::TransferCase{true, EncryptionPolicy::kDisabled},
                      interop::TransferCase{true, EncryptionPolicy::kForced}),
    [](const ::testing::TestParamInfo<interop::TransferCase>& info) {
      return interop::TransferCaseName(info.param, "Libtorrent");
    });

// Sequential download (streaming) from a libtorrent seeder: pieces are
// verified roughly in order and the copy is identical.
TEST_F(LibtorrentMagnetTest, SequentialFromALibtorrentSeeder) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  const std::string dir = LibtorrentInteropTest::root() + "/sequential";
  fs::create_directories(dir);
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  auto lt = testing::Subprocess::Start(
      {kPython, kPeerScript, "seed", LibtorrentInteropTest::torrent_path(),
       LibtorrentInteropTest::root() + "/seed", dir + "/port", "enabled"});
  ASSERT_TRUE(lt.ok()) << lt.status();
  auto port_text = testing::WaitForFile(dir + "/port", deadline);
  ASSERT_TRUE(port_text.ok()) << port_text.status();
  uint32_t port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(*port_text, &port));
  ClientOptions options = testing::LoopbackClientOptions();
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  TorrentParams params;
  params.torrent_path = LibtorrentInteropTest::torrent_path();
  params.save_path = dir + "/btkit";
  params.peers = {*Endpoint::ParseAddress("127.0.0.1", port)};
  params.sequential = true;
  auto added = (*client)->AddTorrent(params);
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent* t = *added;
  // The handler outlives this test's locals: it fills shared storage.
  auto passed = std::make_shared<std::vector<uint32_t>>();
  t->OnEvent(EventType::kPieceHashPass, [passed](const Event& e) {
    passed->push_back(e.index);
    return true;
  });
  ASSERT_TRUE(interop::DownloadAll(**client, *t, deadline));
  EXPECT_TRUE(interop::SameFiles(LibtorrentInteropTest::root() + "/seed",
                                 dir + "/btkit"));
  // In order, give or take the window and the requests in flight: the
  // first half of the pieces is verified before any of the last quarter.
  const uint32_t n = t->info().num_pieces();
  ASSERT_EQ(passed->size(), n);
  for (uint32_t k = 0; k < n / 2; ++k) {
    EXPECT_LT((*passed)[k], n * 3 / 4) << "verified as number " << k;
  }
}

// MagnetBothDirections: libtorrent seeds `torrent_file` and btkit gets
// only a magnet link (`xt` and libtorrent's address); then btkit seeds what
// it fetched and libtorrent gets only the magnet with btkit's address.
// With `v2`, libtorrent must also have had its piece-layer hash requests
// answered.
void MagnetBothDirections(const std::string& torrent_file,
                          const std::string& xt, const std::string& dir,
                          bool v2 = false) {
  ClientOptions options = testing::LoopbackClientOptions();
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok());
  auto torrent = metainfo::TorrentInfo::Parse(ReadFileOrDie(torrent_file));
  ASSERT_TRUE(torrent.ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(120);

  auto lt_seed = testing::Subprocess::Start(
      {kPython, kPeerScript, "seed", torrent_file,
       LibtorrentInteropTest::root() + "/seed", dir + "_port", "enabled"});
  ASSERT_TRUE(lt_seed.ok());
  fs::create_directories(dir);
  auto port = testing::WaitForFile(dir + "_port", deadline);
  ASSERT_TRUE(port.ok()) << port.status();
  TorrentParams params;
  params.magnet =
      absl::StrFormat("magnet:?xt=%s&x.pe=127.0.0.1:%s", xt, *port);
  params.save_path = dir + "/btkit";
  auto added = (*client)->AddTorrent(params);
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent* t = *added;
  while (!t->complete() && absl::Now() < deadline) {
    ASSERT_TRUE((*client)->DoOneLoop(0.01).ok());
  }
  ASSERT_TRUE(t->complete()) << "state " << TorrentStateName(t->state())
                             << " " << t->error().message();
  EXPECT_EQ(t->info().info_bytes(), torrent->info_bytes());
  lt_seed->reset();

  std::vector<std::string> argv = {
      kPython, kPeerScript, "download",
      absl::StrFormat("magnet:?xt=%s&x.pe=127.0.0.1:%d", xt, (*client)->port()),
      dir + "/lt", dir + "_port2", "enabled", "--timeout", "110"};
  if (v2) argv.push_back("--expect-hashes");
  auto lt_dl = testing::Subprocess::Start(argv);
  ASSERT_TRUE(lt_dl.ok());
  ASSERT_EQ(interop::RunUntilExit(**client, **lt_dl, deadline), 0)
      << "libtorrent did not finish its magnet download";
  EXPECT_TRUE(interop::SameFiles(LibtorrentInteropTest::root() + "/seed",
                                 dir + "/lt"));
}

// v1 magnet links: the metadata comes from the other side (BEP 9).
TEST_F(LibtorrentMagnetTest, BothDirections) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  auto torrent = metainfo::TorrentInfo::Parse(
      ReadFileOrDie(LibtorrentInteropTest::torrent_path()));
  ASSERT_TRUE(torrent.ok());
  MagnetBothDirections(LibtorrentInteropTest::torrent_path(),
                       "urn:btih:" + torrent->WireInfoHash().ToHex(),
                       LibtorrentInteropTest::root() + "/magnet");
}

// V2Torrent is a v2-only torrent of the seed payload with 64 KiB pieces,
// which give video.bin 1024 of them.
absl::StatusOr<std::string> V2Torrent() {
  metainfo::CreateOptions options;
  options.version = metainfo::TorrentVersion::kV2;
  options.piece_length = 64 * 1024;
  return metainfo::CreateTorrent(
      LibtorrentInteropTest::root() + "/seed/payload", options);
}

// v2-only magnet links: after the metadata, the piece layers come from the
// other side too (BEP 52 hash requests). 64 KiB pieces give video.bin 1024
// of them, fetched as two ranges of 512 with their uncle hashes.
TEST_F(LibtorrentMagnetTest, V2OnlyBothDirections) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  auto bytes = V2Torrent();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto torrent = metainfo::TorrentInfo::Parse(*bytes);
  ASSERT_TRUE(torrent.ok());
  const std::string path = LibtorrentInteropTest::root() + "/payload_v2.torrent";
  std::ofstream(path, std::ios::binary) << *bytes;
  MagnetBothDirections(path, "urn:btmh:1220" + torrent->info_hash_v2()->ToHex(),
                       LibtorrentInteropTest::root() + "/magnet_v2",
                       /*v2=*/true);
}

// A v2-only .torrent file without its `piece layers` (libtorrent loads
// such files): btkit fetches the layers from a libtorrent seeder with BEP 52
// hash requests, then the data, and checks every piece with them.
TEST_F(LibtorrentMagnetTest, V2TorrentWithoutPieceLayersFromLibtorrent) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  auto bytes = V2Torrent();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto full = metainfo::TorrentInfo::Parse(*bytes);
  ASSERT_TRUE(full.ok());
  const std::string dir = LibtorrentInteropTest::root() + "/no_layers";
  fs::create_directories(dir);
  const std::string seed_file = dir + "/full.torrent";
  std::ofstream(seed_file, std::ios::binary) << *bytes;
  // The same file with the outer `piece layers` entry cut out.
  auto doc = bencode::Decode(*bytes);
  ASSERT_TRUE(doc.ok());
  auto layers = doc->root().Find("piece layers");
  ASSERT_TRUE(layers.has_value());
  std::string stripped = *bytes;
  const std::string entry =
      "12:piece layers" + std::string(layers->raw());
  const size_t at = stripped.find(entry);
  ASSERT_NE(at, std::string::npos);
  stripped.erase(at, entry.size());
  const std::string dl_file = dir + "/stripped.torrent";
  std::ofstream(dl_file, std::ios::binary) << stripped;

  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  auto lt_seed = testing::Subprocess::Start(
      {kPython, kPeerScript, "seed", seed_file,
       LibtorrentInteropTest::root() + "/seed", dir + "/port", "enabled"});
  ASSERT_TRUE(lt_seed.ok());
  auto port = testing::WaitForFile(dir + "/port", deadline);
  ASSERT_TRUE(port.ok()) << port.status();
  ClientOptions client_options = testing::LoopbackClientOptions();
  auto client = Client::Create(client_options);
  ASSERT_TRUE(client.ok());
  TorrentParams params;
  params.torrent_path = dl_file;
  params.save_path = dir + "/btkit";
  int lt_port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(*port, &lt_port));
  params.peers = {*Endpoint::ParseAddress("127.0.0.1", lt_port)};
  auto added = (*client)->AddTorrent(params);
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent* t = *added;
  EXPECT_FALSE(t->has_metadata());  // until the layers are in
  while (!t->complete() && absl::Now() < deadline) {
    ASSERT_TRUE((*client)->DoOneLoop(0.01).ok());
  }
  ASSERT_TRUE(t->complete()) << "state " << TorrentStateName(t->state())
                             << " " << t->error().message() << ", layers "
                             << t->piece_layer_progress().first << "/"
                             << t->piece_layer_progress().second;
  EXPECT_TRUE(t->info().has_piece_layers());
  for (uint32_t piece = 0; piece < full->num_pieces(); ++piece) {
    ASSERT_EQ(t->info().V2PieceHash(piece), full->V2PieceHash(piece));
  }
  EXPECT_TRUE(interop::SameFiles(LibtorrentInteropTest::root() + "/seed",
                                 dir + "/btkit"));
}

// Peer exchange: btkit is told only of libtorrent B, which downloads
// slowly from libtorrent A; B's ut_pex must lead btkit to A. A has no
// ut_pex itself, so it cannot learn of btkit from B and connect first.
TEST_F(LibtorrentMagnetTest, PeerExchangeFromLibtorrent) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  const std::string root = LibtorrentInteropTest::root();
  const std::string torrent = LibtorrentInteropTest::torrent_path();
  const std::string dir = root + "/pex";
  fs::create_directories(dir);
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  auto a = testing::Subprocess::Start({kPython, kPeerScript, "seed", torrent,
                                       root + "/seed", dir + "/a_port",
                                       "enabled", "--no-pex"});
  ASSERT_TRUE(a.ok());
  auto a_port = testing::WaitForFile(dir + "/a_port", deadline);
  ASSERT_TRUE(a_port.ok());
  auto b = testing::Subprocess::Start(
      {kPython, kPeerScript, "download", torrent, dir + "/b", dir + "/b_port",
       "enabled", "127.0.0.1:" + *a_port, "--download-limit", "100000",
       "--timeout", "85"});
  ASSERT_TRUE(b.ok());
  auto b_port = testing::WaitForFile(dir + "/b_port", deadline);
  ASSERT_TRUE(b_port.ok());
  uint32_t pa = 0, pb = 0;
  ASSERT_TRUE(absl::SimpleAtoi(*a_port, &pa) && absl::SimpleAtoi(*b_port, &pb));

  bool met_a = false;
  std::string log;
  ClientOptions options = testing::LoopbackClientOptions();
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok());
  TorrentParams params;
  params.torrent_path = torrent;
  params.save_path = dir + "/btkit";
  params.peers = {*Endpoint::ParseAddress("127.0.0.1", pb)};
  auto added = (*client)->AddTorrent(params);
  ASSERT_TRUE(added.ok()) << added.status();
  (*client)->OnEvent(EventType::kPeerConnect, [&](const Event& e) {
    met_a |= e.peer.address.port() == pa;
    log += " connect:" + e.peer.address.ToString();
    return true;
  });
  (*client)->OnEvent(EventType::kPeerDisconnect, [&](const Event& e) {
    log += " disconnect:" + e.peer.address.ToString() + "(" + e.reason + ")";
    return true;
  });
  (*client)->OnEvent(EventType::kPacketIncomingExtended, [&](const Event& e) {
    log += absl::StrFormat(" ext%d:%d", e.extension_id, e.payload.size());
    return true;
  });
  while (!(met_a && (*added)->complete()) && absl::Now() < deadline) {
    ASSERT_TRUE((*client)->DoOneLoop(0.01).ok());
  }
  EXPECT_TRUE(met_a) << "btkit never heard of libtorrent A:" << log;
  EXPECT_TRUE((*added)->complete())
      << (*added)->pieces_have() << " pieces; " << log;
}

// Magnet over the DHT: btkit gets only the info-hash; a small loopback DHT
// of libtorrent nodes tells it where the libtorrent seeder is; the seeder
// supplies the metadata and the data. No tracker, no peer given.
TEST_F(LibtorrentMagnetTest, MagnetWithPeersFromTheDht) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  const std::string root = LibtorrentInteropTest::root();
  const std::string torrent = LibtorrentInteropTest::torrent_path();
  const std::string dir = root + "/dht";
  fs::create_directories(dir);
  const absl::Time deadline = absl::Now() + absl::Seconds(90);

  ClientOptions options = testing::LoopbackClientOptions();
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->dht());
  const std::string btkit_node =
      absl::StrFormat("127.0.0.1:%d", (*client)->dht()->local_endpoint().port());

  auto m = testing::Subprocess::Start({kPython, kPeerScript, "dht", "-", "-",
                                       dir + "/m_port", "enabled", "--dht",
                                       btkit_node, "--timeout", "90"});
  ASSERT_TRUE(m.ok());
  auto m_port = testing::WaitForFile(dir + "/m_port", deadline);
  ASSERT_TRUE(m_port.ok());
  const std::string m_node = "127.0.0.1:" + *m_port;
  auto s = testing::Subprocess::Start(
      {kPython, kPeerScript, "seed", torrent, root + "/seed", dir + "/s_port",
       "enabled", "--dht", btkit_node + "," + m_node, "--timeout", "90"});
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(testing::WaitForFile(dir + "/s_port", deadline).ok());
  (*client)->AddDhtNode(*Endpoint::Parse(m_node));

  auto info = metainfo::TorrentInfo::Parse(ReadFileOrDie(torrent));
  ASSERT_TRUE(info.ok());
  TorrentParams params;
  params.magnet = "magnet:?xt=urn:btih:" + info->WireInfoHash().ToHex();
  params.save_path = dir + "/btkit";
  auto added = (*client)->AddTorrent(params);
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent* t = *added;
  while (!t->complete() && absl::Now() < deadline) {
    ASSERT_TRUE((*client)->DoOneLoop(0.01).ok());
  }
  ASSERT_TRUE(t->complete())
      << "metadata " << t->has_metadata() << ", peers " << t->peers().size()
      << ", dht nodes " << (*client)->dht()->node().table().size();
  EXPECT_TRUE(interop::SameFiles(root + "/seed", dir + "/btkit"));
}

INSTANTIATE_TEST_SUITE_P(
    Directions, LibtorrentInteropTest,
    ::testing::ValuesIn(interop::TransferCases()),
    [](const ::testing::TestParamInfo<interop::TransferCase>& info) {
      return interop::TransferCaseName(info.param, "Libtorrent");
    });

}  // namespace
}  // namespace bt::client
