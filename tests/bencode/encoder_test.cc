#include "bencode/encoder.h"

#include <string>

#include "bencode/decoder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::bencode {
namespace {

using ::testing::HasSubstr;

TEST(WriterTest, WritesCanonicalValues) {
  std::string out;
  Writer w(&out);
  w.BeginDict()
      .Key("a")
      .Int(-3)
      .Key("b")
      .BeginList()
      .String("xy")
      .Int(0)
      .End()
      .Key("c")
      .String(std::string("\0", 1))
      .End();
  EXPECT_TRUE(w.status().ok()) << w.status();
  EXPECT_EQ(out, std::string("d1:ai-3e1:bl2:xyi0ee1:c1:\0e", 27));
}

TEST(WriterTest, Int64Extremes) {
  std::string out;
  Writer(&out).Int(INT64_MIN).Int(INT64_MAX);
  EXPECT_EQ(out, "i-9223372036854775808ei9223372036854775807e");
}

TEST(WriterTest, ReportsUnsortedDuplicateAndUnbalanced) {
  std::string out;
  Writer unsorted(&out);
  unsorted.BeginDict().Key("b").Int(1).Key("a").Int(2).End();
  EXPECT_EQ(unsorted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(unsorted.status().message(), HasSubstr("\"a\" written after \"b\""));

  Writer dup(&out);
  dup.BeginDict().Key("a").Int(1).Key("a").Int(2).End();
  EXPECT_FALSE(dup.status().ok());

  Writer open(&out);
  open.BeginList();
  EXPECT_THAT(open.status().message(), HasSubstr("1 list/dict left open"));

  Writer extra_end(&out);
  extra_end.End();
  EXPECT_FALSE(extra_end.status().ok());

  Writer key_in_list(&out);
  key_in_list.BeginList().Key("a").End();
  EXPECT_FALSE(key_in_list.status().ok());
}

TEST(ValueTest, EncodesDictsSorted) {
  Value v = Value::Dict{{"zeta", 1}, {"alpha", Value::List{"x", 2}}};
  EXPECT_EQ(Encode(v), "d5:alphal1:xi2ee4:zetai1ee");
}

TEST(ValueTest, FromNodeRoundTrip) {
  std::string in = "d1:ali1ei2ee1:bd1:c0:ee";
  auto doc = Decode(in);
  ASSERT_TRUE(doc.ok());
  Value v = Value::FromNode(doc->root());
  EXPECT_EQ(v.dict().at("a").list().size(), 2u);
  EXPECT_EQ(v.dict().at("b").dict().at("c").string_value(), "");
  EXPECT_EQ(Encode(v), in);
}

TEST(RoundTripTest, CanonicalInputReencodesByteIdentical) {
  const char* inputs[] = {
      "i0e",
      "0:",
      "le",
      "de",
      "d8:completei5e10:incompletei2e8:intervali1800e5:peers12:abcdefghijkle",
      "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e"
      "1:q9:find_node1:t2:aa1:y1:qe",
      "lli1eeld1:ai-1eeee",
  };
  for (const char* in : inputs) {
    auto doc = Decode(in);
    ASSERT_TRUE(doc.ok()) << in << ": " << doc.status();
    EXPECT_EQ(Encode(doc->root()), in);
    EXPECT_EQ(Encode(Value::FromNode(doc->root())), in);
    std::string via_writer;
    Writer(&via_writer).Node(doc->root());
    EXPECT_EQ(via_writer, in);
  }
}

TEST(RoundTripTest, LenientInputIsSortedOnReencode) {
  DecodeOptions lenient;
  lenient.allow_unsorted_keys = true;
  auto doc = Decode("d1:bi1e1:ad1:zi0e1:yi0eee", lenient);
  ASSERT_TRUE(doc.ok());
  std::string canonical = Encode(doc->root());
  EXPECT_EQ(canonical, "d1:ad1:yi0e1:zi0ee1:bi1ee");
  EXPECT_TRUE(Decode(canonical).ok());
  EXPECT_EQ(Encode(Value::FromNode(doc->root())), canonical);
}

}  // namespace
}  // namespace bt::bencode
