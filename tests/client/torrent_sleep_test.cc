// Torrent on a SimClient letting its storage go while it idles
// (Torrent::storage_asleep) and waking it for whatever needs the disk: a
// peer that connects and asks for blocks, a file priority, resume data,
// a stop and start, a check.
#include <string>
#include <vector>

#include "client/torrent.h"
#include "gtest/gtest.h"
#include "protocol/message.h"
#include "storage/file_priority.h"
#include "storage/resume_data.h"
#include "tests/client/testing/remote_peer.h"
#include "tests/client/testing/sim_client.h"

namespace bt::client::testing {
namespace {

using metainfo::testing::MemFile;
using metainfo::testing::Pattern;

constexpr uint32_t kBlock = 16 * 1024;

// A seeding torrent of `t`, its data on the simulated disk.
Torrent& Seed(SimClient& sim, const TestTorrent& t,
              const std::string& resume_path = "") {
  t.PutOnDisk(sim.disk_backend());
  TorrentParams p = t.Params();
  p.resume_path = resume_path;
  Torrent& torrent = **sim.AddTorrent(p);
  EXPECT_EQ(torrent.state(), TorrentState::kSeeding);
  return torrent;
}

TEST(StorageSleepTest, AnIdleSeedSleepsAndAPeerWakesItForBlocks) {
  SimClient sim;
  const TestTorrent t = MakeSingleFile(4 * 32 * 1024);
  Torrent& torrent = Seed(sim, t);
  sim.Advance(absl::Seconds(1));
  ASSERT_TRUE(torrent.storage_asleep());
  EXPECT_TRUE(torrent.has_metadata());
  EXPECT_EQ(torrent.pieces_have(), t.info->num_pieces());

  RemotePeer peer = RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 1));
  EXPECT_FALSE(torrent.storage_asleep());
  peer.Send(protocol::HaveNone{});
  peer.Send(protocol::Interested{});
  sim.Advance(absl::Seconds(1));  // the choker unchokes it
  peer.Read();
  peer.Send(protocol::Request{2, kBlock, kBlock});
  sim.RunPending();
  std::vector<std::string> blocks;
  for (const SentMessage& m : peer.Read()) {
    if (const auto* p = m.As<protocol::Piece>()) blocks.emplace_back(p->data);
  }
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0], t.Block(2, kBlock, kBlock));
  EXPECT_FALSE(torrent.storage_asleep());  // while the peer stays

  peer.transport()->DeliverEof();
  sim.Advance(absl::Seconds(2));
  EXPECT_EQ(torrent.connection_count(), 0u);
  EXPECT_TRUE(torrent.storage_asleep());
}

TEST(StorageSleepTest, FilePrioritiesAndResumeDataOutlastSleep) {
  constexpr char kResume[] = "/state/t.resume";
  SimClient sim;
  const TestTorrent t =
      MakeTestTorrent({MemFile{{"a.bin"}, Pattern(70000, 1), ""},
                       MemFile{{"b.bin"}, Pattern(50000, 2), ""}});
  Torrent& torrent = Seed(sim, t, kResume);
  ASSERT_TRUE(torrent.SetFilePriority(1, storage::kFilePrioritySkip).ok());
  sim.Advance(absl::Seconds(1));
  ASSERT_TRUE(torrent.storage_asleep());
  EXPECT_EQ(torrent.file_priority(0), storage::kFilePriorityNormal);
  EXPECT_EQ(torrent.file_priority(1), storage::kFilePrioritySkip);

  // Resume data wakes it and says what it said awake.
  ASSERT_TRUE(torrent.SaveResumeData("/state/copy.resume").ok());
  absl::StatusOr<storage::ResumeData> rd = storage::DecodeResumeData(
      *sim.disk_backend().Contents("/state/copy.resume"));
  ASSERT_TRUE(rd.ok()) << rd.status();
  EXPECT_TRUE(rd->have.All());
  ASSERT_EQ(rd->files.size(), 2u);
  EXPECT_EQ(rd->files[1].priority, storage::kFilePrioritySkip);

  sim.Advance(absl::Seconds(1));
  ASSERT_TRUE(torrent.storage_asleep());
  ASSERT_TRUE(torrent.SetFilePriority(1, storage::kFilePriorityNormal).ok());
  EXPECT_EQ(torrent.file_priority(1), storage::kFilePriorityNormal);
  EXPECT_EQ(torrent.state(), TorrentState::kSeeding);
}

TEST(StorageSleepTest, StopStartAndRecheckWakeIt) {
  SimClient sim;
  const TestTorrent t = MakeSingleFile(3 * 32 * 1024);
  Torrent& torrent = Seed(sim, t);
  sim.Advance(absl::Seconds(1));
  ASSERT_TRUE(torrent.storage_asleep());
  ASSERT_TRUE(torrent.Stop().ok());
  EXPECT_TRUE(torrent.storage_asleep());
  ASSERT_TRUE(torrent.Start().ok());
  EXPECT_EQ(torrent.state(), TorrentState::kSeeding);

  sim.Advance(absl::Seconds(1));
  ASSERT_TRUE(torrent.storage_asleep());
  // A piece damaged on disk while asleep is found by a check.
  std::string damaged = t.content;
  damaged[32 * 1024 + 5] ^= 1;
  sim.disk_backend().SetContents("/dl/single.bin", damaged);
  ASSERT_TRUE(torrent.HashCheck().ok());
  sim.RunPending();
  EXPECT_EQ(torrent.pieces_have(), t.info->num_pieces() - 1);
  EXPECT_EQ(torrent.state(), TorrentState::kDownloading);
  sim.Advance(absl::Seconds(1));
  EXPECT_FALSE(torrent.storage_asleep());  // downloading
}

}  // namespace
}  // namespace bt::client::testing
