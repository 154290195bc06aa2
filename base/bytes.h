// Byte views and conversions between std::string_view and
// absl::Span<const uint8_t>, the two ways btkit passes raw bytes around.
//
//   absl::Span<const uint8_t> s = bt::AsBytes(buffer);
//   std::string_view v = bt::AsChars(s);
#ifndef BASE_BYTES_H_
#define BASE_BYTES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/types/span.h"

namespace bt {

using ByteSpan = absl::Span<const uint8_t>;
using MutableByteSpan = absl::Span<uint8_t>;

// AsBytes views the characters of `s` as bytes; `s` must outlive the result.
inline ByteSpan AsBytes(std::string_view s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// AsChars views `b` as characters; `b`'s memory must outlive the result.
inline std::string_view AsChars(ByteSpan b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace bt

#endif  // BASE_BYTES_H_
