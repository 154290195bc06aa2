#include "base/hash.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"

namespace bt::internal {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int Base32Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

}  // namespace

std::string ToHex(ByteSpan bytes) {
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 15];
  }
  return out;
}

bool FromHex(std::string_view text, MutableByteSpan out) {
  if (text.size() != out.size() * 2) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(text[2 * i]), lo = HexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::string ToBase32(ByteSpan bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32Alphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

bool FromBase32(std::string_view text, MutableByteSpan out) {
  if (text.size() != (out.size() * 8 + 4) / 5) return false;
  uint32_t buffer = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : text) {
    int v = Base32Value(c);
    if (v < 0) return false;
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out[n++] = static_cast<uint8_t>(buffer >> (bits - 8));
      bits -= 8;
    }
  }
  // Leftover bits are padding and must be zero for a canonical encoding.
  return n == out.size() && (buffer & ((1u << bits) - 1)) == 0;
}

absl::Status BadEncoding(std::string_view kind, std::string_view encoding,
                         size_t expected_chars, std::string_view text) {
  std::string shown(text.substr(0, 80));
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: expected %d %s characters, got \"%s\" (%d characters)", kind,
      expected_chars, encoding, absl::CEscape(shown), text.size()));
}

}  // namespace bt::internal
