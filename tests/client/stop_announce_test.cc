// What a program does between stopping its torrents and exiting:
// Client::FinishStopAnnounces runs the loop while a stopped torrent still
// announces "stopped" (Torrent::announcing_stop), and no longer than its
// limit when a tracker never answers; without trackers it returns at once.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "bencode/encoder.h"
#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_creator.h"
#include "metainfo/torrent_info.h"
#include "tests/client/testing/fake_http_tracker.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class StopAnnounceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClientOptions options = bt::testing::LoopbackClientOptions();
    options.enable_dht = false;
    auto c = Client::Create(options);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = *std::move(c);
    dir_ = bt::testing::TempDir("stop_announce");
  }

  // Seed adds a seeding torrent of a small file announcing to `trackers`
  // and, with a tracker, runs until its "started" announce succeeded.
  Torrent* Seed(const std::vector<std::string>& trackers) {
    fs::create_directories(dir_);
    std::ofstream(dir_ + "/f.bin") << std::string(40000, 'x');
    metainfo::CreateOptions create;
    create.piece_length = 16 * 1024;
    for (const std::string& url : trackers) create.trackers.push_back({url});
    auto bytes = metainfo::CreateTorrent(dir_ + "/f.bin", create);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    auto info = metainfo::TorrentInfo::Parse(bytes.value_or(""));
    EXPECT_TRUE(info.ok()) << info.status();
    if (!info.ok()) return nullptr;
    bool started = false;
    client_->OnEvent(EventType::kTrackerSuccess, [&](const Event&) {
      started = true;
      return true;
    });
    TorrentParams params;
    params.info = std::make_shared<const metainfo::TorrentInfo>(*info);
    params.save_path = dir_;
    auto t = client_->AddTorrent(params);
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return nullptr;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!trackers.empty() && !started && absl::Now() < deadline) {
      EXPECT_TRUE(client_->DoOneLoop(0.05).ok());
    }
    EXPECT_TRUE(trackers.empty() || started) << "no tracker_success";
    return *t;
  }

  static std::string Body() {
    return bencode::Encode(bencode::Value(
        bencode::Value::Dict{{"interval", 1800}, {"peers", ""}}));
  }

  std::unique_ptr<Client> client_;
  std::string dir_;
};

TEST_F(StopAnnounceTest, WaitsForTheTrackersAnswerToStopped) {
  testing::FakeHttpTracker tracker(
      client_->loop(), [](int) { return testing::Http200(Body()); });
  Torrent* t = Seed({tracker.url()});
  ASSERT_NE(t, nullptr);
  EXPECT_FALSE(t->announcing_stop());  // running
  ASSERT_TRUE(t->Stop().ok());
  EXPECT_TRUE(t->announcing_stop());
  ASSERT_TRUE(client_->FinishStopAnnounces(absl::Seconds(10)).ok());
  EXPECT_FALSE(t->announcing_stop());
  EXPECT_EQ(tracker.requests(), 2);
  EXPECT_THAT(tracker.last_request(), HasSubstr("&event=stopped"));
}

TEST_F(StopAnnounceTest, GivesUpOnATrackerThatNeverAnswersAtItsLimit) {
  testing::FakeHttpTracker tracker(client_->loop(), [](int n) {
    if (n == 1) return testing::Http200(Body());
    return testing::FakeHttpTracker::Reply{.silent = true};
  });
  Torrent* t = Seed({tracker.url()});
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->Stop().ok());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(client_->FinishStopAnnounces(absl::Milliseconds(300)).ok());
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(300));
  EXPECT_LT(took, absl::Seconds(3));
  EXPECT_TRUE(t->announcing_stop());
  EXPECT_EQ(tracker.requests(), 2);
}

TEST_F(StopAnnounceTest, WithoutTrackersThereIsNothingToWaitFor) {
  Torrent* t = Seed({});
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->Stop().ok());
  EXPECT_FALSE(t->announcing_stop());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(client_->FinishStopAnnounces(absl::Seconds(10)).ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

}  // namespace
}  // namespace bt::client
