// Torrent::MoveStorage during a download on a SimClient (in memory and on
// real files), and Client::RemoveTorrent with delete_data on real files,
// hostile names and the user's own files included.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "client/client.h"
#include "client/torrent.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/message.h"
#include "storage/posix_file_backend.h"
#include "storage/resume_data.h"
#include "tests/client/testing/remote_peer.h"
#include "tests/client/testing/sim_client.h"
#include "tests/storage/backend_env.h"

namespace bt::client::testing {
namespace {

using metainfo::testing::MemFile;
using metainfo::testing::Pattern;
using storage::testing::BackendEnv;
using ::testing::HasSubstr;

std::vector<MemFile> Files() {
  return {{{"a.bin"}, Pattern(100000, 1), ""},
          {{"sub", "b.bin"}, Pattern(70000, 2), ""},
          {{"c.bin"}, Pattern(50000, 3), ""}};
}

// A download on a SimClient, its files on the in-memory disk or (with
// `real`) on real files in a temporary directory.
class MoveTest : public ::testing::TestWithParam<bool> {
 protected:
  MoveTest()
      : env_(GetParam()),
        t_(MakeTestTorrent(Files(), 32 * 1024, metainfo::testing::Version::kV1,
                           "t")) {
    sim_.on_event = [this](const Event& e) {
      if (e.type == EventType::kFileWrite) writes_.push_back(e.path);
      if (e.type == EventType::kStorageMoved ||
          e.type == EventType::kStorageMoveFailed) {
        events_.push_back(e);
      }
    };
  }
  storage::FileBackend* backend() {
    return env_.real()
               ? env_.backend()
               : static_cast<storage::FileBackend*>(&sim_.disk_backend());
  }
  std::optional<std::string> Contents(const std::string& path) {
    return env_.real() ? env_.Contents(path)
                       : sim_.disk_backend().Contents(path);
  }
  // Params: the torrent in old_, its resume data under the state dir.
  TorrentParams Params() {
    TorrentParams p = t_.Params();
    p.save_path = old_;
    p.resume_path = env_.root() + "/state/t.resume";
    p.backend = backend();
    return p;
  }
  Torrent* Add() {
    absl::StatusOr<Torrent*> added = sim_.AddTorrent(Params());
    EXPECT_TRUE(added.ok()) << added.status();
    return added.ok() ? *added : nullptr;
  }
  // Seed connects a peer that has everything and unchokes us.
  RemotePeer Seed(Torrent& t) {
    RemotePeer seed = RemotePeer::ConnectIn(sim_, t, Addr(10, 0, 0, 1));
    seed.Send(protocol::HaveAll{});
    seed.Send(protocol::Unchoke{});
    return seed;
  }
  // ServeSome answers at most `max` of the requests our client has sent
  // (the rest wait in backlog_), delivering the blocks without running the
  // disk jobs they cause.
  void ServeSome(RemotePeer& seed, size_t max) {
    for (const SentMessage& m : seed.Read()) {
      if (const auto* r = m.As<protocol::Request>()) backlog_.push_back(*r);
    }
    std::string out;
    for (; max > 0 && !backlog_.empty(); --max) {
      const protocol::Request r = backlog_.front();
      backlog_.erase(backlog_.begin());
      protocol::AppendMessage(
          protocol::Piece{r.piece, r.begin,
                          t_.Block(r.piece, r.begin, r.length)},
          &out);
    }
    seed.transport()->Deliver(out);
  }
  // ServeRest answers everything until the download is done.
  void ServeRest(RemotePeer& seed) {
    ServeSome(seed, SIZE_MAX);
    sim_.RunPending();
    seed.ServeUntilQuiet(t_);
  }
  void ExpectComplete(const std::string& dir) {
    for (const MemFile& f : Files()) {
      const std::string path = dir + "/t/" + absl::StrJoin(f.path, "/");
      EXPECT_EQ(Contents(path), f.data) << path;
    }
  }
  void ExpectNoneIn(const std::string& dir) {
    for (const std::string& f : {"t/a.bin", "t/sub/b.bin", "t/c.bin"}) {
      EXPECT_FALSE(Contents(dir + "/" + f)) << dir << "/" << f;
    }
  }

