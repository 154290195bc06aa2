#include "base/aligned_buffer.h"

#include <cstdint>
#include <cstring>
#include <limits>

#include "gtest/gtest.h"

namespace bt {
namespace {

TEST(AlignedBufferTest, SpansArePageAlignedAndOfTheSizeAsked) {
  AlignedBuffer b;
  for (size_t size : {1u, 4096u, 4097u, 1u << 20}) {
    auto span = b.Get(size);
    ASSERT_TRUE(span.ok()) << span.status();
    EXPECT_EQ(span->size(), size);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(span->data()) %
                  AlignedBuffer::kAlignment,
              0u);
    std::memset(span->data(), 0xab, span->size());  // all of it is ours
  }
}

TEST(AlignedBufferTest, ASmallerRequestReusesTheMemory) {
  AlignedBuffer b;
  auto big = b.Get(1 << 20);
  ASSERT_TRUE(big.ok());
  (*big)[0] = 7;
  auto small = b.Get(100);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->data(), big->data());
  EXPECT_EQ((*small)[0], 7);
}

TEST(AlignedBufferTest, ASizeAboveTheLimitIsAnErrorNotAWrappedRound) {
  AlignedBuffer b;
  // SIZE_MAX would wrap to a tiny allocation if rounded up to a page.
  auto span = b.Get(std::numeric_limits<size_t>::max());
  EXPECT_EQ(span.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(b.Get(64).ok());  // still usable
}

}  // namespace
}  // namespace bt
