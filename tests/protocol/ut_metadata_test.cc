#include "protocol/ut_metadata.h"

#include <string>

#include "gtest/gtest.h"

namespace bt::protocol {
namespace {

using ::absl::StatusCode;

TEST(UtMetadataTest, Bep9Examples) {
  absl::StatusOr<MetadataMessage> m =
      ParseMetadataMessage("d8:msg_typei0e5:piecei0ee");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->type, MetadataMessageType::kRequest);
  EXPECT_EQ(m->piece, 0u);

  std::string data(3425, 'x');
  std::string payload = "d8:msg_typei1e5:piecei0e10:total_sizei3425ee" + data;
  m = ParseMetadataMessage(payload);  // m->data views `payload`
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->type, MetadataMessageType::kData);
  EXPECT_EQ(m->total_size, 3425u);
  EXPECT_EQ(m->data, data);

  m = ParseMetadataMessage("d8:msg_typei2e5:piecei0ee");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->type, MetadataMessageType::kReject);
}

TEST(UtMetadataTest, BuildExactBytes) {
  std::string out;
  AppendMetadataMessage({MetadataMessageType::kRequest, 2}, &out);
  EXPECT_EQ(out, "d8:msg_typei0e5:piecei2ee");
  out.clear();
  AppendMetadataMessage({MetadataMessageType::kReject, 2}, &out);
  EXPECT_EQ(out, "d8:msg_typei2e5:piecei2ee");
  out.clear();
  AppendMetadataMessage({MetadataMessageType::kData, 1, 16384 + 5, "abcde"},
                        &out);
  EXPECT_EQ(out, "d8:msg_typei1e5:piecei1e10:total_sizei16389eeabcde");
  absl::StatusOr<MetadataMessage> back = ParseMetadataMessage(out);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back,
            (MetadataMessage{MetadataMessageType::kData, 1, 16389, "abcde"}));
  EXPECT_EQ(back->data.data(), out.data() + out.size() - 5);
}

TEST(UtMetadataTest, DataSizeRules) {
  std::string full(kMetadataPieceSize, 'f');
  auto data = [](int piece, int total, const std::string& bytes) {
    std::string out;
    AppendMetadataMessage(
        {MetadataMessageType::kData, static_cast<uint32_t>(piece),
         static_cast<uint64_t>(total), bytes},
        &out);
    return ParseMetadataMessage(out).status();
  };
  EXPECT_TRUE(data(0, 20000, full).ok());
  EXPECT_TRUE(data(1, 20000, std::string(20000 - 16384, 'l')).ok());
  // Not the last piece but short; last piece with the wrong size; piece
  // past the end; zero total size.
  EXPECT_FALSE(data(0, 20000, full.substr(1)).ok());
  EXPECT_FALSE(data(1, 20000, std::string(10, 'l')).ok());
  EXPECT_FALSE(data(1, 20000, full).ok());
  EXPECT_FALSE(data(2, 20000, "x").ok());
  EXPECT_FALSE(data(0, 0, "").ok());
  absl::Status s = data(0, 20000, full + "x");
  EXPECT_NE(s.message().find("expected 16384"), std::string_view::npos) << s;
}

TEST(UtMetadataTest, Limits) {
  std::string big = "d8:msg_typei1e5:piecei0e10:total_sizei100000000ee" +
                    std::string(kMetadataPieceSize, 'x');
  EXPECT_EQ(ParseMetadataMessage(big).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_TRUE(ParseMetadataMessage(big, 100000000).ok());
  EXPECT_FALSE(ParseMetadataMessage("d8:msg_typei0e5:piecei2048ee").ok());
  EXPECT_TRUE(ParseMetadataMessage("d8:msg_typei0e5:piecei2047ee").ok());
  EXPECT_FALSE(ParseMetadataMessage("d8:msg_typei0e5:piecei-1ee").ok());
}

TEST(UtMetadataTest, UnknownTypeIsUnimplemented) {
  EXPECT_EQ(ParseMetadataMessage("d8:msg_typei3e5:piecei0ee").status().code(),
            StatusCode::kUnimplemented);
}

TEST(UtMetadataTest, Malformed) {
  for (std::string p :
       {"", "x", "le", "d8:msg_typei0ee", "d5:piecei0ee",
        "d8:msg_type1:05:piecei0ee", "d8:msg_typei0e5:piecei0eexx",
        "d8:msg_typei2e5:piecei0eex",
        "d8:msg_typei1e5:piecei0ee",  // no total_size
        "d8:msg_typei0e5:piecei0e",   // truncated
        "d99999999999:x",
        "dddddddddddddddddddddddddddddddddd"
        "ddddddddddddddddddddddd"}) {
    absl::Status s = ParseMetadataMessage(p).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << p << ": " << s;
  }
}

TEST(UtMetadataTest, EveryTruncationRejected) {
  std::string out;
  AppendMetadataMessage({MetadataMessageType::kData, 0, 10, "0123456789"},
                        &out);
  ASSERT_TRUE(ParseMetadataMessage(out).ok());
  for (size_t n = 0; n < out.size(); ++n) {
    EXPECT_FALSE(ParseMetadataMessage(out.substr(0, n)).ok()) << n;
  }
}

}  // namespace
}  // namespace bt::protocol
