// Fuzz target for Local Service Discovery (BEP 14): any datagram is
// refused or parsed, what parses survives EncodeAnnounce -> ParseAnnounce,
// and a Service fed the input as a run of datagrams (split at each "\0\0")
// returns peers only for its torrents, within its rate limits, and keeps
// no state per sender.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lsd/message.h"
#include "lsd/service.h"

namespace {

void CheckRoundTrip(std::string_view datagram) {
  auto a = bt::lsd::ParseAnnounce(datagram);
  if (!a.ok()) return;
  if (a->port == 0 || a->info_hashes.empty()) __builtin_trap();
  const std::string again =
      bt::lsd::EncodeAnnounce(a->host, a->port, a->info_hashes, a->cookie);
  if (again.size() > bt::lsd::kMaxAnnounceBytes) return;
  auto b = bt::lsd::ParseAnnounce(again);
  if (!b.ok() || !(*b == *a)) __builtin_trap();
}

void CheckService(std::string_view input) {
  const bt::Sha1Hash ours = bt::Sha1Hash::FromBytes(
      bt::AsBytes(std::string_view("aaaaaaaaaaaaaaaaaaaa")));
  bt::lsd::ServiceOptions options{.cookie = "fuzz"};
  bt::lsd::Service lsd(options);
  absl::Time now = absl::FromUnixSeconds(1'000'000);
  lsd.SetTorrents({ours}, now);
  size_t found = 0;
  for (;;) {
    const size_t cut = input.find(std::string_view("\0\0", 2));
    const std::string_view d = input.substr(0, cut);
    const bt::Endpoint from =
        bt::Endpoint::V4({10, 0, 0, static_cast<uint8_t>(d.size())}, 1);
    for (const bt::lsd::Found& f : lsd.HandleDatagram(d, from, now)) {
      if (f.info_hash != ours || f.peer.port() == 0) __builtin_trap();
      ++found;
    }
    (void)lsd.Due(now);
    now += absl::Milliseconds(10);
    if (cut == std::string_view::npos) break;
    input.remove_prefix(cut + 2);
  }
  const double seconds =
      absl::ToDoubleSeconds(now - absl::FromUnixSeconds(1'000'000));
  if (found > options.peer_burst + options.peer_rate * seconds + 1 ||
      lsd.tracked() != 1) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckRoundTrip(input);
  CheckService(input);
  return 0;
}
