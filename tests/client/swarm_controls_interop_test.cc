// The swarm controls of btkit's client against libtorrent 2.0
// (python3-libtorrent) on loopback: file priorities, a BEP 53 `so=`
// selection on a magnet link, BEP 21 upload_only (two seeds; a partial
// seed and a downloader), moving the storage mid-download and removing a
// torrent with its data. Every copy is compared byte for byte with the
// source.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_info.h"
#include "protocol/extension_handshake.h"
#include "storage/file_priority.h"
#include "tests/client/interop_support.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/files.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;
using ::bt::testing::ReadFileOrDie;

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kPeerScript[] = "tests/client/libtorrent_peer.py";

class SwarmControlsInteropTest : public ::testing::Test {
 protected:
  // The shared payload (interop::WritePayload) and its torrent, made once.
  static void SetUpTestSuite() {
    if (!fs::exists(kPython) || !root_.empty()) return;
    root_ = testing::TempDir("client_controls_interop");
    interop::WritePayload(root_ + "/seed");
    torrent_path_ = root_ + "/payload.torrent";
    auto ih = interop::WriteTorrent(root_ + "/seed", torrent_path_, {});
    ASSERT_TRUE(ih.ok()) << ih.status();
  }

  void SetUp() override {
    if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
    dir_ = root_ + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_);
    auto client = Client::Create(testing::LoopbackClientOptions());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  // StartLibtorrentSeed runs libtorrent seeding the payload (with `extra`
  // flags) and returns its port, or 0 after recording a failure.
  uint16_t StartLibtorrentSeed(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {
        kPython,         kPeerScript,       "seed",   torrent_path_,
        root_ + "/seed", dir_ + "/lt_port", "enabled"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto lt = testing::Subprocess::Start(argv);
    EXPECT_TRUE(lt.ok()) << lt.status();
    if (!lt.ok()) return 0;
    lt_ = std::move(*lt);
    auto port_text = testing::WaitForFile(dir_ + "/lt_port", deadline_);
    EXPECT_TRUE(port_text.ok()) << port_text.status();
    uint32_t port = 0;
    if (!port_text.ok() || !absl::SimpleAtoi(*port_text, &port)) return 0;
    return static_cast<uint16_t>(port);
  }

  // Add adds the payload's torrent, saved under `save_path`, with
  // libtorrent at `port` as its peer; null after recording a failure.
  Torrent* Add(const std::string& save_path, uint16_t port,
               std::vector<std::pair<size_t, int>> priorities = {}) {
    TorrentParams params;
    params.torrent_path = torrent_path_;
    params.save_path = save_path;
    params.peers = {*Endpoint::ParseAddress("127.0.0.1", port)};
    params.file_priorities = std::move(priorities);
    auto added = client_->AddTorrent(params);
    EXPECT_TRUE(added.ok()) << added.status();
    return added.ok() ? *added : nullptr;
  }

  // FileIndex is the torrent's index of the payload file named `name`.
  static size_t FileIndex(const metainfo::TorrentInfo& info,
                          const std::string& name) {
    const auto& files = info.files();
    for (size_t i = 0; i < files.size(); ++i) {
      if (files[i].path.back() == name) return i;
    }
    ADD_FAILURE() << "no file " << name;
    return 0;
  }

  // FirstPiece and LastPiece bound the pieces file `i` touches.
  static uint32_t FirstPiece(const metainfo::TorrentInfo& info, size_t i) {
    return info.files()[i].offset / info.piece_length();
  }
  static uint32_t LastPiece(const metainfo::TorrentInfo& info, size_t i) {
    const metainfo::FileEntry& f = info.files()[i];
    return (f.offset + f.size - 1) / info.piece_length();
  }

  // RegularFiles lists the regular files under `dir`, relative to it.
  static std::vector<std::string> RegularFiles(const std::string& dir) {
    std::vector<std::string> found;
    if (!fs::exists(dir)) return found;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file()) {
        found.push_back(fs::relative(e.path(), dir).string());
      }
    }
    std::sort(found.begin(), found.end());
    return found;
  }

  static std::string root_;
  static std::string torrent_path_;
  std::string dir_;
  const absl::Time deadline_ = absl::Now() + absl::Seconds(120);
  std::unique_ptr<Client> client_;
  std::unique_ptr<testing::Subprocess> lt_;
};