  BackendEnv env_;
  SimClient sim_;
  TestTorrent t_;
  std::vector<Event> events_;
  std::vector<std::string> writes_;  // paths of file_write events
  std::vector<protocol::Request> backlog_;
  std::string old_ = env_.root() + "/old";
  std::string new_ = env_.root() + "/new";
};

INSTANTIATE_TEST_SUITE_P(Backends, MoveTest, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "RealFiles" : "InMemory";
                         });

TEST_P(MoveTest, AMoveDuringADownloadFinishesInTheNewPlace) {
  Torrent* t = Add();
  ASSERT_NE(t, nullptr);
  RemotePeer seed = Seed(*t);
  ServeSome(seed, 4);
  sim_.RunPending();
  ASSERT_FALSE(writes_.empty());
  ASSERT_EQ(writes_[0].rfind(old_ + "/", 0), 0u) << writes_[0];
  writes_.clear();
  // More blocks arrive and are read; their writes are queued, not done.
  ServeSome(seed, 4);
  ASSERT_EQ(seed.transport()->input_pending(), 0u);
  ASSERT_TRUE(writes_.empty());

  absl::Status moved = t->MoveStorage(new_);
  ASSERT_TRUE(moved.ok()) << moved;
  EXPECT_EQ(t->save_path(), new_);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].type, EventType::kStorageMoved);
  EXPECT_EQ(events_[0].path, new_);
  EXPECT_EQ(events_[0].reason, old_);
  // The resume data saved after the move names the new place.
  auto bytes =
      backend()->ReadWholeFile(env_.root() + "/state/t.resume", 1 << 20);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto rd = storage::DecodeResumeData(*bytes);
  ASSERT_TRUE(rd.ok()) << rd.status();
  EXPECT_EQ(rd->save_path, new_);

  sim_.RunPending();  // the queued writes land in the new place
  EXPECT_FALSE(writes_.empty()) << "no write was queued at the move";
  ServeRest(seed);
  EXPECT_TRUE(t->complete());
  EXPECT_EQ(t->state(), TorrentState::kSeeding);
  ExpectComplete(new_);
  ExpectNoneIn(old_);
  for (const std::string& w : writes_) {
    EXPECT_EQ(w.rfind(new_ + "/", 0), 0u) << "written after the move: " << w;
  }
  // Nothing came back to the old place, not even a directory.
  if (env_.real()) EXPECT_FALSE(std::filesystem::exists(old_ + "/t"));
  EXPECT_EQ(t->HashCheck(), absl::OkStatus());
  EXPECT_TRUE(t->complete());
}

TEST_P(MoveTest, AFailedMoveLeavesEverythingInTheOldPlace) {
  Torrent* t = Add();
  ASSERT_NE(t, nullptr);
  RemotePeer seed = Seed(*t);
  ServeSome(seed, 4);
  sim_.RunPending();
  ASSERT_FALSE(writes_.empty());
  ASSERT_FALSE(t->complete());
  // The destination already holds other files at the torrent's paths.
  for (const std::string& f : {"t/a.bin", "t/sub/b.bin", "t/c.bin"}) {
    if (env_.real()) {
      env_.Put(new_ + "/" + f, "not the torrent's");
    } else {
      sim_.disk_backend().SetContents(new_ + "/" + f, "not the torrent's");
    }
  }
  absl::Status moved = t->MoveStorage(new_);
  EXPECT_EQ(moved.code(), absl::StatusCode::kAlreadyExists) << moved;
  EXPECT_THAT(moved.message(), HasSubstr(new_ + "/t/"));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].type, EventType::kStorageMoveFailed);
  EXPECT_EQ(events_[0].path, new_);
  EXPECT_EQ(t->save_path(), old_);
  EXPECT_EQ(t->state(), TorrentState::kDownloading);

  ServeRest(seed);
  EXPECT_TRUE(t->complete());
  ExpectComplete(old_);
  for (const std::string& f : {"t/a.bin", "t/sub/b.bin", "t/c.bin"}) {
    EXPECT_EQ(Contents(new_ + "/" + f), "not the torrent's") << f;
  }
}

