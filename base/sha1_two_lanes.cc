#include "base/sha1_two_lanes.h"

#include <utility>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace bt::internal {

#if defined(__x86_64__)

bool HaveSha1TwoLanes() {
  static const bool have = [] {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    const bool ssse3 = c & (1u << 9), sse41 = c & (1u << 19);
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    const bool sha = b & (1u << 29);
    return ssse3 && sse41 && sha;
  }();
  return have;
}

namespace {

#define BT_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

// One lane's registers: the state (abcd, e), its value at the start of
// the block, the message schedule (four groups of four words) and abcd as
// it was before the last four rounds (sha1nexte derives the next e from it).
struct Lane {
  __m128i abcd, e, abcd0, e0, prev, w[4];
};

BT_SHA_TARGET inline void StartBlock(Lane& l, const uint8_t* p,
                                     __m128i byte_swap) {
  l.abcd0 = l.abcd;
  l.e0 = l.e;
  for (int i = 0; i < 4; ++i) {
    l.w[i] = _mm_shuffle_epi8(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i)),
        byte_swap);
  }
}

// Rounds 4g..4g+3. From group 4 on, w[g % 4] becomes the schedule's next
// four words: W[t] = rol1(W[t-3] ^ W[t-8] ^ W[t-14] ^ W[t-16]).
template <int g>
BT_SHA_TARGET inline void FourRounds(Lane& l) {
  __m128i& w = l.w[g & 3];
  if constexpr (g >= 4) {
    w = _mm_sha1msg2_epu32(
        _mm_xor_si128(_mm_sha1msg1_epu32(w, l.w[(g + 1) & 3]),
                      l.w[(g + 2) & 3]),
        l.w[(g + 3) & 3]);
  }
  const __m128i e =
      g == 0 ? _mm_add_epi32(l.e, w) : _mm_sha1nexte_epu32(l.prev, w);
  l.prev = l.abcd;
  l.abcd = _mm_sha1rnds4_epu32(l.abcd, e, g / 5);
}

template <int... g>
BT_SHA_TARGET inline void AllRounds(Lane& a, Lane& b,
                                    std::integer_sequence<int, g...>) {
  // Each group on both lanes before the next: the two dependency chains
  // interleave.
  ((FourRounds<g>(a), FourRounds<g>(b)), ...);
}

BT_SHA_TARGET inline void EndBlock(Lane& l) {
  l.e = _mm_sha1nexte_epu32(l.prev, l.e0);
  l.abcd = _mm_add_epi32(l.abcd, l.abcd0);
}

BT_SHA_TARGET inline void Load(Lane& l, const uint32_t h[5]) {
  l.abcd = _mm_shuffle_epi32(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(h)), 0x1B);
  l.e = _mm_set_epi32(static_cast<int>(h[4]), 0, 0, 0);
}

BT_SHA_TARGET inline void Store(const Lane& l, uint32_t h[5]) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h),
                   _mm_shuffle_epi32(l.abcd, 0x1B));
  h[4] = static_cast<uint32_t>(_mm_extract_epi32(l.e, 3));
}

}  // namespace

BT_SHA_TARGET void Sha1TwoLanes(uint32_t a[5], const uint8_t* data_a,
                                uint32_t b[5], const uint8_t* data_b,
                                size_t blocks) {
  // Big-endian words, first word in the highest lane.
  const __m128i byte_swap =
      _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
  Lane la, lb;
  Load(la, a);
  Load(lb, b);
  for (size_t i = 0; i < blocks; ++i) {
    StartBlock(la, data_a + 64 * i, byte_swap);
    StartBlock(lb, data_b + 64 * i, byte_swap);
    AllRounds(la, lb, std::make_integer_sequence<int, 20>());
    EndBlock(la);
    EndBlock(lb);
  }
  Store(la, a);
  Store(lb, b);
}

#else  // !defined(__x86_64__)

bool HaveSha1TwoLanes() { return false; }
void Sha1TwoLanes(uint32_t*, const uint8_t*, uint32_t*, const uint8_t*,
                  size_t) {}

#endif

}  // namespace bt::internal
