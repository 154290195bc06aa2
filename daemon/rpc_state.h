// RpcState: what the Transmission RPC's methods share (the client, the
// settings, the torrent book, the options), and the method signature.
// Internal to daemon/: the methods live in session_methods.cc,
// torrent_methods.cc and torrent_fields.cc.
#ifndef DAEMON_RPC_STATE_H_
#define DAEMON_RPC_STATE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "daemon/daemon_settings.h"
#include "daemon/json_args.h"
#include "daemon/torrent_book.h"
#include "daemon/transmission_rpc.h"

namespace bt::daemon {

struct RpcState {
  client::Client* client = nullptr;
  DaemonSettings* settings = nullptr;
  RpcOptions options;
  TorrentBook book;
  absl::Time session_start = absl::Now();
  // Bytes moved by torrents removed since the session started (their
  // counters went with them).
  int64_t removed_uploaded = 0, removed_downloaded = 0;
  int64_t torrents_added = 0;
  bool changed = false;  // set by a method that changed something

  // Find: the client's torrent of `info_hash`, stopped ones included
  // (Client's non-const FindTorrent leaves those out), or null.
  client::Torrent* Find(const Sha1Hash& info_hash) const {
    return static_cast<const client::Client*>(client)->FindTorrent(info_hash);
  }
  // Record adds a torrent to the book (idempotent) and returns its record.
  TorrentRecord& Record(client::Torrent* t);
};

// A method reads `args` and fills `out` (the response's "arguments").
using RpcMethod = absl::Status (*)(RpcState& s, const Json& args, Json& out);

// The methods, by file.
absl::Status SessionGet(RpcState& s, const Json& args, Json& out);
absl::Status SessionSet(RpcState& s, const Json& args, Json& out);
absl::Status SessionStats(RpcState& s, const Json& args, Json& out);
absl::Status SessionClose(RpcState& s, const Json& args, Json& out);
absl::Status FreeSpace(RpcState& s, const Json& args, Json& out);
absl::Status PortTest(RpcState& s, const Json& args, Json& out);
absl::Status TorrentGet(RpcState& s, const Json& args, Json& out);
absl::Status TorrentAdd(RpcState& s, const Json& args, Json& out);
absl::Status TorrentStart(RpcState& s, const Json& args, Json& out);
absl::Status TorrentStop(RpcState& s, const Json& args, Json& out);
absl::Status TorrentVerify(RpcState& s, const Json& args, Json& out);
absl::Status TorrentReannounce(RpcState& s, const Json& args, Json& out);
absl::Status TorrentRemove(RpcState& s, const Json& args, Json& out);
absl::Status TorrentSet(RpcState& s, const Json& args, Json& out);
absl::Status TorrentSetLocation(RpcState& s, const Json& args, Json& out);

// SelectTorrents reads `args`' "ids": absent for every torrent; an id, a
// hash string, or an array of them; or "recently-active" (torrents active
// in the last minute). Unknown ids and hashes select nothing, as in
// Transmission. Errors: kInvalidArgument for another type.
absl::StatusOr<std::vector<client::Torrent*>> SelectTorrents(RpcState& s,
                                                             const Json& args);

// ApplySettings makes the client follow s.settings.
void ApplySettings(RpcState& s);

// StartTorrent starts `t`, loading its resume data or checking its data
// first when it never ran.
absl::Status StartTorrent(RpcState& s, client::Torrent* t);

}  // namespace bt::daemon

#endif  // DAEMON_RPC_STATE_H_
