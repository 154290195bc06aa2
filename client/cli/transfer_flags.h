// TransferArgs: what `bt download` and `bt seed` are given, and the flags
// both declare for it: where to listen, peers to add, encryption and
// transport, rate and connection limits, the DHT and its routers, local
// service discovery, resume and state files. TransferClientOptions turns
// them into the ClientOptions a new client starts with.
//
//   TransferArgs a;
//   FlagSet flags("bt seed");
//   DeclareTransferFlags(flags, a);
//   RETURN_IF_ERROR(flags.Parse({"--upload-rate", "65536", "--no-dht"}));
//   ClientOptions options = TransferClientOptions(a);
#ifndef CLIENT_CLI_TRANSFER_FLAGS_H_
#define CLIENT_CLI_TRANSFER_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/endpoint.h"
#include "client/cli/common.h"
#include "client/cli/flags.h"
#include "client/client_options.h"

namespace bt::client::cli {

// BindAddress: one --bind value, a local address and maybe a port.
struct BindAddress {
  std::string host;  // an IPv4 or IPv6 literal, without brackets
  std::optional<uint16_t> port;
  friend bool operator==(const BindAddress&, const BindAddress&) = default;
};

// ParseBindAddress reads "ADDR" or "ADDR:PORT": "0.0.0.0", "::", "::1",
// "[::1]", "127.0.0.1:6881", "[::]:6881". Errors: kInvalidArgument naming
// the text (host names are not addresses to bind).
absl::StatusOr<BindAddress> ParseBindAddress(std::string_view text);

struct TransferArgs {
  std::string torrent;
  std::string dir;
  // Everything a new client is made with but the port and rate limits.
  ClientOptions options;
  std::optional<uint16_t> port;  // replaces options.local_ports when given
  // --bind, in order: replace options.local_hosts when given; their ports
  // (all the same, and --port's) replace options.local_ports.
  std::vector<BindAddress> binds;
  // Rate limits in bytes per second (0: unlimited) when given; they apply
  // to a client restored from --state too.
  std::optional<int64_t> upload_rate;
  std::optional<int64_t> download_rate;
  std::vector<Endpoint> peers;
  bool keep_seeding = false;
  // `bt download` only: --sequential, and --priority in the order given.
  bool sequential = false;
  std::vector<FilePriorityArg> priorities;
  // `bt seed` only: --superseed (BEP 16).
  bool super_seed = false;
  std::string resume;  // resume data file; "" picks DIR/.btkit/<hash>.resume
  std::string state;   // client-wide state file (--state), "" for none
};

// DeclareClientFlags declares the flags that set up a client (every
// ClientOptions one and the rate limits: --port, --bind, encryption,
// transport, limits, DHT, LSD), bound to `a`; `bt daemon` uses them.
void DeclareClientFlags(FlagSet& flags, TransferArgs& a);

// DeclareTransferFlags declares the flags `bt download` and `bt seed` share
// (DeclareClientFlags' and --peer, --resume, --state),
// bound to `a`, which must outlive `flags`' Parse.
void DeclareTransferFlags(FlagSet& flags, TransferArgs& a);

// TransferClientOptions is a.options with the given addresses, port and
// rate limits.
ClientOptions TransferClientOptions(const TransferArgs& a);

}  // namespace bt::client::cli

#endif  // CLIENT_CLI_TRANSFER_FLAGS_H_