std::string SwarmControlsInteropTest::root_;
std::string SwarmControlsInteropTest::torrent_path_;

// Priorities: the last file high, the first low, the middle normal. Every
// piece of the high file is verified before the low file's pieces, give
// or take the requests in flight when the high ones run out.
TEST_F(SwarmControlsInteropTest, FilePrioritiesOrderTheDownload) {
  const uint16_t port = StartLibtorrentSeed();
  ASSERT_NE(port, 0);
  auto info = metainfo::TorrentInfo::Parse(ReadFileOrDie(torrent_path_));
  ASSERT_TRUE(info.ok()) << info.status();
  const size_t last = info->files().size() - 1;
  Torrent* t =
      Add(dir_ + "/btkit", port,
          {{0, storage::kFilePriorityLow}, {last, storage::kFilePriorityHigh}});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->file_priority(0), storage::kFilePriorityLow);
  EXPECT_EQ(t->file_priority(1), storage::kFilePriorityNormal);
  EXPECT_EQ(t->file_priority(last), storage::kFilePriorityHigh);
  // The handler outlives this test's locals: it fills shared storage.
  auto passed = std::make_shared<std::vector<uint32_t>>();
  t->OnEvent(EventType::kPieceHashPass, [passed](const Event& e) {
    passed->push_back(e.index);
    return true;
  });
  ASSERT_TRUE(interop::DownloadAll(*client_, *t, deadline_));
  EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir_ + "/btkit"));

  // Pieces only the low file touches (a shared piece takes its higher
  // file's priority).
  const uint32_t low_end = FirstPiece(*info, 1);
  const uint32_t high_first = FirstPiece(*info, last);
  const uint32_t high_last = LastPiece(*info, last);
  ASSERT_GT(low_end, 0u);
  ASSERT_GT(high_last - high_first, 16u) << "the high file is too small";
  const auto first_low = std::find_if(passed->begin(), passed->end(),
                                      [&](uint32_t p) { return p < low_end; });
  ASSERT_NE(first_low, passed->end());
  int high_after = 0;
  for (auto it = first_low; it != passed->end(); ++it) {
    high_after += *it >= high_first && *it <= high_last;
  }
  EXPECT_LE(high_after, 8) << "pieces of the high file verified after the "
                              "first piece of the low one";
}

// BEP 53: a magnet link with `so=` selecting the middle file (5000 bytes,
// in a piece it shares with the next file) only. That file arrives whole
// and the torrent is done with the selection; no other file is written.
TEST_F(SwarmControlsInteropTest, MagnetSelectOnlyFetchesTheSelection) {
  const uint16_t port = StartLibtorrentSeed();
  ASSERT_NE(port, 0);
  auto info = metainfo::TorrentInfo::Parse(ReadFileOrDie(torrent_path_));
  ASSERT_TRUE(info.ok()) << info.status();
  TorrentParams params;
  params.magnet =
      absl::StrFormat("magnet:?xt=urn:btih:%s&x.pe=127.0.0.1:%d&so=1",
                      info->WireInfoHash().ToHex(), port);
  params.save_path = dir_ + "/btkit";
  auto added = client_->AddTorrent(params);
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent* t = *added;
  while (!t->complete() && absl::Now() < deadline_) {
    ASSERT_TRUE(client_->DoOneLoop(0.01).ok());
  }
  ASSERT_TRUE(t->complete()) << "state " << TorrentStateName(t->state()) << " "
                             << t->error().message();
  EXPECT_EQ(t->state(), TorrentState::kSeeding);
  EXPECT_EQ(t->bytes_done(), t->bytes_wanted());
  for (size_t i = 0; i < info->files().size(); ++i) {
    EXPECT_EQ(t->file_priority(i), i == 1 ? storage::kFilePriorityNormal
                                          : storage::kFilePrioritySkip)
        << "file " << i;
  }
  const auto path = [&](const std::string& base, size_t i) {
    std::string p = base;
    for (const std::string& c : info->files()[i].path) p += "/" + c;
    return p;
  };
  EXPECT_EQ(ReadFileOrDie(path(dir_ + "/btkit", 1)),
            ReadFileOrDie(path(root_ + "/seed", 1)));
  // No other file is written: the pieces file 1 shares with its
  // neighbours keep their parts outside it in the part file.
  std::vector<std::string> written;
  for (const std::string& f : RegularFiles(dir_ + "/btkit")) {
    if (f.rfind("payload/", 0) == 0) written.push_back(f);
  }
  EXPECT_EQ(written, std::vector<std::string>{"payload/extras/notes.txt"});
  EXPECT_LT(t->pieces_have(), info->num_pieces());
}

