// `bt daemon`: a long-running client for many torrents, driven over
// Transmission's RPC (transmission-remote, Transmission's web client).
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_split.h"
#include "client/cli/command.h"
#include "client/cli/common.h"
#include "client/cli/transfer_flags.h"
#include "daemon/daemon.h"

namespace bt::client::cli {
namespace {

constexpr char kDebianWebClient[] = "/usr/share/transmission/web";

struct DaemonArgs {
  TransferArgs client;
  std::string state_dir;
  std::string download_dir;
  BindAddress rpc_bind{"127.0.0.1", 9091};
  std::string rpc_auth;
  std::vector<std::string> allowed_roots;
  std::vector<std::string> rpc_hosts;
  std::string web_root = kDebianWebClient;
};

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

void DeclareDaemon(FlagSet& flags, DaemonArgs& a) {
  flags
      .String("--state-dir DIR", &a.state_dir,
              "where the daemon keeps its torrents, settings and resume data")
      .Required();
  flags.String("--download-dir DIR", &a.download_dir,
               "where torrents are saved unless a request says otherwise "
               "(needed on the first start; later ones keep the saved one)");
  flags
      .Parsed("--rpc-bind ADDR[:PORT]", &a.rpc_bind, ParseBindAddress,
              "the RPC's address; another than loopback needs --rpc-auth")
      .DefaultText("127.0.0.1:9091");
  flags.String("--rpc-auth USER:PASSWORD", &a.rpc_auth,
               "require HTTP basic authentication");
  flags
      .Repeated("--allowed-root DIR", &a.allowed_roots,
                "a directory requests may name (download directories, "
                "locations, .torrent files)")
      .DefaultText("the download directory");
  flags.Repeated("--rpc-host NAME", &a.rpc_hosts,
                 "a host name the RPC answers to without --rpc-auth, besides "
                 "addresses and localhost (a guard against DNS rebinding)");
  flags
      .String("--web-root DIR", &a.web_root,
              "Transmission's web client, served at /transmission/web/ "
              "(\"\" for none)")
      .DefaultText(kDebianWebClient);
  DeclareClientFlags(flags, a.client);
  flags.Check([&a]() -> absl::Status {
    if (!a.rpc_auth.empty() && a.rpc_auth.find(':') == std::string::npos) {
      return absl::InvalidArgumentError("--rpc-auth needs USER:PASSWORD");
    }
    return absl::OkStatus();
  });
}

daemon::DaemonOptions Options(const DaemonArgs& a) {
  daemon::DaemonOptions o;
  o.state_dir = a.state_dir;
  o.download_dir = a.download_dir;
  o.allowed_roots = a.allowed_roots;
  o.client = TransferClientOptions(a.client);
  o.upload_rate = a.client.upload_rate;
  o.download_rate = a.client.download_rate;
  o.http.bind_host = a.rpc_bind.host;
  o.http.allowed_hosts = a.rpc_hosts;
  o.http.port = a.rpc_bind.port.value_or(9091);
  if (!a.rpc_auth.empty()) {
    std::pair<std::string, std::string> auth =
        absl::StrSplit(a.rpc_auth, absl::MaxSplits(':', 1));
    o.http.user = auth.first;
    o.http.password = auth.second;
  }
  // The web client is served when it is installed.
  if (!a.web_root.empty() && std::filesystem::is_directory(a.web_root)) {
    o.http.web_root = a.web_root;
  }
  return o;
}

int RunDaemon(const DaemonArgs& a) {
  constexpr char kCommand[] = "daemon";
  absl::StatusOr<std::unique_ptr<daemon::Daemon>> d =
      daemon::Daemon::Start(Options(a));
  if (!d.ok()) return Fail(kCommand, d.status());
  const std::string host = a.rpc_bind.host.find(':') == std::string::npos
                               ? a.rpc_bind.host
                               : "[" + a.rpc_bind.host + "]";
  std::fprintf(
      stderr,
      "bt daemon: %zu torrents, peers on port %u, download dir %s\n"
      "RPC at http://%s:%u/transmission/rpc%s\n",
      (*d)->client().torrents().size(), (*d)->client().port(),
      (*d)->settings().download_dir.c_str(), host.c_str(), (*d)->rpc_port(),
      Options(a).http.web_root.empty() ? ""
                                       : ", web client at /transmission/web/");
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  while (!g_stop && !(*d)->close_requested()) {
    if (absl::Status s = (*d)->RunOnce(0.5); !s.ok()) return Fail(kCommand, s);
  }
  std::fprintf(stderr, "bt daemon: saving and stopping\n");
  if (absl::Status s = (*d)->Shutdown(); !s.ok()) return Fail(kCommand, s);
  return 0;
}

constexpr char kDescription[] =
    "Runs until SIGINT or SIGTERM (or an RPC session-close), serving\n"
    "Transmission's RPC: drive it with transmission-remote or a browser at\n"
    "http://127.0.0.1:9091/transmission/web/. Every torrent, setting and\n"
    "resume data is kept in --state-dir and restored at the next start.";

[[maybe_unused]] const bool kRegistered =
    RegisterCommand(MakeCommand<DaemonArgs>(
        {"daemon", "run a multi-torrent client driven over Transmission's RPC",
         kDescription, DeclareDaemon, RunDaemon}));

}  // namespace
}  // namespace bt::client::cli
