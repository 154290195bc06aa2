// TokenIssuer: the write tokens a DHT node hands out in get_peers responses
// and checks in announce_peer queries (BEP 5). A token is a hash of a secret
// and the requester's IP address; the secret rotates every 5 minutes and the
// previous one stays valid, so a token is accepted for 5 to 10 minutes and
// only from the address it was given to.
//
//   bt::dht::TokenIssuer tokens(random_secret_fn, now);
//   std::string token = tokens.Issue(requester_ip_bytes, now);
//   if (!tokens.Check(token, announcer_ip_bytes, now)) reject();
#ifndef DHT_TOKEN_ISSUER_H_
#define DHT_TOKEN_ISSUER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "base/bytes.h"

namespace bt::dht {

inline constexpr size_t kTokenSize = 8;

class TokenIssuer {
 public:
  static constexpr absl::Duration kRotateInterval = absl::Minutes(5);

  // `secret_source` supplies 16 fresh random bytes each time it is called
  // (at construction and at every rotation); it must stay callable for the
  // issuer's lifetime.
  using SecretSource = std::function<std::array<uint8_t, 16>()>;
  TokenIssuer(SecretSource source, absl::Time now);

  // Issue returns the token for `ip` (the address bytes of the requester).
  std::string Issue(ByteSpan ip, absl::Time now);

  // Check is true if `token` was issued to `ip` under the current or the
  // previous secret.
  bool Check(std::string_view token, ByteSpan ip, absl::Time now);

 private:
  void MaybeRotate(absl::Time now);
  std::string Make(const std::array<uint8_t, 16>& secret, ByteSpan ip) const;

  SecretSource source_;
  std::array<uint8_t, 16> current_;
  std::array<uint8_t, 16> previous_;
  absl::Time rotated_;
};

}  // namespace bt::dht

#endif  // DHT_TOKEN_ISSUER_H_
