// UDP tracker protocol (BEP 15, with BEP 41 URL data), sans I/O: a packet
// codec for both directions and UdpTrackerExchange, the state machine for
// one announce or scrape (connect, request, retransmission with
// 15 * 2^n s back-off, connection id reuse for its one-minute lifetime,
// transaction ids checked on every reply). The caller owns the socket and
// the clock: it sends what TakePacket() returns, feeds datagrams from the
// tracker to OnDatagram(), and calls OnTimeout() once deadline() passes.
//
//   bt::tracker::UdpConnectionId conn;   // one per tracker address; reused
//   bt::tracker::UdpTrackerExchange ex =
//       bt::tracker::UdpTrackerExchange::Announce(request, url.path_query,
//                                                 /*ipv6=*/false, &conn, {});
//   ex.Start(now);
//   while (!ex.done()) {
//     while (auto p = ex.TakePacket()) sendto(fd, *p, tracker);
//     wait for a datagram or ex.deadline();
//     got ? ex.OnDatagram(datagram, now) : ex.OnTimeout(now);
//   }
//   absl::StatusOr<AnnounceResponse> r = ex.announce_result();
#ifndef TRACKER_UDP_TRACKER_H_
#define TRACKER_UDP_TRACKER_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "tracker/announce.h"

namespace bt::tracker {

inline constexpr uint64_t kUdpProtocolId = 0x41727101980ULL;

enum class UdpAction : uint32_t {
  kConnect = 0,
  kAnnounce = 1,
  kScrape = 2,
  kError = 3,
};

// Most info-hashes one scrape packet may carry (BEP 15: "about 74").
inline constexpr size_t kMaxUdpScrapeHashes = 74;

// ---- Client-side packets ---------------------------------------------------

// BuildUdpConnectRequest returns the 16-byte connect request.
std::string BuildUdpConnectRequest(uint32_t transaction_id);

// BuildUdpAnnounceRequest returns the 98-byte announce request followed by
// BEP 41 URLData options carrying `url_data` (a tracker URL's path and
// query; nothing is added when it is empty or just "/"), in chunks of at
// most 255 bytes. `request.ip` is sent only when it is a dotted IPv4
// address; `numwant` unset is sent as -1.
std::string BuildUdpAnnounceRequest(uint64_t connection_id,
                                    uint32_t transaction_id,
                                    const AnnounceRequest& request,
                                    std::string_view url_data);

// BuildUdpScrapeRequest returns a scrape request for up to
// kMaxUdpScrapeHashes hashes (callers split longer lists).
std::string BuildUdpScrapeRequest(uint64_t connection_id,
                                  uint32_t transaction_id,
                                  absl::Span<const Sha1Hash> info_hashes);

// Replies a tracker sends, as parsed by ParseUdpTrackerReply.
struct UdpConnectReply {
  uint32_t transaction_id = 0;
  uint64_t connection_id = 0;
};
struct UdpAnnounceReply {
  uint32_t transaction_id = 0;
  uint32_t interval = 0;
  uint32_t leechers = 0;
  uint32_t seeders = 0;
  std::vector<Endpoint> peers;
};
struct UdpScrapeCounts {
  uint32_t seeders = 0;
  uint32_t completed = 0;
  uint32_t leechers = 0;
};
struct UdpScrapeReply {
  uint32_t transaction_id = 0;
  std::vector<UdpScrapeCounts> counts;  // in request order
};
struct UdpErrorReply {
  uint32_t transaction_id = 0;
  std::string message;
};
using UdpTrackerReply = std::variant<UdpConnectReply, UdpAnnounceReply,
                                     UdpScrapeReply, UdpErrorReply>;

// ParseUdpTrackerReply decodes one datagram from a tracker. `ipv6` selects
// the 18-byte peer stride of announce replies (BEP 15: by the address
// family the packet came over). Packets are strict where BEP 15 allows:
// fixed parts must be present (connect replies may carry extra bytes), peer
// lists must be whole entries, scrape counts whole 12-byte triples. The
// error message is taken as bytes, capped at 1024 and with control
// characters replaced. Errors: kInvalidArgument naming the action and
// byte offset.
absl::StatusOr<UdpTrackerReply> ParseUdpTrackerReply(std::string_view packet,
                                                     bool ipv6);

// ---- Tracker-side packets (for test trackers and tools) --------------------

struct UdpConnectRequest {
  uint32_t transaction_id = 0;
};
struct UdpAnnounceRequest {
  uint64_t connection_id = 0;
  uint32_t transaction_id = 0;
  AnnounceRequest request;  // ip/tracker_id/ipv6 as in the packet
  std::string url_data;     // BEP 41 URLData, concatenated
};
struct UdpScrapeRequest {
  uint64_t connection_id = 0;
  uint32_t transaction_id = 0;
  std::vector<Sha1Hash> info_hashes;
};
using UdpTrackerRequest =
    std::variant<UdpConnectRequest, UdpAnnounceRequest, UdpScrapeRequest>;

// ParseUdpTrackerRequest decodes a datagram a client sent to a tracker,
// including BEP 41 options (EndOfOptions, NOP, URLData; unknown options are
// skipped by their length). kInvalidArgument for malformed packets.
absl::StatusOr<UdpTrackerRequest> ParseUdpTrackerRequest(
    std::string_view packet);

// Tracker-side builders.
std::string BuildUdpConnectReply(uint32_t transaction_id,
                                 uint64_t connection_id);
std::string BuildUdpAnnounceReply(const UdpAnnounceReply& reply);
std::string BuildUdpScrapeReply(const UdpScrapeReply& reply);
std::string BuildUdpErrorReply(uint32_t transaction_id,
                               std::string_view message);

// ---- The exchange state machine --------------------------------------------

// UdpConnectionId caches a tracker's connection id. Keep one per tracker
// address and pass it to every exchange with that tracker, so connects are
// skipped while the id is fresh. It must outlive the exchanges using it.
struct UdpConnectionId {
  std::optional<uint64_t> id;
  TimePoint obtained;
};

struct UdpTrackerOptions {
  // Retransmission n (0-based) waits base_timeout * 2^n, n capped at 8.
  Duration base_timeout = std::chrono::seconds(15);
  // Time-outs before giving up (BEP 15 retries forever; a client must move
  // on to the next tracker). n restarts at 0 after each connect reply, so
  // the exchange ends within base_timeout * (2^max_timeouts - 1) plus the
  // tracker's reply delays: 4 time-outs = 15 + 30 + 60 + 120 s.
  int max_timeouts = 4;
  // A connection id is used for this long after it was received.
  Duration connection_id_lifetime = std::chrono::seconds(60);
};

class UdpTrackerExchange {
 public:
  // Announce / Scrape prepare an exchange; nothing happens before Start.
  // `connection` must outlive the exchange. Scrape takes at most
  // kMaxUdpScrapeHashes hashes (extra ones are not sent).
  static UdpTrackerExchange Announce(AnnounceRequest request,
                                     std::string url_data, bool ipv6,
                                     UdpConnectionId* connection,
                                     UdpTrackerOptions options);
  static UdpTrackerExchange Scrape(std::vector<Sha1Hash> info_hashes,
                                   bool ipv6, UdpConnectionId* connection,
                                   UdpTrackerOptions options);

