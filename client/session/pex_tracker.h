// PexTracker: what one peer has been told through peer exchange (BEP 11),
// so each message carries only the changes: peers added since the last one
// and peers gone since. At most 50 of each per message, as BEP 11 asks.
//
//   bt::client::PexTracker pex;
//   std::optional<bt::protocol::PexMessage> m =
//       pex.Update(current_peers, /*self=*/peer_listen_address);
//   if (m) SendPex(*m);
#ifndef CLIENT_SESSION_PEX_TRACKER_H_
#define CLIENT_SESSION_PEX_TRACKER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"

#include "base/endpoint.h"
#include "protocol/ut_pex.h"

namespace bt::client {

class PexTracker {
 public:
  static constexpr size_t kMaxPerMessage = 50;

  // Update compares `current` (listen addresses with their BEP 11 flags)
  // with what was told before and returns the message that brings the
  // peer up to date, or nullopt if nothing changed. `self` (the peer's own
  // address) is never sent to it.
  std::optional<protocol::PexMessage> Update(
      const std::vector<std::pair<Endpoint, uint8_t>>& current,
      const std::optional<Endpoint>& self);

  size_t told() const { return told_.size(); }

 private:
  absl::btree_set<Endpoint> told_;
};

}  // namespace bt::client

#endif  // CLIENT_SESSION_PEX_TRACKER_H_
