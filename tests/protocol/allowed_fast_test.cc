#include "protocol/allowed_fast.h"

#include <vector>

#include "gtest/gtest.h"

namespace bt::protocol {
namespace {

Sha1Hash AllAa() {
  return *Sha1Hash::FromHex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
}

// The example results printed in BEP 6.
TEST(AllowedFastTest, Bep6ExampleValues) {
  EXPECT_EQ(AllowedFastSet(AllAa(), {80, 4, 4, 200}, 1313, 7),
            (std::vector<uint32_t>{1059, 431, 808, 1217, 287, 376, 1188}));
  EXPECT_EQ(
      AllowedFastSet(AllAa(), {80, 4, 4, 200}, 1313, 9),
      (std::vector<uint32_t>{1059, 431, 808, 1217, 287, 376, 1188, 353, 508}));
}

TEST(AllowedFastTest, OnlyTheTopThreeOctetsMatter) {
  EXPECT_EQ(AllowedFastSet(AllAa(), {80, 4, 4, 1}, 1313, 9),
            AllowedFastSet(AllAa(), {80, 4, 4, 200}, 1313, 9));
  EXPECT_NE(AllowedFastSet(AllAa(), {80, 4, 5, 200}, 1313, 9),
            AllowedFastSet(AllAa(), {80, 4, 4, 200}, 1313, 9));
}

TEST(AllowedFastTest, SmallTorrentsTerminate) {
  EXPECT_TRUE(AllowedFastSet(AllAa(), {1, 2, 3, 4}, 0, 10).empty());
  std::vector<uint32_t> all = AllowedFastSet(AllAa(), {1, 2, 3, 4}, 3, 10);
  ASSERT_EQ(all.size(), 3u);
  std::vector<uint32_t> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(AllowedFastSet(AllAa(), {1, 2, 3, 4}, 1, 10),
            std::vector<uint32_t>{0});
}

}  // namespace
}  // namespace bt::protocol
