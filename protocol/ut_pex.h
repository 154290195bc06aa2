// ut_pex (BEP 11): peer exchange messages listing peers added and dropped
// since the last message, in compact form, with per-peer flags.
//
//   bt::protocol::PexMessage pex;
//   pex.added.push_back(bt::Endpoint::V4({10, 0, 0, 1}, 6881));
//   pex.added_flags.push_back(bt::protocol::kPexSeed);
//   std::string payload;
//   bt::protocol::AppendPexMessage(pex, &payload);
//   bt::protocol::AppendExtended(their_ut_pex_id, payload, &out);
//   ...
//   ASSIGN_OR_RETURN(bt::protocol::PexMessage got,
//                    bt::protocol::ParsePexMessage(extended.payload));
#ifndef PROTOCOL_UT_PEX_H_
#define PROTOCOL_UT_PEX_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/endpoint.h"

namespace bt::protocol {

// Flags of added peers (one byte per peer in added.f / added6.f).
inline constexpr uint8_t kPexPrefersEncryption = 0x01;
inline constexpr uint8_t kPexSeed = 0x02;
inline constexpr uint8_t kPexUtp = 0x04;
inline constexpr uint8_t kPexHolepunch = 0x08;
inline constexpr uint8_t kPexReachable = 0x10;

struct PexMessage {
  std::vector<Endpoint> added;        // IPv4
  std::vector<uint8_t> added_flags;   // empty, or one per `added`
  std::vector<Endpoint> added6;       // IPv6
  std::vector<uint8_t> added6_flags;  // empty, or one per `added6`
  std::vector<Endpoint> dropped;      // IPv4
  std::vector<Endpoint> dropped6;     // IPv6

  friend bool operator==(const PexMessage&, const PexMessage&) = default;
};

struct PexLimits {
  // Most peers accepted in each of the four lists (BEP 11 asks senders for
  // at most 50 per message after the first).
  size_t max_peers_per_list = 500;
};

// ParsePexMessage parses a ut_pex payload. Checks: a bencoded dict with at
// least one of added, added6, dropped, dropped6; each list a string of
// whole 6-byte (IPv4) or 18-byte (IPv6) compact peers; a flags string, when
// present, has exactly one byte per added peer. Unknown keys are ignored.
// Errors: kInvalidArgument naming the key, kResourceExhausted for a list
// longer than the limit.
absl::StatusOr<PexMessage> ParsePexMessage(std::string_view payload,
                                           const PexLimits& limits = {});

// AppendPexMessage appends the bencoded payload for `m` to `*out`: the four
// lists always (possibly empty), flags when not empty. Endpoints of the
// wrong family for a list are skipped; `added_flags` is written only when
// it has one byte per written added peer (likewise for IPv6).
void AppendPexMessage(const PexMessage& m, std::string* out);

}  // namespace bt::protocol

#endif  // PROTOCOL_UT_PEX_H_