// The client state still names the old directory (saved before the
// move), the resume data the new one: the restarted torrent follows its
// data instead of finding nothing and downloading it all again.
TEST_P(MoveTest, ARestartFromBeforeTheMoveFindsTheDataMoved) {
  Torrent* t = Add();
  ASSERT_NE(t, nullptr);
  RemotePeer seed = Seed(*t);
  ServeRest(seed);
  ASSERT_TRUE(t->complete());
  ASSERT_TRUE(t->MoveStorage(new_).ok());
  ASSERT_TRUE(t->Stop().ok());

  SimClient again;
  TorrentParams p = Params();  // old_: what the client state said
  p.start = false;
  int checked = 0;
  again.on_event = [&](const Event& e) {
    checked += e.type == EventType::kPieceHashPass ||
               e.type == EventType::kPieceHashFail;
  };
  absl::StatusOr<Torrent*> restarted = again.AddTorrent(p);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ASSERT_TRUE((*restarted)->LoadState().ok());
  EXPECT_EQ((*restarted)->save_path(), new_);
  EXPECT_TRUE((*restarted)->complete());
  EXPECT_EQ(checked, 0) << "the resume data was trusted";
  ExpectComplete(new_);
  ExpectNoneIn(old_);
}

// Resume data naming a place that holds nothing is not followed: the
// user moved the files by hand and added the torrent where they are now.
TEST_P(MoveTest, ResumeDataNamingAnEmptyPlaceIsNotFollowed) {
  Torrent* t = Add();
  ASSERT_NE(t, nullptr);
  RemotePeer seed = Seed(*t);
  ServeRest(seed);
  ASSERT_TRUE(t->Stop().ok());  // the resume data names old_
  for (const std::string& f : {"t/a.bin", "t/sub/b.bin", "t/c.bin"}) {
    ASSERT_TRUE(backend()->MoveFile(old_ + "/" + f, new_ + "/" + f).ok());
  }

  SimClient again;
  TorrentParams p = Params();
  p.save_path = new_;
  p.start = false;
  absl::StatusOr<Torrent*> restarted = again.AddTorrent(p);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ASSERT_TRUE((*restarted)->LoadState().ok());
  EXPECT_EQ((*restarted)->save_path(), new_);
  EXPECT_TRUE((*restarted)->complete());
  ExpectComplete(new_);
}

// --- remove with data ----------------------------------------------------

// A Client on loopback with no DHT and a torrent whose files (from
// `files`) are already complete under `save`.
class RemoveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClientOptions options;
    options.local_hosts = {"127.0.0.1"};
    options.local_ports = {0};
    options.enable_dht = false;
    options.enable_lsd = false;
    auto c = Client::Create(options);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = *std::move(c);
  }
  Torrent* AddComplete(const TestTorrent& t, const std::string& save) {
    for (const metainfo::FileEntry& f : t.info->files()) {
      if (f.pad()) continue;
      env_.Put(save + "/" + f.PathString(), t.content.substr(f.offset, f.size));
    }
    TorrentParams p = t.Params();
    p.save_path = save;
    p.resume_path = env_.root() + "/state/t.resume";
    auto added = client_->AddTorrent(p);
    EXPECT_TRUE(added.ok()) << added.status();
    if (!added.ok()) return nullptr;
    EXPECT_TRUE((*added)->complete());
    return *added;
  }

  BackendEnv env_{/*real=*/true};  // for its directory and file helpers
  std::unique_ptr<Client> client_;
};

