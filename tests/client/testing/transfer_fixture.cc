#include "tests/client/testing/transfer_fixture.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "metainfo/torrent_creator.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/files.h"

namespace bt::testing {
namespace {

namespace fs = std::filesystem;

void WriteRandom(const fs::path& p, size_t size, uint32_t seed) {
  fs::create_directories(p.parent_path());
  std::mt19937 rng(seed);
  std::string data(size, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  std::ofstream(p, std::ios::binary).write(data.data(), data.size());
}

}  // namespace

using client::Client;
using client::ClientOptions;
using client::Torrent;
using client::TorrentParams;
using protocol::EncryptionPolicy;

void TransferTest::SetUp() {
  root_ = fs::path(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR")
                                              : "/tmp") /
          absl::StrFormat("transfer_%d", ::getpid());
  fs::remove_all(root_);
  WriteRandom(root_ / "seed/payload/big.bin", 3 * 1024 * 1024 + 12345, 1);
  WriteRandom(root_ / "seed/payload/dir/small.bin", 70000, 2);
  WriteRandom(root_ / "seed/payload/dir/tiny.bin", 10, 3);
  metainfo::CreateOptions options;
  options.version = metainfo::TorrentVersion::kV1;
  options.piece_length = 64 * 1024;
  absl::StatusOr<std::string> torrent =
      metainfo::CreateTorrent((root_ / "seed/payload").string(), options);
  ASSERT_TRUE(torrent.ok()) << torrent.status();
  auto info = metainfo::TorrentInfo::Parse(*torrent);
  ASSERT_TRUE(info.ok()) << info.status();
  info_ = *info;
}

void TransferTest::TearDown() { fs::remove_all(root_); }

std::unique_ptr<Client> TransferTest::NewClient(
    EncryptionPolicy policy, const std::string& host,
    const std::function<void(ClientOptions&)>& tweak) {
  ClientOptions options = testing::LoopbackClientOptions();
  options.local_hosts = {host};
  options.encryption = policy;
  if (tweak) tweak(options);
  auto c = Client::Create(options);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? std::move(*c) : nullptr;
}

Torrent* TransferTest::Add(Client* c, const std::string& dir,
                           std::vector<Endpoint> peers) {
  TorrentParams p;
  p.info = std::make_shared<const metainfo::TorrentInfo>(info_);
  p.save_path = (root_ / dir).string();
  p.peers = std::move(peers);
  auto t = c->AddTorrent(p);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : nullptr;
}

Endpoint TransferTest::Local(const Client& c) {
  return *Endpoint::ParseAddress(c.options().local_hosts[0], c.port());
}

bool TransferTest::RunUntil(std::vector<Client*> clients,
                            const std::function<bool()>& done,
                            absl::Duration limit) {
  absl::Time deadline = absl::Now() + limit;
  while (absl::Now() < deadline) {
    for (Client* c : clients) EXPECT_TRUE(c->DoOneLoop(0.005).ok());
    if (done()) return true;
  }
  return false;
}

void TransferTest::UseV2(int64_t piece_length) {
  metainfo::CreateOptions options;
  options.version = metainfo::TorrentVersion::kV2;
  options.piece_length = piece_length;
  absl::StatusOr<std::string> bytes =
      metainfo::CreateTorrent((root_ / "seed/payload").string(), options);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<metainfo::TorrentInfo> v2 =
      metainfo::TorrentInfo::Parse(*bytes);
  ASSERT_TRUE(v2.ok()) << v2.status();
  info_ = *v2;
}

absl::Status TransferTest::WithRawPeer(
    Client& client,
    const std::function<absl::Status(protocol::testing::PeerWire&)>& talk) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::atomic<bool> done = false;
  absl::Status status;
  std::thread peer([&] {
    absl::StatusOr<int> fd = protocol::testing::ConnectLoopback(client.port());
    status = fd.status();
    if (fd.ok()) {
      protocol::testing::TorrentFacts facts;
      facts.info_hash = info_.WireInfoHash();
      facts.piece_length = static_cast<uint32_t>(info_.piece_length());
      facts.num_pieces = info_.num_pieces();
      facts.total_size = static_cast<uint64_t>(info_.total_size());
      protocol::testing::PeerWire wire(*fd, facts, deadline);
      status = wire.InitiatePlain();
      if (status.ok()) status = talk(wire);
    }
    done = true;
  });
  absl::Status loop;
  while (!done && loop.ok()) loop = client.DoOneLoop(0.005);
  peer.join();
  return loop.ok() ? status : loop;
}

void TransferTest::ExpectSameData(const std::string& dir) {
  for (const char* f :
       {"payload/big.bin", "payload/dir/small.bin", "payload/dir/tiny.bin"}) {
    EXPECT_EQ(ReadFileOrDie(root_ / dir / f), ReadFileOrDie(root_ / "seed" / f))
        << f;
  }
}

}  // namespace bt::testing
