#include "client/receive_buffers.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace bt::client {
namespace {

TEST(ReceiveBuffersTest, ReusesTheBufferNothingKept) {
  ReceiveBuffers buffers;
  const char* first = buffers.Next()->data();
  EXPECT_EQ(buffers.Next()->data(), first);
  EXPECT_EQ(buffers.Next()->size(), ReceiveBuffers::kSize);
}

TEST(ReceiveBuffersTest, AKeptBufferIsNotReadIntoAgainUntilReleased) {
  ReceiveBuffers buffers;
  std::shared_ptr<std::string> kept = buffers.Next();  // as a block's view
  (*kept)[0] = 'k';
  const char* other = buffers.Next()->data();
  EXPECT_NE(other, kept->data());
  EXPECT_EQ((*kept)[0], 'k');
  EXPECT_EQ(buffers.kept(), 0u);
  // The block is written (on another thread): its buffer waits for reuse.
  const char* released = kept->data();
  std::thread([k = std::move(kept)]() mutable { k.reset(); }).join();
  EXPECT_EQ(buffers.kept(), 1u);
  std::shared_ptr<std::string> hold_other = buffers.Next();
  EXPECT_EQ(hold_other->data(), other);
  EXPECT_EQ(buffers.Next()->data(), released);
  EXPECT_EQ(buffers.kept(), 0u);
}

TEST(ReceiveBuffersTest, KeepsAtMostAFewReleasedBuffers) {
  ReceiveBuffers buffers;
  std::vector<std::shared_ptr<std::string>> held;
  for (size_t i = 0; i < ReceiveBuffers::kMaxKept + 5; ++i) {
    held.push_back(buffers.Next());
  }
  held.clear();
  EXPECT_EQ(buffers.kept(), ReceiveBuffers::kMaxKept);
}

TEST(ReceiveBuffersTest, ABufferMayOutliveItsPool) {
  std::shared_ptr<std::string> kept;
  {
    ReceiveBuffers buffers;
    kept = buffers.Next();
  }
  (*kept)[0] = 'x';  // still valid (ASan)
  kept.reset();
}

TEST(ReceiveBuffersTest, ViewsOnlyFromReadsThatFillHalfABuffer) {
  ReceiveBuffers buffers;
  buffers.Next();
  EXPECT_FALSE(buffers.KeepViews(16 * 1024 + 13));
  EXPECT_FALSE(buffers.KeepViews(ReceiveBuffers::kSize / 2 - 1));
  EXPECT_TRUE(buffers.KeepViews(ReceiveBuffers::kSize / 2));
  EXPECT_TRUE(buffers.KeepViews(ReceiveBuffers::kSize));
}

// A peer that pads each read around one block must not pin a buffer per
// block without end: past kMaxLent held buffers, blocks are copied.
TEST(ReceiveBuffersTest, NoViewsWhileTooManyBuffersAreHeld) {
  ReceiveBuffers buffers;
  std::vector<std::shared_ptr<std::string>> held;
  for (size_t i = 0; i < ReceiveBuffers::kMaxLent; ++i) {
    held.push_back(buffers.Next());
    EXPECT_TRUE(buffers.KeepViews(ReceiveBuffers::kSize)) << i;
  }
  buffers.Next();
  EXPECT_EQ(buffers.lent(), ReceiveBuffers::kMaxLent);
  EXPECT_FALSE(buffers.KeepViews(ReceiveBuffers::kSize));
  held.pop_back();  // one block written
  EXPECT_TRUE(buffers.KeepViews(ReceiveBuffers::kSize));
}

}  // namespace
}  // namespace bt::client
