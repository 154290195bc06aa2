#include "dht/token_issuer.h"

#include <utility>

#include "base/sha.h"

namespace bt::dht {

TokenIssuer::TokenIssuer(SecretSource source, absl::Time now)
    : source_(std::move(source)), rotated_(now) {
  current_ = source_();
  previous_ = source_();
}

void TokenIssuer::MaybeRotate(absl::Time now) {
  if (now - rotated_ < kRotateInterval) return;
  // After a long pause both secrets are stale.
  if (now - rotated_ >= 2 * kRotateInterval) {
    previous_ = source_();
  } else {
    previous_ = current_;
  }
  current_ = source_();
  rotated_ = now;
}

std::string TokenIssuer::Make(const std::array<uint8_t, 16>& secret,
                              ByteSpan ip) const {
  Sha1Hasher h;
  h.Update(ByteSpan(secret));
  h.Update(ip);
  Sha1Hash digest = h.Final();
  return std::string(AsChars(digest.span().subspan(0, kTokenSize)));
}

std::string TokenIssuer::Issue(ByteSpan ip, absl::Time now) {
  MaybeRotate(now);
  return Make(current_, ip);
}

bool TokenIssuer::Check(std::string_view token, ByteSpan ip, absl::Time now) {
  MaybeRotate(now);
  if (token.size() != kTokenSize) return false;
  return token == Make(current_, ip) || token == Make(previous_, ip);
}

}  // namespace bt::dht
