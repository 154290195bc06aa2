// What a btkit seed serves, and how, to a client or a raw peer over
// loopback: plaintext peers straight from its files with send_from_file,
// BEP 52 piece-layer and block hashes with their proofs, nothing while
// paused (then the data, with the leecher's file events), and only the
// allowed-fast pieces to a peer it chokes.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/sha.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_info.h"
#include "protocol/allowed_fast.h"
#include "protocol/merkle_hashes.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/client/testing/transfer_fixture.h"
#include "tests/protocol/interop_driver.h"
#include "tests/testing/files.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;
using ::bt::testing::ReadFileOrDie;
using ::bt::testing::TransferTest;
using protocol::EncryptionPolicy;

// A seeder serves a plaintext peer from memory by default (each block a
// file_read) and, with send_from_file, straight from its files (sendfile:
// no file_read); an encrypted peer always from memory.
TEST_F(TransferTest, SendFromFileServesPlaintextPeersWithoutReads) {
  struct Case {
    bool send_from_file;
    EncryptionPolicy policy;
    bool reads_expected;
  };
  for (const Case& c : {Case{false, EncryptionPolicy::kDisabled, true},
                        Case{true, EncryptionPolicy::kDisabled, false},
                        Case{true, EncryptionPolicy::kForced, true}}) {
    SCOPED_TRACE(::testing::Message()
                 << "send_from_file " << c.send_from_file << ", policy "
                 << static_cast<int>(c.policy));
    // Over TCP (uTP streams never send from files).
    auto seeder = NewClient(c.policy, "127.0.0.1", [&](ClientOptions& o) {
      o.transport = PeerTransport::kTcp;
      o.send_from_file = c.send_from_file;
    });
    auto leecher = NewClient(c.policy, "127.0.0.1", [](ClientOptions& o) {
      o.transport = PeerTransport::kTcp;
    });
    Torrent* seed = Add(seeder.get(), "seed");
    ASSERT_TRUE(seed);
    // Reads once the peer is there (not the seed's own check).
    bool serving = false;
    int64_t reads = 0;
    seeder->OnEvent(EventType::kPeerConnect, [&](const Event&) {
      serving = true;
      return true;
    });
    seeder->OnEvent(EventType::kFileRead, [&](const Event& e) {
      if (serving) reads += e.length;
      return true;
    });
    fs::remove_all(root_ / "dl");
    Torrent* dl = Add(leecher.get(), "dl", {Local(*seeder)});
    ASSERT_TRUE(dl);
    ASSERT_TRUE(RunUntil({seeder.get(), leecher.get()},
                         [&] { return dl->complete(); }));
    ExpectSameData("dl");
    if (c.reads_expected) {
      EXPECT_GE(reads, info_.total_size());
    } else {
      // Blocks that straddle files, and the tail of the seed's own check
      // (still running when the peer comes), are read as bytes.
      EXPECT_LT(reads, info_.total_size() / 4);
    }
  }
}

