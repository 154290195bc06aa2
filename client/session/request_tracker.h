// RequestTracker: the block requests one session has sent to its peer —
// those in flight, and a bounded memory of those it gave up on (cancelled,
// voided by a choke, dropped when the peer was snubbed) — so that every
// block or reject the peer sends can be matched to a request of ours, and
// anything else recognised as unsolicited. Sans-I/O: time is passed in.
//
//   bt::client::RequestTracker requests;
//   requests.Add({7, 0}, 16384, now);                  // sent a request
//   switch (requests.Match({7, 0}, data.size())) {     // a block arrived
//     case RequestTracker::Match::kInFlight: ...       // ours, and awaited
//     case RequestTracker::Match::kGivenUp: ...        // ours, late
//     case RequestTracker::Match::kWrongLength: ...    // ours, but malformed
//     case RequestTracker::Match::kUnknown: ...        // never asked for
//   }
#ifndef CLIENT_SESSION_REQUEST_TRACKER_H_
#define CLIENT_SESSION_REQUEST_TRACKER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "absl/time/time.h"
#include "client/session/block_ref.h"

namespace bt::client {

class RequestTracker {
 public:
  // `given_up_memory` is how many given-up requests are remembered (older
  // ones are forgotten first).
  explicit RequestTracker(size_t given_up_memory = 1024)
      : given_up_memory_(given_up_memory) {}

  // Add records a request sent at `now` for `length` bytes of `block`.
  void Add(BlockRef block, uint32_t length, absl::Time now);

  enum class Match {
    kInFlight,     // in flight, right length: it is now answered
    kGivenUp,      // a request we gave up on, right length: now answered
    kWrongLength,  // a request of ours, but the data has another length
    kUnknown,      // never requested (or answered already)
  };
  // Match finds and removes the request a block of `length` bytes answers.
  Match MatchBlock(BlockRef block, size_t length);
  // MatchReject removes the request a reject names: kInFlight or kGivenUp
  // as for a block, else kUnknown (a length mismatch included).
  Match MatchReject(BlockRef block, uint32_t length);

  // GiveUp moves one request from in flight to the given-up memory; false
  // if it was not in flight.
  bool GiveUp(BlockRef block);
  // GiveUpAll does that for every request in flight and returns them.
  std::vector<BlockRef> GiveUpAll();

  size_t in_flight() const { return in_flight_.size(); }
  // oldest_sent is when the oldest request in flight was sent
  // (InfiniteFuture if none).
  absl::Time oldest_sent() const;
  // InFlight lists the blocks in flight, oldest first.
  std::vector<BlockRef> InFlight() const;

 private:
  struct Sent {
    BlockRef block;
    uint32_t length;
    absl::Time at;
  };
  static std::deque<Sent>::iterator Find(std::deque<Sent>& list,
                                         BlockRef block);

  size_t given_up_memory_;
  std::deque<Sent> in_flight_;
  std::deque<Sent> given_up_;
};

}  // namespace bt::client

#endif  // CLIENT_SESSION_REQUEST_TRACKER_H_
