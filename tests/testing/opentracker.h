// Test-only: opentracker (/usr/bin/opentracker, Debian's build) on
// 127.0.0.1, HTTP and UDP on one port number, serving only the info-hashes
// of its whitelist; the process is killed when the object is destroyed.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<bt::testing::Opentracker> tracker,
//                    bt::testing::Opentracker::Start({info_hash}, deadline));
//   ... a torrent that announces to tracker->http_url() ...
//   RETURN_IF_ERROR(tracker->WaitForPeers(info_hash, 1, 0, deadline));
#ifndef TESTS_TESTING_OPENTRACKER_H_
#define TESTS_TESTING_OPENTRACKER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/hash.h"
#include "tests/testing/subprocess.h"

namespace bt::testing {

class Opentracker {
 public:
  static constexpr char kPath[] = "/usr/bin/opentracker";
  // Start returns once the tracker holds its port and accepts announces
  // for every info-hash of `whitelist`, or kDeadlineExceeded.
  static absl::StatusOr<std::unique_ptr<Opentracker>> Start(
      const std::vector<Sha1Hash>& whitelist, absl::Time deadline);

  uint16_t port() const { return port_; }
  std::string http_url() const;
  std::string udp_url() const;
  // Announce sends one HTTP announce (compact) for a peer at
  // 127.0.0.1:`peer_port` with `left` bytes to go and `event` ("started",
  // "stopped", ...) and returns the raw reply.
  absl::StatusOr<std::string> Announce(const Sha1Hash& info_hash,
                                       uint16_t peer_port, int64_t left,
                                       const std::string& event);
  // Scrape returns {complete, incomplete} for `info_hash` (seeders and
  // leechers the tracker knows).
  absl::StatusOr<std::pair<int, int>> Scrape(const Sha1Hash& info_hash);
  // WaitForPeers polls Scrape until the tracker knows at least `seeders`
  // seeders and `leechers` leechers.
  absl::Status WaitForPeers(const Sha1Hash& info_hash, int seeders,
                            int leechers, absl::Time deadline);

 private:
  Opentracker() = default;
  std::string dir_;
  uint16_t port_ = 0;  // HTTP and UDP
  std::unique_ptr<Subprocess> process_;
};

}  // namespace bt::testing

#endif  // TESTS_TESTING_OPENTRACKER_H_