TEST_F(RemoveTest, DeleteDataTakesTheTorrentsFilesAndNothingElse) {
  const TestTorrent t =
      MakeTestTorrent(Files(), 32 * 1024, metainfo::testing::Version::kV1, "t");
  const std::string save = env_.root() + "/dl";
  env_.Put(save + "/mine.txt", "the user's file");
  env_.Put(save + "/other/keep.bin", "another download");
  Torrent* torrent = AddComplete(t, save);
  ASSERT_NE(torrent, nullptr);
  env_.Put(save + "/t/sub/notes.txt", "the user's notes in its directory");

  ASSERT_TRUE(client_->RemoveTorrent(torrent, /*delete_data=*/true).ok());
  EXPECT_TRUE(client_->torrents().empty());
  EXPECT_FALSE(std::filesystem::exists(save + "/t/a.bin"));
  EXPECT_FALSE(std::filesystem::exists(save + "/t/sub/b.bin"));
  EXPECT_FALSE(std::filesystem::exists(save + "/t/c.bin"));
  EXPECT_FALSE(std::filesystem::exists(env_.root() + "/state/t.resume"));
  EXPECT_EQ(env_.Contents(save + "/mine.txt"), "the user's file");
  EXPECT_EQ(env_.Contents(save + "/other/keep.bin"), "another download");
  EXPECT_EQ(env_.Contents(save + "/t/sub/notes.txt"),
            "the user's notes in its directory");
}

TEST_F(RemoveTest, DeleteDataRemovesTheDirectoriesItLeftEmpty) {
  const TestTorrent t =
      MakeTestTorrent(Files(), 32 * 1024, metainfo::testing::Version::kV1, "t");
  const std::string save = env_.root() + "/dl";
  Torrent* torrent = AddComplete(t, save);
  ASSERT_NE(torrent, nullptr);
  ASSERT_TRUE(client_->RemoveTorrent(torrent, true).ok());
  EXPECT_FALSE(std::filesystem::exists(save + "/t"));
  EXPECT_TRUE(std::filesystem::exists(save)) << "the save path stays";
}

TEST_F(RemoveTest, WithoutDeleteDataTheFilesStay) {
  const TestTorrent t =
      MakeTestTorrent(Files(), 32 * 1024, metainfo::testing::Version::kV1, "t");
  const std::string save = env_.root() + "/dl";
  Torrent* torrent = AddComplete(t, save);
  ASSERT_NE(torrent, nullptr);
  ASSERT_TRUE(client_->RemoveTorrent(torrent).ok());
  EXPECT_EQ(env_.Contents(save + "/t/a.bin"), Files()[0].data);
}

// Names that try to climb out of the save path are repaired when the
// metainfo is parsed ("..": dropped); deleting stays inside.
TEST_F(RemoveTest, AHostileTorrentDeletesNothingOutsideItsSavePath) {
  const TestTorrent t = MakeTestTorrent(
      {{{"..", "..", "escape.bin"}, Pattern(40000, 5), ""},
       {{"x", "..", "..", "..", "up.bin"}, Pattern(30000, 6), ""}},
      32 * 1024, metainfo::testing::Version::kV1, "t");
  const std::string save = env_.root() + "/a/dl";
  for (const metainfo::FileEntry& f : t.info->files()) {
    EXPECT_EQ(f.PathString().find(".."), std::string::npos) << f.PathString();
  }
  const std::vector<std::string> outside = {
      env_.root() + "/a/escape.bin", env_.root() + "/escape.bin",
      env_.root() + "/up.bin",       env_.root() + "/a/up.bin",
      env_.root() + "/a/dl/up.bin",  env_.root() + "/a/dl/escape.bin"};
  for (const std::string& p : outside) env_.Put(p, "keep " + p);
  Torrent* torrent = AddComplete(t, save);
  ASSERT_NE(torrent, nullptr);
  ASSERT_TRUE(client_->RemoveTorrent(torrent, true).ok());
  for (const std::string& p : outside) EXPECT_EQ(env_.Contents(p), "keep " + p);
  for (const metainfo::FileEntry& f : t.info->files()) {
    EXPECT_FALSE(std::filesystem::exists(save + "/" + f.PathString()))
        << f.PathString();
  }
}

}  // namespace
}  // namespace bt::client::testing
