#include "daemon/transmission_rpc.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "bencode/encoder.h"
#include "daemon/json_args.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/metainfo/test_torrents.h"
#include "tests/testing/subprocess.h"

namespace bt::daemon {
namespace {

namespace fs = std::filesystem;
using metainfo::testing::MakeTorrent;
using metainfo::testing::Pattern;
using metainfo::testing::Version;
using ::testing::HasSubstr;

class TransmissionRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = bt::testing::TempDir("transmission_rpc");
    dl_ = root_ + "/dl";
    fs::create_directories(dl_);
    client_ = client::Client::Create(testing::LoopbackClientOptions()).value();
    settings_.download_dir = dl_;
    rpc_ = std::make_unique<TransmissionRpc>(
        client_.get(), &settings_,
        RpcOptions{.state_dir = root_ + "/state",
                   .roots = AllowedRoots::Make({dl_}).value(),
                   .session_id = "sid",
                   .on_change = [this] { ++changes_; }});
  }
  void TearDown() override { fs::remove_all(root_); }

  Json Call(const std::string& method, Json args = Json::object()) {
    Json request = {{"method", method}, {"arguments", args}, {"tag", 7}};
    return Json::parse(rpc_->Handle(request.dump()));
  }
  std::string Result(const std::string& method, Json args = Json::object()) {
    return Call(method, std::move(args))["result"].get<std::string>();
  }

  // Torrent makes a two-file torrent named `name` and, with `on_disk`,
  // writes its files under dl_; returns the base64 metainfo.
  std::string Torrent(const std::string& name, bool on_disk) {
    const std::vector<metainfo::testing::MemFile> files = {
        {{"a.bin"}, Pattern(70000, 1)}, {{"b.bin"}, Pattern(50000, 2)}};
    if (on_disk) {
      fs::create_directories(dl_ + "/" + name);
      for (const auto& f : files) {
        std::ofstream(dl_ + "/" + name + "/" + f.path[0]) << f.data;
      }
    }
    const std::string bytes =
        bencode::Encode(MakeTorrent(name, files, 16384, Version::kV1));
    return absl::Base64Escape(bytes);
  }

  Json Get(const std::vector<std::string>& fields, Json ids = nullptr) {
    Json args = {{"fields", fields}};
    if (!ids.is_null()) args["ids"] = ids;
    Json reply = Call("torrent-get", args);
    EXPECT_EQ(reply["result"], "success");
    return reply["arguments"]["torrents"];
  }

  std::string root_, dl_;
  DaemonSettings settings_;
  std::unique_ptr<client::Client> client_;
  std::unique_ptr<TransmissionRpc> rpc_;
  int changes_ = 0;
};

TEST_F(TransmissionRpcTest, SessionGetSpeaksRpcVersion16) {
  Json reply = Call("session-get");
  EXPECT_EQ(reply["result"], "success");
  EXPECT_EQ(reply["tag"], 7);
  EXPECT_EQ(reply["arguments"]["rpc-version"], 16);
  EXPECT_EQ(reply["arguments"]["download-dir"], dl_);
  EXPECT_EQ(reply["arguments"]["peer-port"], client_->port());
  EXPECT_EQ(reply["arguments"]["session-id"], "sid");
  reply = Call("session-get", {{"fields", {"version", "download-dir"}}});
  EXPECT_EQ(reply["arguments"].size(), 2u);
}

