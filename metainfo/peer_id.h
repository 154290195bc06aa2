// Peer ids: generation in the Azureus style (BEP 20) and identification of
// the client behind a peer id.
//
//   bt::PeerId me = bt::metainfo::GeneratePeerId();   // "-BK0100-" + random
//   std::string who = bt::metainfo::DescribeClient(remote_id);
//   // e.g. "libtorrent (Rasterbar) 2.0.8", "Transmission 4.0.5"
#ifndef METAINFO_PEER_ID_H_
#define METAINFO_PEER_ID_H_

#include <optional>
#include <string>
#include <string_view>

#include "base/hash.h"

namespace bt::metainfo {

// kPeerIdPrefix is btkit's Azureus-style prefix: client "BK", version 0.1.0.
inline constexpr std::string_view kPeerIdPrefix = "-BK0100-";

// GeneratePeerId returns `prefix` (at most 20 bytes; longer is cut) followed
// by random bytes from the CSPRNG (base/random.h).
PeerId GeneratePeerId(std::string_view prefix = kPeerIdPrefix);

// ClientId is what a peer id tells about the client that made it.
struct ClientId {
  std::string name;     // "qBittorrent", or "unknown (XY)" for an unknown code
  std::string version;  // "4.6.3"; empty if the style carries none
  friend bool operator==(const ClientId&, const ClientId&) = default;
};

// IdentifyClient recognises Azureus-style ("-XXVVVV-"), Shadow-style
// ("T03I--"), Mainline-style ("M7-4-0--") and aria2 ("A2-1-36-0-") peer ids;
// nullopt for ids following none of them. An Azureus-style id with an unknown
// two-letter code still yields a ClientId naming the code.
std::optional<ClientId> IdentifyClient(const PeerId& id);

// DescribeClient renders IdentifyClient's answer ("name version"), or
// "unknown" followed by the printable prefix of the id.
std::string DescribeClient(const PeerId& id);

}  // namespace bt::metainfo

#endif  // METAINFO_PEER_ID_H_
