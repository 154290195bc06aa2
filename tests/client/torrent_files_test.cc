// Torrent on a SimClient: what is fetched first — sequential download (in
// piece order with a small rarest-first window) and file priority levels —
// seen in the order our client requests pieces from a scripted seeder.
#include <string>
#include <vector>

#include "client/piece_picker.h"
#include "client/torrent.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/message.h"
#include "storage/file_priority.h"
#include "tests/client/testing/remote_peer.h"
#include "tests/client/testing/sim_client.h"

namespace bt::client::testing {
namespace {

using metainfo::testing::MemFile;
using metainfo::testing::Pattern;

constexpr int64_t kPiece = 32 * 1024;  // two blocks

// RequestedPieces lists the pieces `messages` request, in the order each
// is first asked for.
std::vector<uint32_t> RequestedPieces(const std::vector<SentMessage>& sent) {
  std::vector<uint32_t> order;
  for (const SentMessage& m : sent) {
    const protocol::Request* r = m.As<protocol::Request>();
    if (r && std::find(order.begin(), order.end(), r->piece) == order.end()) {
      order.push_back(r->piece);
    }
  }
  return order;
}

// DownloadFromSeed has a seeder serve `torrent` everything; returns the
// pieces in the order our client first requested them.
std::vector<uint32_t> DownloadFromSeed(SimClient& sim, Torrent& torrent,
                                       const TestTorrent& t) {
  RemotePeer seed = RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 1));
  seed.Send(protocol::HaveAll{});
  seed.Send(protocol::Unchoke{});
  seed.ServeUntilQuiet(t);
  return RequestedPieces(seed.all_read());
}

// ExpectSequential: each piece is requested no more than the window's
// width ahead of its place in the order.
void ExpectSequential(const std::vector<uint32_t>& order, uint32_t pieces) {
  ASSERT_EQ(order.size(), pieces);
  for (uint32_t k = 0; k < order.size(); ++k) {
    EXPECT_LT(order[k], k + PiecePicker::kDefaultSequentialWindow)
        << "piece " << order[k] << " requested as number " << k;
  }
}

TEST(TorrentSequentialTest, ParamsRequestPiecesInOrder) {
  SimClient sim;
  const TestTorrent t = MakeSingleFile(24 * kPiece + 1000);
  TorrentParams params = t.Params();
  params.sequential = true;
  Torrent& torrent = **sim.AddTorrent(params);
  EXPECT_TRUE(torrent.sequential());
  ExpectSequential(DownloadFromSeed(sim, torrent, t), 25);
  ASSERT_TRUE(torrent.complete());
  EXPECT_EQ(sim.disk_backend().Contents("/dl/single.bin"), t.content);
}

TEST(TorrentSequentialTest, SwitchedOnWhileRunning) {
  SimClient sim;
  const TestTorrent t = MakeSingleFile(24 * kPiece);
  Torrent& torrent = **sim.AddTorrent(t.Params());
  ASSERT_EQ(torrent.state(), TorrentState::kDownloading);
  EXPECT_FALSE(torrent.sequential());
  torrent.SetSequential(true);
  EXPECT_TRUE(torrent.sequential());
  ExpectSequential(DownloadFromSeed(sim, torrent, t), 24);
  ASSERT_TRUE(torrent.complete());
  EXPECT_EQ(sim.disk_backend().Contents("/dl/single.bin"), t.content);
}

// Three files of four pieces each: a low, b high, c normal.
TestTorrent ThreeFiles() {
  return MakeTestTorrent({
      MemFile{{"a.bin"}, Pattern(4 * kPiece, 1), ""},
      MemFile{{"b.bin"}, Pattern(4 * kPiece, 2), ""},
      MemFile{{"c.bin"}, Pattern(4 * kPiece, 3), ""},
  });
}

// ExpectLevelOrder: b's pieces (4-7), then c's (8-11), then a's (0-3).
void ExpectLevelOrder(const std::vector<uint32_t>& order) {
  ASSERT_EQ(order.size(), 12u);
  for (size_t k = 0; k < 12; ++k) {
    const uint32_t first = k < 4 ? 4 : k < 8 ? 8 : 0;
    EXPECT_GE(order[k], first) << k;
    EXPECT_LT(order[k], first + 4) << k;
  }
}

TEST(TorrentPriorityTest, LevelsFromParamsDecideTheOrder) {
  SimClient sim;
  const TestTorrent t = ThreeFiles();
  TorrentParams params = t.Params();
  params.file_priorities = {{0, storage::kFilePriorityLow},
                            {1, storage::kFilePriorityHigh}};
  Torrent& torrent = **sim.AddTorrent(params);
  EXPECT_EQ(torrent.file_priority(0), storage::kFilePriorityLow);
  EXPECT_EQ(torrent.file_priority(1), storage::kFilePriorityHigh);
  EXPECT_EQ(torrent.file_priority(2), storage::kFilePriorityNormal);
  ExpectLevelOrder(DownloadFromSeed(sim, torrent, t));
  ASSERT_TRUE(torrent.complete());
  EXPECT_EQ(sim.disk_backend().Contents("/dl/t/a.bin"), Pattern(4 * kPiece, 1));
}

TEST(TorrentPriorityTest, LevelsSetWhileRunningDecideTheOrder) {
  SimClient sim;
  const TestTorrent t = ThreeFiles();
  Torrent& torrent = **sim.AddTorrent(t.Params());
  ASSERT_TRUE(torrent.SetFilePriority(0, storage::kFilePriorityLow).ok());
  ASSERT_TRUE(torrent.SetFilePriority(1, storage::kFilePriorityHigh).ok());
  ExpectLevelOrder(DownloadFromSeed(sim, torrent, t));
  ASSERT_TRUE(torrent.complete());
}

TEST(TorrentPriorityTest, SkippedFilesAreNotFetchedWhateverTheOtherLevels) {
  SimClient sim;
  const TestTorrent t = ThreeFiles();
  TorrentParams params = t.Params();
  params.file_priorities = {{0, storage::kFilePriorityHigh},
                            {1, storage::kFilePrioritySkip},
                            {2, storage::kFilePriorityLow}};
  Torrent& torrent = **sim.AddTorrent(params);
  const std::vector<uint32_t> order = DownloadFromSeed(sim, torrent, t);
  EXPECT_THAT(order, ::testing::SizeIs(8));
  for (uint32_t piece : order) EXPECT_TRUE(piece < 4 || piece >= 8) << piece;
  ASSERT_TRUE(torrent.complete());
  EXPECT_FALSE(sim.disk_backend().Exists("/dl/t/b.bin"));
}

TEST(TorrentPriorityTest, AFileIndexPastTheEndIsRefused) {
  SimClient sim;
  TorrentParams params = ThreeFiles().Params();
  params.file_priorities = {{3, storage::kFilePriorityHigh}};
  absl::StatusOr<Torrent*> added = sim.AddTorrent(params);
  EXPECT_EQ(added.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bt::client::testing