TEST_F(TransmissionRpcTest, BadRequestsGetTheProtocolsErrorResult) {
  EXPECT_THAT(Json::parse(rpc_->Handle("{\"method\": "))
                  .at("result")
                  .get<std::string>(),
              HasSubstr("malformed JSON at byte"));
  EXPECT_THAT(
      Json::parse(rpc_->Handle(std::string(100, '[') + std::string(100, ']')))
          .at("result")
          .get<std::string>(),
      HasSubstr("nested deeper"));
  EXPECT_EQ(Json::parse(rpc_->Handle("[1,2]"))["result"],
            "request must be a JSON object");
  EXPECT_EQ(Result("no-such-method"), "method name not recognized");
  EXPECT_EQ(Json::parse(rpc_->Handle(
                R"({"method":"session-set","arguments":3})"))["result"],
            "'arguments' must be an object");
  EXPECT_THAT(Result("session-set", {{"speed-limit-down", "fast"}}),
              HasSubstr("'speed-limit-down' must be an integer"));
  EXPECT_THAT(Result("session-set", {{"speed-limit-down", -5}}),
              HasSubstr("must lie in"));
  EXPECT_THAT(Result("session-set", {{"no-such-setting", 1}}),
              HasSubstr("unknown session setting"));
  EXPECT_THAT(
      Result("session-set", {{"dht-enabled", !client_->options().enable_dht}}),
      HasSubstr("cannot be changed"));
  EXPECT_THAT(Result("torrent-get", {{"fields", {"id", "bogus"}}}),
              HasSubstr("unknown torrent field \"bogus\""));
  EXPECT_THAT(Result("torrent-get", {{"fields", {"id"}}, {"ids", {{"a", 1}}}}),
              HasSubstr("'ids' must be"));
  EXPECT_THAT(Result("torrent-add", {{"metainfo", "!!!"}}),
              HasSubstr("base64"));
  EXPECT_THAT(
      Result("torrent-add", {{"metainfo", absl::Base64Escape("d4:infoi3ee")}}),
      HasSubstr("invalid or corrupt torrent file"));
  EXPECT_EQ(changes_, 0);
}

TEST_F(TransmissionRpcTest, SessionSetChangesLimitsAndKeepsFixedValues) {
  Json current = Call("session-get")["arguments"];
  // The web client sends its whole form back: unchanged fixed values pass.
  EXPECT_EQ(
      Result("session-set", {{"speed-limit-down", 250},
                             {"speed-limit-down-enabled", true},
                             {"encryption", "required"},
                             {"dht-enabled", current["dht-enabled"]},
                             {"cache-size-mb", current["cache-size-mb"]}}),
      "success");
  EXPECT_EQ(changes_, 1);
  Json after = Call("session-get")["arguments"];
  EXPECT_EQ(after["speed-limit-down"], 250);
  EXPECT_EQ(after["speed-limit-down-enabled"], true);
  EXPECT_EQ(after["encryption"], "required");
  EXPECT_EQ(client_->options().encryption, protocol::EncryptionPolicy::kForced);
  EXPECT_EQ(settings_.DownloadLimitBytes(), 250000);
  EXPECT_THAT(Result("session-set", {{"download-dir", "/etc"}}),
              HasSubstr("outside the allowed directories"));
  EXPECT_THAT(Result("session-set", {{"download-dir", dl_ + "/../../etc"}}),
              HasSubstr("outside the allowed directories"));
  EXPECT_EQ(Result("session-set", {{"download-dir", dl_ + "/sub"}}), "success");
  EXPECT_EQ(settings_.download_dir, dl_ + "/sub");
}