// Bep21Log records, from btkit's events, what passed between btkit and
// its one peer: the upload_only of every extension handshake (nullopt: not
// said), the requests btkit sent and why the connection closed.
struct Bep21Log {
  std::vector<std::optional<bool>> sent, got;
  int requests = 0;
  bool disconnected = false;
  std::string reason;
};

std::shared_ptr<Bep21Log> WatchBep21(Client& client) {
  auto log = std::make_shared<Bep21Log>();
  const auto upload_only = [](const Event& e) -> std::optional<bool> {
    auto hs = protocol::ParseExtensionHandshake(e.payload);
    EXPECT_TRUE(hs.ok()) << hs.status();
    return hs.ok() ? hs->upload_only : std::nullopt;
  };
  client.OnEvent(EventType::kPacketOutgoingExtended, [=](const Event& e) {
    if (e.extension_id == 0) log->sent.push_back(upload_only(e));
    return true;
  });
  client.OnEvent(EventType::kPacketIncomingExtended, [=](const Event& e) {
    if (e.extension_id == 0) log->got.push_back(upload_only(e));
    return true;
  });
  client.OnEvent(EventType::kPacketOutgoingRequest, [=](const Event&) {
    ++log->requests;
    return true;
  });
  client.OnEvent(EventType::kPeerDisconnect, [=](const Event& e) {
    if (log->disconnected) return true;
    log->disconnected = true;
    log->reason = e.reason;
    return true;
  });
  return log;
}

using UploadOnlySaid = std::vector<std::optional<bool>>;

// BEP 21: a complete btkit seed meets a libtorrent seed. Each says
// upload_only=1 in its extension handshake; btkit learns libtorrent is a
// seed, requests nothing and closes the connection. (libtorrent's have-set
// arrives before a close of libtorrent's own would, so the close is
// btkit's.)
TEST_F(SwarmControlsInteropTest, TwoSeedsSayUploadOnlyAndPart) {
  const uint16_t port = StartLibtorrentSeed();
  ASSERT_NE(port, 0);
  auto log = WatchBep21(*client_);
  Torrent* t = Add(root_ + "/seed", port);
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->complete());
  while (!log->disconnected && absl::Now() < deadline_) {
    ASSERT_TRUE(client_->DoOneLoop(0.01).ok());
  }
  ASSERT_TRUE(log->disconnected) << "the two seeds stayed connected";
  EXPECT_EQ(log->sent, UploadOnlySaid{true});
  EXPECT_EQ(log->got, UploadOnlySaid{true});
  EXPECT_EQ(log->reason, "both sides are seeds");
  EXPECT_EQ(log->requests, 0);
  EXPECT_EQ(t->downloaded(), 0);
}

// BEP 21 for a partial seed: btkit holds and wants only the first file
// (piece-aligned), so it says upload_only=1 from its first extension
// handshake though it is no seed, and serves that file to a libtorrent
// downloader, which it keeps: that peer still wants what btkit has.
TEST_F(SwarmControlsInteropTest, PartialSeedSaysUploadOnlyAndServes) {
  auto info = metainfo::TorrentInfo::Parse(ReadFileOrDie(torrent_path_));
  ASSERT_TRUE(info.ok()) << info.status();
  const size_t image = FileIndex(*info, "image.bin");
  ASSERT_EQ(image, 0u);
  const metainfo::FileEntry& file = info->files()[image];
  ASSERT_EQ(file.size % info->piece_length(), 0) << "not piece-aligned";
  const std::string save = dir_ + "/btkit";
  const std::string rel = interop::kPayloadFiles[2];  // image.bin
  fs::create_directories((fs::path(save) / rel).parent_path());
  fs::copy_file(root_ + "/seed/" + rel, save + "/" + rel);
  TorrentParams params;
  params.torrent_path = torrent_path_;
  params.save_path = save;
  params.file_priorities = {{1, storage::kFilePrioritySkip},
                            {2, storage::kFilePrioritySkip}};
  auto added = client_->AddTorrent(params);
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent* t = *added;
  ASSERT_TRUE(t->complete());
  ASSERT_EQ(t->pieces_have(), LastPiece(*info, image) + 1);
  auto log = WatchBep21(*client_);
  auto lt = testing::Subprocess::Start(
      {kPython, kPeerScript, "download", torrent_path_, dir_ + "/lt",
       dir_ + "/lt_port", "enabled",
       absl::StrFormat("127.0.0.1:%d", client_->port()), "--timeout", "110"});
  ASSERT_TRUE(lt.ok()) << lt.status();
  while (t->uploaded() < file.size && absl::Now() < deadline_) {
    ASSERT_TRUE(client_->DoOneLoop(0.01).ok());
  }
  EXPECT_GE(t->uploaded(), file.size);
  EXPECT_EQ(t->downloaded(), 0);
  EXPECT_EQ(log->sent, UploadOnlySaid{true});
  EXPECT_EQ(log->requests, 0);
  EXPECT_FALSE(log->disconnected) << log->reason;
  EXPECT_FALSE((*lt)->Wait(absl::Now()).ok()) << "libtorrent exited";
}

