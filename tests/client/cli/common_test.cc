// The helpers several `bt` commands share.
#include "client/cli/common.h"

#include <cstdlib>
#include <string>

#include "base/file_util.h"
#include "bencode/encoder.h"
#include "gtest/gtest.h"
#include "storage/file_priority.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::client::cli {
namespace {

using ::testing::internal::CaptureStderr;
using ::testing::internal::GetCapturedStderr;

TEST(FailTest, PrintsTheCommandAndMessageAndReturnsTheStatus) {
  CaptureStderr();
  EXPECT_EQ(Fail("check", absl::NotFoundError("no such file"), 2), 2);
  EXPECT_EQ(Fail("info", "cannot open x"), 1);
  EXPECT_EQ(GetCapturedStderr(),
            "bt check: no such file\nbt info: cannot open x\n");
}

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

TEST(ReadTorrentFileTest, ReadsAndParses) {
  const std::string path = TempPath("ok.torrent");
  ASSERT_TRUE(
      WriteFileAtomically(path, bencode::Encode(metainfo::testing::MakeTorrent(
                                    "album", {{{"a.txt"}, "hello"}}, 16384,
                                    metainfo::testing::Version::kV1)))
          .ok());
  absl::StatusOr<metainfo::TorrentInfo> t = ReadTorrentFile(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->name(), "album");
}

TEST(ReadTorrentFileTest, ErrorsNameTheFile) {
  const std::string missing = TempPath("missing.torrent");
  absl::StatusOr<metainfo::TorrentInfo> t = ReadTorrentFile(missing);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(t.status().message().find(missing), std::string::npos)
      << t.status();
  const std::string bad = TempPath("bad.torrent");
  ASSERT_TRUE(WriteFileAtomically(bad, "d4:infod4:name").ok());
  t = ReadTorrentFile(bad);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message().rfind(bad + ": ", 0), 0u) << t.status();
}

TEST(HumanBytesTest, WholeBytesThenBinaryUnits) {
  EXPECT_EQ(HumanBytes(0, 2), "0 B");
  EXPECT_EQ(HumanBytes(1023, 2), "1023 B");
  EXPECT_EQ(HumanBytes(1024, 2), "1.00 KiB");
  EXPECT_EQ(HumanBytes(1536 * 1024, 1), "1.5 MiB");
  EXPECT_EQ(HumanBytes(3.0 * (int64_t{1} << 40), 1), "3.0 TiB");
  EXPECT_EQ(HumanBytes(2048.0 * (int64_t{1} << 40), 0), "2048 TiB");
}

TEST(ParseInfoHashTest, HexOrBase32) {
  absl::StatusOr<Sha1Hash> hex =
      ParseInfoHash("c9e15763f722f23e98a29decdfae341b98d53056");
  ASSERT_TRUE(hex.ok()) << hex.status();
  absl::StatusOr<Sha1Hash> b32 =
      ParseInfoHash("ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMCW");
  ASSERT_TRUE(b32.ok()) << b32.status();
  EXPECT_EQ(*hex, *b32);
  EXPECT_EQ(ParseInfoHash("c9e1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseInfoHash("").ok());
}

TEST(ParseFilePriorityTest, NamedLevelsAndNumbers) {
  const std::pair<const char*, FilePriorityArg> cases[] = {
      {"0=skip", {0, storage::kFilePrioritySkip}},
      {"1=low", {1, storage::kFilePriorityLow}},
      {"2=normal", {2, storage::kFilePriorityNormal}},
      {"30=high", {30, storage::kFilePriorityHigh}},
      {"4=0", {4, 0}},
      {"5=7", {5, 7}},
      {"6=2", {6, 2}},
  };
  for (const auto& [text, want] : cases) {
    absl::StatusOr<FilePriorityArg> got = ParseFilePriority(text);
    ASSERT_TRUE(got.ok()) << text << ": " << got.status();
    EXPECT_EQ(*got, want) << text;
  }
}

TEST(ParseFilePriorityTest, RefusesMalformedOnesQuotingThem) {
  for (const char* bad :
       {"", "high", "1", "1=", "=high", "x=high", "-1=high", "+1=low", "1=8",
        "1=-1", "1=High", "1= low", "1=4x", "99999999999=low"}) {
    absl::StatusOr<FilePriorityArg> r = ParseFilePriority(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find(std::string("'") + bad + "'"),
              std::string::npos)
        << r.status();
  }
}

}  // namespace
}  // namespace bt::client::cli
