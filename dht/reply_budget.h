// Reply budget: keeps a KRPC reply within a byte budget (BEP 32: a node
// must not send datagrams over 1024 bytes) by dropping what the asker can
// best do without: first peers ("values") and info-hash samples, then the
// farthest nodes, and as a last resort a BEP 44 item's value (its "seq"
// stays, so the asker still learns that a newer item exists).
//
//   bt::dht::Message reply = bt::dht::Message::MakeResponse(tid, my_id);
//   ...fill in nodes, values...
//   std::optional<std::string> bytes = bt::dht::FitReply(reply, 1024);
//   if (bytes) send(*bytes);
#ifndef DHT_REPLY_BUDGET_H_
#define DHT_REPLY_BUDGET_H_

#include <cstddef>
#include <optional>
#include <string>

#include "dht/krpc.h"

namespace bt::dht {

// FitReply encodes `reply` (a response or an error) in at most `budget`
// bytes, trimming `reply` as the file comment says: entries are dropped
// from the end of each list (the nearest nodes, sorted first, stay) and a
// list that empties is left out. Returns the encoding, or nullopt when even
// the trimmed reply does not fit (a budget too small for the bare message).
std::optional<std::string> FitReply(Message& reply, size_t budget);

}  // namespace bt::dht

#endif  // DHT_REPLY_BUDGET_H_