// MoveStorage while libtorrent (upload limited) is mid-way through the
// transfer: the download completes in the new place, identical, and the
// old place keeps none of the torrent's files.
TEST_F(SwarmControlsInteropTest, MoveStorageMidDownload) {
  const uint16_t port = StartLibtorrentSeed({"--upload-limit", "6000000"});
  ASSERT_NE(port, 0);
  const std::string old_dir = dir_ + "/old", new_dir = dir_ + "/new";
  Torrent* t = Add(old_dir, port);
  ASSERT_TRUE(t);
  auto moved = std::make_shared<std::string>();
  t->OnEvent(EventType::kStorageMoved, [moved](const Event& e) {
    *moved = e.path;
    return true;
  });
  auto passed = std::make_shared<uint32_t>(0);
  t->OnEvent(EventType::kPieceHashPass, [passed](const Event&) {
    ++*passed;
    return true;
  });
  const uint32_t n = t->info().num_pieces();
  while (t->pieces_have() < n / 8 && absl::Now() < deadline_) {
    ASSERT_TRUE(client_->DoOneLoop(0.01).ok());
  }
  const uint32_t had = t->pieces_have();
  ASSERT_GE(had, n / 8);
  ASSERT_LT(had, n / 2) << "the upload limit did not hold";
  ASSERT_TRUE(t->MoveStorage(new_dir).ok());
  EXPECT_EQ(*moved, new_dir);
  EXPECT_EQ(t->save_path(), new_dir);
  while (!t->complete() && absl::Now() < deadline_) {
    ASSERT_TRUE(client_->DoOneLoop(0.01).ok());
  }
  ASSERT_TRUE(t->complete()) << t->pieces_have() << " of " << n << " pieces";
  EXPECT_EQ(*passed, n);
  EXPECT_TRUE(interop::SameFiles(root_ + "/seed", new_dir));
  EXPECT_EQ(RegularFiles(old_dir), std::vector<std::string>{});
}

// RemoveTorrent with delete_data after a download from libtorrent: the
// torrent's files go, and the directories they leave empty; other files
// in the same directories stay.
TEST_F(SwarmControlsInteropTest, RemoveWithDataKeepsOtherFiles) {
  const uint16_t port = StartLibtorrentSeed();
  ASSERT_NE(port, 0);
  const std::string save = dir_ + "/btkit";
  fs::create_directories(save + "/payload/extras");
  std::ofstream(save + "/mine.txt") << "not the torrent's";
  std::ofstream(save + "/payload/extras/mine.txt") << "not the torrent's";
  Torrent* t = Add(save, port);
  ASSERT_TRUE(t);
  ASSERT_TRUE(interop::DownloadAll(*client_, *t, deadline_));
  ASSERT_TRUE(interop::SameFiles(root_ + "/seed", save));
  const Sha1Hash ih = t->info_hash();
  ASSERT_TRUE(client_->RemoveTorrent(t, /*delete_data=*/true).ok());
  EXPECT_EQ(client_->FindTorrent(ih), nullptr);
  EXPECT_EQ(RegularFiles(save),
            (std::vector<std::string>{"mine.txt", "payload/extras/mine.txt"}));
  EXPECT_FALSE(fs::exists(save + "/payload/extras/deep"));
}

}  // namespace
}  // namespace bt::client
