// ClientState: everything a client needs to come back after a restart —
// its DHT id and contacts, its settings and its torrents — as one bencoded
// file (the seed's "client-wide state"). The file carries a format tag, a
// version (newer versions are refused) and a SHA-1 over its content, so
// damage or tampering is detected and reported instead of trusted.
//
//   RETURN_IF_ERROR(SaveClientState("/state/client.state", s));
//   ASSIGN_OR_RETURN(ClientState back, LoadClientState("/state/client.state"));
//   // or, in memory:
//   ASSIGN_OR_RETURN(ClientState s, DecodeClientState(bytes));
//   std::string bytes = EncodeClientState(s);
//
// File layout: d 6:format 18:btkit client state  7:version i2e
//               8:checksum 20:<SHA-1 of the raw data value>  4:data d...e e
// where data holds "dht" and "dht6" (the IPv4 and IPv6 DHT nodes' saved
// states), "settings" and "torrents" (a list of dicts: info-hash, source,
// save path, resume path, state). Version 1 files (one "local host", no
// "dht6") are read as well.
#ifndef CLIENT_CLIENT_STATE_H_
#define CLIENT_CLIENT_STATE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
// Callers that write EncodeClientState() themselves use WriteFileAtomically.
#include "base/file_util.h"  // IWYU pragma: export
#include "base/hash.h"

namespace bt::client {

inline constexpr char kClientStateFormat[] = "btkit client state";
inline constexpr int64_t kClientStateVersion = 2;
// kMaxClientStateSize bounds a state file read or decoded.
inline constexpr size_t kMaxClientStateSize = size_t{64} << 20;

struct ClientState {
  struct Torrent {
    Sha1Hash info_hash;       // checked against the source on restore
    std::string source;       // a .torrent path or a magnet URI
    std::string save_path;
    std::string resume_path;  // its resume data, if any
    std::string state;        // "stopped", "paused" or "started"
    friend bool operator==(const Torrent&, const Torrent&) = default;
  };
  int64_t timestamp = 0;
  // dht::Node::SaveState() bytes of the IPv4 and IPv6 nodes; empty for a
  // node the client did not run.
  std::string dht;
  std::string dht6;
  // Settings.
  std::vector<std::string> local_hosts;
  std::vector<uint16_t> local_ports;
  std::string encryption;  // "disabled", "enabled" or "forced"
  int64_t upload_rate_limit = 0;
  int64_t download_rate_limit = 0;
  std::vector<Torrent> torrents;
  friend bool operator==(const ClientState&, const ClientState&) = default;
};

std::string EncodeClientState(const ClientState& state);
// DecodeClientState parses a state file strictly. Errors: kInvalidArgument
// malformed (what and where), kFailedPrecondition another format or a
// newer version, kDataLoss a checksum mismatch (damaged or tampered).
absl::StatusOr<ClientState> DecodeClientState(std::string_view bytes);

// SaveClientState encodes `state` and replaces the file at `path` with it
// atomically; errors are WriteFileAtomically's (base/file_util.h).
absl::Status SaveClientState(const std::string& path, const ClientState& state);

// LoadClientState reads and decodes the state file at `path`. Errors:
// ReadFileToString's (kNotFound when there is none, kResourceExhausted
// above kMaxClientStateSize), then DecodeClientState's with `path` added to
// the message.
absl::StatusOr<ClientState> LoadClientState(const std::string& path);

}  // namespace bt::client

#endif  // CLIENT_CLIENT_STATE_H_