// A BEP 52 peer asks a seed for piece-layer hashes, and, once unchoked,
// for the block hashes of a piece (as after that piece failed its check);
// both answers carry the proof up to the file's pieces root.
TEST_F(TransferTest, SeedAnswersPieceLayerAndBlockHashRequests) {
  ASSERT_NO_FATAL_FAILURE(UseV2(64 * 1024));  // 4 blocks a piece
  auto seeder = NewClient(EncryptionPolicy::kEnabled);
  ASSERT_TRUE(Add(seeder.get(), "seed"));
  // big.bin: 3 MiB + 12345 bytes, 49 pieces in a tree 64 wide.
  size_t big = 0;
  while (info_.files()[big].path.back() != "big.bin") ++big;
  const Sha256Hash root = *info_.files()[big].pieces_root;

  absl::StatusOr<std::string> layer, choked_blocks, blocks, past_end;
  absl::Status talked = WithRawPeer(*seeder, [&](auto& wire) {
    layer = wire.RequestHashes({root, 2, 0, 64, 5});
    choked_blocks = wire.RequestHashes({root, 0, 48 * 4, 4, 7});
    absl::Status unchoked = wire.AwaitUnchoke();
    if (!unchoked.ok()) return unchoked;
    blocks = wire.RequestHashes({root, 0, 48 * 4, 4, 7});
    past_end = wire.RequestHashes({root, 0, 60 * 4, 4, 7});
    return absl::OkStatus();
  });
  ASSERT_TRUE(talked.ok()) << talked;

  ASSERT_TRUE(layer.ok()) << layer.status();
  absl::StatusOr<std::vector<Sha256Hash>> got =
      protocol::VerifyHashes(protocol::Hashes{{root, 2, 0, 64, 5}, *layer});
  ASSERT_TRUE(got.ok()) << got.status();
  absl::Span<const Sha256Hash> want = info_.piece_layer(big);
  EXPECT_TRUE(std::equal(want.begin(), want.end(), got->begin()));

  // Block hashes cost a piece read: a peer we choke gets none.
  EXPECT_EQ(choked_blocks.status().code(), absl::StatusCode::kUnavailable);
  // The last piece of big.bin: 12345 bytes, one short block and three
  // zero leaves.
  ASSERT_TRUE(blocks.ok()) << blocks.status();
  got = protocol::VerifyHashes(
      protocol::Hashes{{root, 0, 48 * 4, 4, 7}, *blocks});
  ASSERT_TRUE(got.ok()) << got.status();
  const std::string data = ReadFileOrDie(root_ / "seed/payload/big.bin");
  EXPECT_EQ((*got)[0],
            Sha256(AsBytes(std::string_view(data).substr(48 << 16))));
  EXPECT_EQ((*got)[1], Sha256Hash());
  // Blocks past the file's pieces are not ours to vouch for.
  EXPECT_EQ(past_end.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(TransferTest, FileEventsAndPausedTorrentServesNothing) {
  auto seeder = NewClient(EncryptionPolicy::kEnabled);
  auto leecher = NewClient(EncryptionPolicy::kEnabled);
  Torrent* seed = Add(seeder.get(), "seed");
  ASSERT_TRUE(seed);
  ASSERT_TRUE(seed->Pause().ok());
  Torrent* dl = Add(leecher.get(), "dl", {Local(*seeder)});
  int64_t written = 0;
  int opened_for_write = 0;
  leecher->OnEvent(EventType::kFileWrite, [&](const Event& e) {
    written += e.length;
    return true;
  });
  leecher->OnEvent(EventType::kFileOpen, [&](const Event& e) {
    opened_for_write += e.mode == 'w';
    return true;
  });
  for (int i = 0; i < 300; ++i) {
    (void)seeder->DoOneLoop(0.005);
    (void)leecher->DoOneLoop(0.005);
  }
  EXPECT_EQ(dl->pieces_have(), 0u);
  ASSERT_TRUE(seed->Start().ok());
  ASSERT_TRUE(
      RunUntil({seeder.get(), leecher.get()}, [&] { return dl->complete(); }));
  EXPECT_EQ(written, info_.total_size());
  EXPECT_EQ(opened_for_write, 3);
  ExpectSameData("dl");
}

TEST_F(TransferTest, ChokedPeerGetsOnlyItsAllowedFastPieces) {
  ClientOptions options = testing::LoopbackClientOptions();
  options.upload_slots = 0;  // the seeder never unchokes anyone
  auto seeder = Client::Create(options);
  ASSERT_TRUE(seeder.ok());
  auto leecher = NewClient(EncryptionPolicy::kEnabled);
  ASSERT_TRUE(Add(seeder->get(), "seed"));
  Torrent* dl = Add(leecher.get(), "dl", {Local(**seeder)});
  std::vector<uint32_t> offered;
  leecher->OnEvent(EventType::kPacketIncomingAllowedFast, [&](const Event& e) {
    offered.push_back(e.index);
    return true;
  });
  std::vector<uint32_t> expected = protocol::AllowedFastSet(
      info_.WireInfoHash(), {127, 0, 0, 1}, info_.num_pieces(), 10);
  RunUntil({seeder->get(), leecher.get()},
           [&] { return dl->pieces_have() == expected.size(); });
  RunUntil(
      {seeder->get(), leecher.get()}, [] { return false; },
      absl::Milliseconds(500));
  EXPECT_EQ(offered, expected);
  EXPECT_EQ(dl->pieces_have(), expected.size());
  for (uint32_t piece : expected) EXPECT_TRUE(dl->have().Get(piece));
}

}  // namespace
}  // namespace bt::client
