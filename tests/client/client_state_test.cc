// Client-wide state: the file format's checks, and a client with torrents
// and DHT contacts stopped and restored — same DHT id, every torrent back,
// complete data resumed without a re-check — while a tampered or newer
// file is refused with a clear message.
#include "client/client_state.h"

#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/sha.h"
#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_creator.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/files.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;
using ::bt::testing::ReadFileOrDie;
using ::testing::HasSubstr;

ClientState Sample() {
  ClientState s;
  s.timestamp = 1700000000;
  s.dht = "d2:id20:aaaaaaaaaaaaaaaaaaaae";
  s.dht6 = "d2:id20:bbbbbbbbbbbbbbbbbbbbe";
  s.local_hosts = {"127.0.0.1", "::1"};
  s.local_ports = {6881, 0};
  s.encryption = "forced";
  s.upload_rate_limit = 1000;
  s.torrents.push_back({Sha1Hash(), "/x.torrent", "/dl", "/dl/x.resume",
                        "started"});
  s.torrents.push_back({Sha1Hash(), "magnet:?xt=urn:btih:00", "/dl", "",
                        "paused"});
  return s;
}

TEST(ClientStateFormatTest, RoundTrip) {
  ClientState s = Sample();
  auto back = DecodeClientState(EncodeClientState(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, s);
}

TEST(ClientStateFormatTest, TamperingIsDetected) {
  std::string bytes = EncodeClientState(Sample());
  size_t at = bytes.find("/dl/x.resume");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] = 'D';
  auto r = DecodeClientState(bytes);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("tampered"));
}

TEST(ClientStateFormatTest, NewerVersionAndOtherFormatsAreRefused) {
  std::string bytes = EncodeClientState(Sample());
  std::string newer = bytes;
  newer.replace(newer.find("7:versioni2e"), 12, "7:versioni3e");
  auto r = DecodeClientState(newer);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("version 3 is newer"));
  EXPECT_EQ(DecodeClientState("d6:format3:abc7:versioni1ee").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecodeClientState("garbage").status().code(),
            absl::StatusCode::kInvalidArgument);
  for (size_t n = 0; n < bytes.size(); n += 7) {
    EXPECT_FALSE(DecodeClientState(bytes.substr(0, n)).ok()) << n;
  }
}

// A version 1 file (one "local host", no "dht6") still reads.
TEST(ClientStateFormatTest, VersionOneReadsWithOneLocalHost) {
  const std::string data =
      "d3:dht0:8:settingsd14:download limiti0e10:encryption7:enabled"
      "10:local host9:127.0.0.111:local portsli6881ee12:upload limiti0ee"
      "9:timestampi1e8:torrentslee";
  const std::string file = absl::StrCat(
      "d8:checksum20:", std::string(AsChars(Sha1(AsBytes(data)).span())),
      "4:data", data, "6:format18:btkit client state7:versioni1ee");
  absl::StatusOr<ClientState> s = DecodeClientState(file);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->local_hosts, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(s->local_ports, std::vector<uint16_t>{6881});
  EXPECT_TRUE(s->dht6.empty());
}

TEST(ClientStateFileTest, SaveAndLoadRoundTripAndErrorsNameTheFile) {
  const std::string root = testing::TempDir("client_state_file");
  const std::string path = root + "/client.state";
  absl::StatusOr<ClientState> missing = LoadClientState(path);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(path));
  ASSERT_TRUE(SaveClientState(path, Sample()).ok());
  absl::StatusOr<ClientState> back = LoadClientState(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, Sample());
  std::string bytes = ReadFileOrDie(path);
  bytes[bytes.find("/dl/x.resume") + 1] = 'D';
  ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
  absl::StatusOr<ClientState> damaged = LoadClientState(path);
  EXPECT_EQ(damaged.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(damaged.status().message(), HasSubstr(path));
  fs::remove_all(root);
}

TEST(ClientStateRestartTest, RestoresTorrentsAndDhtWithoutRechecking) {
  const std::string root = testing::TempDir("client_state");
  fs::create_directories(root + "/data/payload");
  std::mt19937_64 rng(9);
  std::string data(4 << 20, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  std::ofstream(root + "/data/payload/a.bin", std::ios::binary) << data;
  metainfo::CreateOptions create;
  create.version = metainfo::TorrentVersion::kV1;
  create.piece_length = 64 * 1024;
  auto bytes = metainfo::CreateTorrent(root + "/data/payload", create);
  ASSERT_TRUE(bytes.ok());
  std::ofstream(root + "/a.torrent", std::ios::binary) << *bytes;
  const std::string state_path = root + "/client.state";

  dht::SavedState saved_dht;
  {
    ClientOptions options = testing::LoopbackClientOptions();
    options.upload_rate_limit = 123456;
    auto client = Client::Create(options);
    ASSERT_TRUE(client.ok());
    TorrentParams p;
    p.torrent_path = root + "/a.torrent";
    p.save_path = root + "/data";
    p.resume_path = root + "/a.resume";
    auto t = (*client)->AddTorrent(p);
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_TRUE((*t)->complete());
    // A DHT contact to remember (a second client's node).
    auto other = Client::Create(options);
    ASSERT_TRUE(other.ok());
    (*client)->AddDhtNode((*other)->dht()->local_endpoint());
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE((*client)->DoOneLoop(0.01).ok());
      ASSERT_TRUE((*other)->DoOneLoop(0.01).ok());
    }
    ASSERT_TRUE((*client)->SaveState(state_path).ok());
    auto dht = dht::ParseSavedState((*client)->dht()->node().SaveState());
    ASSERT_TRUE(dht.ok());
    saved_dht = *dht;
    EXPECT_FALSE(saved_dht.nodes.empty());
  }

  int checked = 0;
  auto restored = Client::Restore(
      state_path,
      [&](Client* c) {
        c->OnEvent(EventType::kPieceHashPass, [&](const Event&) {
          ++checked;
          return true;
        });
      },
      testing::LoopbackClientOptions());
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ((*restored)->dht()->node().id(), saved_dht.id);
  EXPECT_EQ((*restored)->options().upload_rate_limit, 123456);
  ASSERT_EQ((*restored)->torrents().size(), 1u);
  Torrent* t = (*restored)->torrents()[0];
  EXPECT_TRUE(t->complete());
  EXPECT_EQ(t->state(), TorrentState::kSeeding);
  EXPECT_EQ(checked, 0) << "complete data was hash-checked again";

  // A tampered state file is refused, naming the file and the reason.
  std::string tampered = ReadFileOrDie(state_path);
  tampered[tampered.find("a.torrent")] = 'b';
  std::ofstream(state_path, std::ios::binary | std::ios::trunc) << tampered;
  auto refused =
      Client::Restore(state_path, nullptr, testing::LoopbackClientOptions());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(refused.status().message(), HasSubstr("client.state"));
  EXPECT_THAT(refused.status().message(), HasSubstr("tampered"));
  fs::remove_all(root);
}

}  // namespace
}  // namespace bt::client