TEST_F(TransmissionRpcTest, AddedSeedIsCheckedAndListed) {
  Json reply = Call("torrent-add", {{"metainfo", Torrent("seed", true)}});
  ASSERT_EQ(reply["result"], "success");
  const Json added = reply["arguments"]["torrent-added"];
  EXPECT_EQ(added["id"], 1);
  EXPECT_EQ(added["name"], "seed");
  EXPECT_EQ(added["hashString"].get<std::string>().size(), 40u);
  Json t = Get({"id", "name", "status", "percentDone", "sizeWhenDone",
                "leftUntilDone", "totalSize", "files", "fileStats",
                "pieceCount", "downloadDir", "haveValid", "error", "eta",
                "hashString", "pieces"})[0];
  EXPECT_EQ(t["status"], 6);  // seeding
  EXPECT_EQ(t["percentDone"], 1.0);
  EXPECT_EQ(t["sizeWhenDone"], 120000);
  EXPECT_EQ(t["totalSize"], 120000);
  EXPECT_EQ(t["haveValid"], 120000);
  EXPECT_EQ(t["leftUntilDone"], 0);
  EXPECT_EQ(t["downloadDir"], dl_);
  EXPECT_EQ(t["files"][0]["name"], "seed/a.bin");
  EXPECT_EQ(t["files"][1]["bytesCompleted"], 50000);
  EXPECT_EQ(t["fileStats"][0]["wanted"], true);
  EXPECT_EQ(t["pieceCount"], 8);
  EXPECT_EQ(t["pieces"], absl::Base64Escape("\xff"));
  // The .torrent is kept in the state directory for restarts.
  EXPECT_TRUE(fs::exists(root_ + "/state/torrents/" +
                         t["hashString"].get<std::string>() + ".torrent"));
  // Adding it again names the one there.
  reply = Call("torrent-add", {{"metainfo", Torrent("seed", false)}});
  EXPECT_EQ(reply["arguments"]["torrent-duplicate"]["id"], 1);
  // By hash and by id.
  EXPECT_EQ(Get({"id"}, t["hashString"]).size(), 1u);
  EXPECT_EQ(Get({"id"}, Json::array({1, 99})).size(), 1u);
  EXPECT_EQ(Get({"id"}, 99).size(), 0u);
  // Table format: names first.
  Json table =
      Call("torrent-get", {{"fields", {"id", "name"}}, {"format", "table"}});
  EXPECT_EQ(table["arguments"]["torrents"],
            Json::parse(R"([["id","name"],[1,"seed"]])"));
}

TEST_F(TransmissionRpcTest, PathsOutsideTheRootsAreRefused) {
  EXPECT_THAT(Result("torrent-add", {{"metainfo", Torrent("x", false)},
                                     {"download-dir", "/tmp"}}),
              HasSubstr("outside the allowed directories"));
  EXPECT_THAT(Result("torrent-add", {{"filename", "/etc/passwd"}}),
              HasSubstr("outside the allowed directories"));
  EXPECT_THAT(Result("torrent-add", {{"filename", "relative.torrent"}}),
              HasSubstr("not an absolute path"));
  // A link inside the root that leads out is followed, then refused.
  fs::create_directory_symlink("/etc", dl_ + "/escape");
  EXPECT_THAT(Result("torrent-add", {{"filename", dl_ + "/escape/passwd"}}),
              HasSubstr("outside the allowed directories"));
  EXPECT_THAT(Result("free-space", {{"path", "/"}}),
              HasSubstr("outside the allowed directories"));
  EXPECT_EQ(Result("free-space", {{"path", dl_}}), "success");
  EXPECT_TRUE(client_->torrents().empty());
}

TEST_F(TransmissionRpcTest, AddFromAFileAndPaused) {
  const std::string path = dl_ + "/p.torrent";
  std::string bytes;
  ASSERT_TRUE(absl::Base64Unescape(Torrent("paused", true), &bytes));
  std::ofstream(path) << bytes;
  EXPECT_EQ(Result("torrent-add", {{"filename", path}, {"paused", true}}),
            "success");
  EXPECT_EQ(Get({"status"})[0]["status"], 0);
  ASSERT_EQ(Result("torrent-start", {{"ids", 1}}), "success");
  EXPECT_EQ(Get({"status", "errorString"})[0],
            Json::parse(R"({"status":6,"errorString":""})"));
  EXPECT_EQ(Result("torrent-stop", {{"ids", 1}}), "success");
  EXPECT_EQ(Get({"status"})[0]["status"], 0);
}

