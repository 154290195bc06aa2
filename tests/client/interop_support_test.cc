// ConnectionDiary, the failure message of the interop tests: what it
// records of two real btkit clients that connect, transfer and part, and
// how it bounds itself.
#include <string>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/interop_support.h"
#include "tests/client/testing/transfer_fixture.h"

namespace bt::client::interop {
namespace {

using ::bt::testing::TransferTest;
using ::testing::ContainsRegex;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using protocol::EncryptionPolicy;

TEST(ConnectionDiaryTest, SaysWhenItSawNothing) {
  EXPECT_EQ(ConnectionDiary().ToString(),
            "no tracker answer, handshake or close seen");
}

TEST(ConnectionDiaryTest, KeepsTheFirstLinesAndCountsTheRest) {
  ConnectionDiary diary;
  const size_t extra = 5;
  for (size_t i = 0; i < ConnectionDiary::kMaxLines + extra; ++i) {
    diary.Note(absl::StrCat("line ", i));
  }
  const std::string text = diary.ToString();
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "line ", ConnectionDiary::kMaxLines - 1, "\n")));
  EXPECT_THAT(text, Not(HasSubstr(
                        absl::StrCat("line ", ConnectionDiary::kMaxLines))));
  EXPECT_THAT(text, EndsWith(absl::StrCat("\n(", extra, " more)")));
}

using ConnectionDiaryTransferTest = TransferTest;

TEST_F(ConnectionDiaryTransferTest, RecordsHandshakesAndTheClose) {
  auto seeder = NewClient(EncryptionPolicy::kDisabled);
  auto leecher = NewClient(EncryptionPolicy::kDisabled);
  ConnectionDiary seeder_diary, leecher_diary;
  seeder_diary.Watch(*seeder);
  leecher_diary.Watch(*leecher);
  ASSERT_TRUE(Add(seeder.get(), "seed"));
  const Endpoint seed_address = Local(*seeder);
  Torrent* dl = Add(leecher.get(), "dl", {seed_address});
  ASSERT_TRUE(dl);
  ASSERT_TRUE(RunUntil({seeder.get(), leecher.get()},
                       [&] { return dl->complete(); }));

  const std::string seed_at = seed_address.ToString();
  EXPECT_THAT(leecher_diary.ToString(),
              ContainsRegex("\\+[0-9]+\\.[0-9]s handshake with " + seed_at));
  EXPECT_THAT(leecher_diary.ToString(), Not(HasSubstr("(incoming)")));
  EXPECT_THAT(seeder_diary.ToString(),
              ContainsRegex("\\+[0-9]+\\.[0-9]s handshake with "
                            "127\\.0\\.0\\.1:[0-9]+ \\(incoming\\)"));

  seeder.reset();  // if the two seeds have not parted already
  ASSERT_TRUE(RunUntil({leecher.get()}, [&] {
    return leecher_diary.ToString().find("closed ") != std::string::npos;
  }));
  EXPECT_THAT(leecher_diary.ToString(),
              ContainsRegex("\\+[0-9]+\\.[0-9]s closed " + seed_at + ": ."));
}

}  // namespace
}  // namespace bt::client::interop
