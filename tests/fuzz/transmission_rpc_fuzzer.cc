// Fuzz target for the daemon's Transmission RPC: the input is one or more
// request bodies separated by NUL bytes, each handed to TransmissionRpc
// over a real (loopback, DHT-less) client whose files live in a temporary
// directory. After each request, and after a torrent-get of every field,
// the reply must be a JSON object with a string "result" (and an object
// of "arguments" on success). Every torrent is removed, with its data, and
// the settings are reset at the end of each input.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/json_args.h"
#include "daemon/transmission_rpc.h"
#include "tests/client/testing/loopback_options.h"

namespace {

using bt::daemon::Json;

struct World {
  std::string root = absl::StrCat("/tmp/transmission_rpc_fuzzer.", getpid());
  bt::daemon::DaemonSettings settings;
  std::unique_ptr<bt::client::Client> client;
  std::unique_ptr<bt::daemon::TransmissionRpc> rpc;

  World() {
    std::filesystem::create_directories(root + "/dl");
    settings.download_dir = root + "/dl";
    client = bt::client::Client::Create(bt::testing::LoopbackClientOptions())
                 .value();
    rpc = std::make_unique<bt::daemon::TransmissionRpc>(
        client.get(), &settings,
        bt::daemon::RpcOptions{
            .state_dir = root + "/state",
            .roots = bt::daemon::AllowedRoots::Make({root + "/dl"}).value()});
  }
  ~World() { std::filesystem::remove_all(root); }
};

void CheckReply(const std::string& reply) {
  Json j = Json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("result") || !j["result"].is_string()) {
    std::fprintf(stderr, "bad reply: %s\n", reply.c_str());
    std::abort();
  }
  if (j["result"] == "success" &&
      (!j.contains("arguments") || !j["arguments"].is_object())) {
    std::fprintf(stderr, "success without arguments: %s\n", reply.c_str());
    std::abort();
  }
}

const std::string& GetEverything() {
  static const std::string* request = [] {
    Json fields = Json::array();
    for (const char* f : {"id",
                          "name",
                          "hashString",
                          "status",
                          "error",
                          "errorString",
                          "percentDone",
                          "metadataPercentComplete",
                          "rateDownload",
                          "eta",
                          "sizeWhenDone",
                          "leftUntilDone",
                          "totalSize",
                          "haveValid",
                          "desiredAvailable",
                          "uploadRatio",
                          "downloadDir",
                          "dateCreated",
                          "pieceCount",
                          "pieceSize",
                          "pieces",
                          "magnetLink",
                          "files",
                          "fileStats",
                          "priorities",
                          "wanted",
                          "peers",
                          "peersFrom",
                          "peersConnected",
                          "trackers",
                          "trackerStats",
                          "webseeds",
                          "downloadLimit",
                          "queuePosition"}) {
      fields.push_back(f);
    }
    return new std::string(Json{
        {"method", "torrent-get"},
        {"arguments",
         {{"fields", fields}}}}.dump());
  }();
  return *request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (absl::string_view body :
       absl::StrSplit(absl::string_view(input.data(), input.size()), '\0')) {
    CheckReply(world->rpc->Handle(std::string_view(body.data(), body.size())));
    CheckReply(world->rpc->Handle(GetEverything()));
  }
  for (bt::client::Torrent* t : world->client->torrents()) {
    (void)world->client->RemoveTorrent(t, /*delete_data=*/true);
  }
  world->settings =
      bt::daemon::DaemonSettings{.download_dir = world->root + "/dl"};
  world->rpc->ApplySettings();
  return 0;
}