TEST_F(TransmissionRpcTest, MagnetWaitsForItsMetadata) {
  const std::string magnet =
      "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=m";
  Json reply = Call("torrent-add", {{"filename", magnet}});
  ASSERT_EQ(reply["result"], "success");
  EXPECT_EQ(reply["arguments"]["torrent-added"]["name"], "m");
  Json t = Get({"name", "metadataPercentComplete", "totalSize", "files",
                "magnetLink", "percentDone"})[0];
  EXPECT_EQ(t["metadataPercentComplete"], 0.0);
  EXPECT_EQ(t["totalSize"], 0);
  EXPECT_EQ(t["files"], Json::array());
  EXPECT_EQ(t["magnetLink"], magnet);
  EXPECT_THAT(Result("torrent-set", {{"files-unwanted", {0}}}),
              HasSubstr("needs the torrent's metadata"));
}

TEST_F(TransmissionRpcTest, TorrentSetFilesAndLimits) {
  ASSERT_EQ(Result("torrent-add", {{"metainfo", Torrent("s", true)}}),
            "success");
  EXPECT_EQ(Result("torrent-set", {{"ids", 1},
                                   {"files-unwanted", {1}},
                                   {"priority-high", {0}},
                                   {"downloadLimit", 40},
                                   {"downloadLimited", true}}),
            "success");
  Json t = Get({"fileStats", "priorities", "wanted", "downloadLimit",
                "downloadLimited", "sizeWhenDone"})[0];
  EXPECT_EQ(t["fileStats"][0]["priority"], 1);
  EXPECT_EQ(t["fileStats"][1]["wanted"], false);
  EXPECT_EQ(t["wanted"], Json::parse("[1,0]"));
  EXPECT_EQ(t["downloadLimit"], 40);
  EXPECT_EQ(t["downloadLimited"], true);
  EXPECT_EQ(client_->torrents()[0]->download_rate_limit(), 40000);
  // files-wanted [] wants every file again.
  EXPECT_EQ(
      Result("torrent-set", {{"ids", 1}, {"files-wanted", Json::array()}}),
      "success");
  EXPECT_EQ(Get({"wanted"})[0]["wanted"], Json::parse("[1,1]"));
  EXPECT_THAT(Result("torrent-set", {{"ids", 1}, {"files-wanted", {5}}}),
              HasSubstr("file indices below 2"));
  EXPECT_THAT(Result("torrent-set", {{"ids", 1}, {"labels", {"x"}}}),
              HasSubstr("'labels' is not supported"));
}

TEST_F(TransmissionRpcTest, RecordsOutliveARestart) {
  ASSERT_EQ(Result("torrent-add", {{"metainfo", Torrent("kept", true)}}),
            "success");
  ASSERT_EQ(Result("torrent-set", {{"ids", 1},
                                   {"uploadLimit", 30},
                                   {"uploadLimited", true}}),
            "success");
  const Json before = Get({"addedDate", "doneDate", "uploadLimit"})[0];
  const std::string saved = rpc_->SaveRecords();
  // A new RPC over the same client stands for a restarted daemon; the
  // torrent's own limit is gone from the client until restored.
  client_->torrents()[0]->SetRateLimits(0, 0);
  rpc_ = std::make_unique<TransmissionRpc>(
      client_.get(), &settings_,
      RpcOptions{.state_dir = root_ + "/state",
                 .roots = AllowedRoots::Make({dl_}).value()});
  ASSERT_TRUE(rpc_->RestoreRecords(saved).ok());
  EXPECT_EQ(Get({"addedDate", "doneDate", "uploadLimit"})[0], before);
  EXPECT_EQ(Get({"uploadLimited"})[0]["uploadLimited"], true);
  EXPECT_EQ(client_->torrents()[0]->upload_rate_limit(), 30000);
  EXPECT_FALSE(rpc_->RestoreRecords("{\"x\": ").ok());
  const std::string hash = Get({"hashString"})[0]["hashString"];
  EXPECT_FALSE(rpc_->RestoreRecords(
                       absl::StrCat(R"({")", hash, R"(": {"added": "x"}})"))
                   .ok());
}

