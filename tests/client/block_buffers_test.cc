#include "client/block_buffers.h"

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/message.h"

namespace bt::client {
namespace {

constexpr size_t kBlock = protocol::kBlockSize;

TEST(BlockBuffersTest, ARecycledBufferIsReusedWithoutAnAllocation) {
  BlockBuffers buffers(4);
  std::string a = buffers.Copy(std::string(kBlock, 'a'));
  const char* storage = a.data();
  buffers.Recycle(std::move(a));
  EXPECT_EQ(buffers.kept(), 1u);
  std::string b = buffers.Copy("short block");
  EXPECT_EQ(b, "short block");
  EXPECT_EQ(b.data(), storage);
  EXPECT_EQ(buffers.kept(), 0u);
}

TEST(BlockBuffersTest, TakeGivesTheSizeAskedFor) {
  BlockBuffers buffers(4);
  EXPECT_EQ(buffers.Take(kBlock), std::string(kBlock, '\0'));  // a new one
  std::string a = buffers.Copy(std::string(kBlock, 'x'));
  buffers.Recycle(std::move(a));
  std::string b = buffers.Take(435);  // the short last block of a torrent
  EXPECT_EQ(b.size(), 435u);
  buffers.Recycle(std::move(b));
  EXPECT_EQ(buffers.Take(kBlock).size(), kBlock);
}

TEST(BlockBuffersTest, KeepsAtMostItsLimitAndOnlyBlockSizedBuffers) {
  BlockBuffers buffers(2);
  for (int i = 0; i < 5; ++i) buffers.Recycle(std::string(kBlock, 'b'));
  EXPECT_EQ(buffers.kept(), 2u);
  BlockBuffers other(8);
  other.Recycle(std::string(100, 's'));      // too small to be a block
  other.Recycle(std::string(1 << 20, 'l'));  // a large string lingering
  EXPECT_EQ(other.kept(), 0u);
}

TEST(BlockBuffersTest, KeepsBuffersOfTheSizeItWasMadeFor) {
  constexpr size_t kLarge = 256 * 1024;
  BlockBuffers buffers(4, kLarge);
  buffers.Recycle(std::string(kBlock, 'b'));  // a block: too small here
  EXPECT_EQ(buffers.kept(), 0u);
  std::string a = buffers.Take(kLarge);
  const char* storage = a.data();
  buffers.Recycle(std::move(a));
  EXPECT_EQ(buffers.kept(), 1u);
  EXPECT_EQ(buffers.Take(kLarge).data(), storage);
}

TEST(BlockBuffersTest, ThreadsTakeAndRecycleConcurrently) {
  BlockBuffers buffers(16);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string b =
            buffers.Copy(std::string(kBlock, static_cast<char>('a' + t)));
        ASSERT_EQ(b, std::string(kBlock, static_cast<char>('a' + t)));
        buffers.Recycle(std::move(b));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(buffers.kept(), 16u);
  EXPECT_GE(buffers.kept(), 1u);
}

}  // namespace
}  // namespace bt::client
