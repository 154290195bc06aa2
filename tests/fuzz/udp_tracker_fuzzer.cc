// Feeds arbitrary datagrams to the UDP tracker reply and request parsers
// and to a running announce exchange.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tracker/udp_tracker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)bt::tracker::ParseUdpTrackerReply(in, false);
  (void)bt::tracker::ParseUdpTrackerReply(in, true);
  auto req = bt::tracker::ParseUdpTrackerRequest(in);
  if (req.ok()) {
    // Whatever parses as an announce must survive a rebuild.
    if (auto* a = std::get_if<bt::tracker::UdpAnnounceRequest>(&*req)) {
      std::string again = bt::tracker::BuildUdpAnnounceRequest(
          a->connection_id, a->transaction_id, a->request, a->url_data);
      if (!bt::tracker::ParseUdpTrackerRequest(again).ok()) __builtin_trap();
    }
  }

  // An exchange that already holds a connection id sees the datagram as a
  // reply (the transaction id is patched in so the deep paths are reached).
  bt::tracker::UdpConnectionId conn;
  conn.id = 1;
  bt::tracker::TimePoint now{};
  conn.obtained = now;
  bt::tracker::UdpTrackerExchange ex = bt::tracker::UdpTrackerExchange::Announce(
      bt::tracker::AnnounceRequest(), "/a", size % 2 == 1, &conn, {});
  ex.Start(now);
  (void)ex.TakePacket();
  std::string reply(in);
  if (reply.size() >= 8) {
    uint32_t tx = ex.awaited_transaction_id();
    reply[4] = static_cast<char>(tx >> 24);
    reply[5] = static_cast<char>(tx >> 16);
    reply[6] = static_cast<char>(tx >> 8);
    reply[7] = static_cast<char>(tx);
  }
  ex.OnDatagram(reply, now);
  if (!ex.done()) ex.OnTimeout(ex.deadline());
  return 0;
}