TEST_F(TransmissionRpcTest, VerifyFindsDamage) {
  ASSERT_EQ(Result("torrent-add", {{"metainfo", Torrent("v", true)}}),
            "success");
  {
    std::fstream f(dl_ + "/v/a.bin",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x42' ^ Pattern(70000, 1)[100]);
  }
  EXPECT_EQ(Result("torrent-verify", {{"ids", 1}}), "success");
  Json t = Get({"haveValid", "percentDone", "status", "corruptEver"})[0];
  EXPECT_EQ(t["haveValid"], 120000 - 16384);
  EXPECT_EQ(t["status"], 4);  // downloading the damaged piece again
  // Nothing was downloaded: the web client's "(... corrupt)" stays away.
  EXPECT_EQ(t["corruptEver"], 0);
}

TEST_F(TransmissionRpcTest, MissingDataIsNotCorrupt) {
  ASSERT_EQ(Result("torrent-add", {{"metainfo", Torrent("absent", false)}}),
            "success");
  Json t = Get({"haveValid", "leftUntilDone", "corruptEver", "status"})[0];
  EXPECT_EQ(t["haveValid"], 0);
  EXPECT_EQ(t["leftUntilDone"], 120000);
  EXPECT_EQ(t["corruptEver"], 0);
  EXPECT_EQ(t["status"], 4);  // downloading
}

TEST_F(TransmissionRpcTest, RemoveWithDataAndRecentlyActive) {
  ASSERT_EQ(Result("torrent-add", {{"metainfo", Torrent("r", true)}}),
            "success");
  ASSERT_EQ(Result("torrent-add", {{"metainfo", Torrent("keep", true)}}),
            "success");
  EXPECT_EQ(Result("torrent-remove", {{"ids", 1}, {"delete-local-data", true}}),
            "success");
  EXPECT_FALSE(fs::exists(dl_ + "/r/a.bin"));
  EXPECT_TRUE(fs::exists(dl_ + "/keep/a.bin"));
  Json reply =
      Call("torrent-get", {{"fields", {"id"}}, {"ids", "recently-active"}});
  EXPECT_EQ(reply["arguments"]["removed"], Json::array({1}));
  EXPECT_EQ(Get({"id"}), Json::parse(R"([{"id":2}])"));
  EXPECT_EQ(Result("torrent-remove", {{"ids", 2}}), "success");
  EXPECT_TRUE(fs::exists(dl_ + "/keep/a.bin"));
  EXPECT_TRUE(client_->torrents().empty());
  EXPECT_TRUE(fs::is_empty(root_ + "/state/torrents"));
}

TEST_F(TransmissionRpcTest, SetLocationMovesTheData) {
  ASSERT_EQ(Result("torrent-add", {{"metainfo", Torrent("m", true)}}),
            "success");
  EXPECT_THAT(Result("torrent-set-location",
                     {{"ids", 1}, {"location", "/tmp"}, {"move", true}}),
              HasSubstr("outside the allowed directories"));
  EXPECT_EQ(Result("torrent-set-location",
                   {{"ids", 1}, {"location", dl_ + "/moved"}, {"move", true}}),
            "success");
  EXPECT_TRUE(fs::exists(dl_ + "/moved/m/a.bin"));
  EXPECT_FALSE(fs::exists(dl_ + "/m/a.bin"));
  EXPECT_EQ(Get({"downloadDir"})[0]["downloadDir"], dl_ + "/moved");
}

TEST_F(TransmissionRpcTest, StatsCountTorrents) {
  ASSERT_EQ(Result("torrent-add", {{"metainfo", Torrent("a", true)}}),
            "success");
  ASSERT_EQ(Result("torrent-add",
                   {{"metainfo", Torrent("b", true)}, {"paused", true}}),
            "success");
  Json stats = Call("session-stats")["arguments"];
  EXPECT_EQ(stats["torrentCount"], 2);
  EXPECT_EQ(stats["activeTorrentCount"], 1);
  EXPECT_EQ(stats["pausedTorrentCount"], 1);
  EXPECT_EQ(stats["current-stats"]["filesAdded"], 2);
}

}  // namespace
}  // namespace bt::daemon
