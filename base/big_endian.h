// Big-endian (network order) loads and stores on raw bytes. Callers check
// bounds; ByteReader/ByteWriter are the bounds-checked way to use these.
//
//   uint32_t len = bt::LoadBigEndian32(p);
//   bt::StoreBigEndian16(port, out);
#ifndef BASE_BIG_ENDIAN_H_
#define BASE_BIG_ENDIAN_H_

#include <cstdint>
#include <cstring>

namespace bt {

inline uint16_t LoadBigEndian16(const uint8_t* p) {
  return static_cast<uint16_t>((uint16_t{p[0]} << 8) | p[1]);
}

inline uint32_t LoadBigEndian32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}

inline uint64_t LoadBigEndian64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

inline void StoreBigEndian16(uint16_t v, uint8_t* p) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

inline void StoreBigEndian32(uint32_t v, uint8_t* p) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}

inline void StoreBigEndian64(uint64_t v, uint8_t* p) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

}  // namespace bt

#endif  // BASE_BIG_ENDIAN_H_