  // Start queues the first packet (connect, or the request itself when the
  // connection id is fresh).
  void Start(TimePoint now);

  // TakePacket returns the next datagram to send to the tracker, if any.
  std::optional<std::string> TakePacket();

  // OnDatagram feeds one datagram received from the tracker. Packets that
  // do not parse, or whose transaction id or action is not the one awaited,
  // are ignored and counted (a late reply to an earlier exchange is
  // normal). An error packet with our transaction id ends the exchange
  // with its message as the failure reason.
  void OnDatagram(std::string_view packet, TimePoint now);

  // OnTimeout advances the state machine when now >= deadline():
  // retransmits (reconnecting if the connection id expired meanwhile) or
  // gives up after max_timeouts with a kUnavailable error.
  void OnTimeout(TimePoint now);

  // deadline is when OnTimeout must be called; TimePoint::max() when done.
  TimePoint deadline() const { return deadline_; }
  bool done() const { return state_ == State::kDone; }
  // awaited_transaction_id is the id a reply must carry (for routing
  // datagrams between concurrent exchanges on one socket).
  uint32_t awaited_transaction_id() const { return transaction_id_; }
  int ignored_packets() const { return ignored_; }

  // Results, valid once done(). announce_result: the response (a tracker
  // error packet becomes failure_reason), or kUnavailable on time-out.
  const absl::StatusOr<AnnounceResponse>& announce_result() const {
    return announce_result_;
  }
  const absl::StatusOr<ScrapeResponse>& scrape_result() const {
    return scrape_result_;
  }

 private:
  enum class Kind { kAnnounce, kScrape };
  enum class State { kIdle, kConnecting, kRequesting, kDone };

  UdpTrackerExchange(Kind kind, bool ipv6, UdpConnectionId* connection,
                     UdpTrackerOptions options)
      : kind_(kind), ipv6_(ipv6), connection_(connection), options_(options) {}

  bool ConnectionFresh(TimePoint now) const;
  void SendConnect(TimePoint now);
  void SendRequest(TimePoint now);
  void ArmTimer(TimePoint now);
  void Finish(absl::Status error);

  Kind kind_;
  bool ipv6_;
  UdpConnectionId* connection_;
  UdpTrackerOptions options_;
  AnnounceRequest request_;
  std::string url_data_;
  std::vector<Sha1Hash> info_hashes_;

  State state_ = State::kIdle;
  int backoff_n_ = 0;  // sends since the last connect reply
  int timeouts_ = 0;
  uint32_t transaction_id_ = 0;
  TimePoint deadline_ = TimePoint::max();
  std::optional<std::string> outgoing_;
  int ignored_ = 0;
  std::string last_ignored_reason_;
  absl::StatusOr<AnnounceResponse> announce_result_ =
      absl::UnknownError("not finished");
  absl::StatusOr<ScrapeResponse> scrape_result_ =
      absl::UnknownError("not finished");
};

}  // namespace bt::tracker

#endif  // TRACKER_UDP_TRACKER_H_
