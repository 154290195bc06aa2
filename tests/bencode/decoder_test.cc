#include "bencode/decoder.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::bencode {
namespace {

using ::testing::HasSubstr;

TEST(DecoderTest, Scalars) {
  auto doc = Decode("i42e");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_TRUE(doc->root().is_int());
  EXPECT_EQ(doc->root().int_value(), 42);
  EXPECT_EQ(doc->root().raw(), "i42e");

  doc = Decode("i-7e");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(*doc->root().AsInt(), -7);

  doc = Decode("4:spam");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(*doc->root().AsString(), "spam");
  EXPECT_EQ(doc->root().raw(), "4:spam");

  doc = Decode("0:");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->root().string_value(), "");
}

TEST(DecoderTest, Int64Extremes) {
  auto max = Decode("i9223372036854775807e");
  ASSERT_TRUE(max.ok()) << max.status();
  EXPECT_EQ(max->root().int_value(), INT64_MAX);
  auto min = Decode("i-9223372036854775808e");
  ASSERT_TRUE(min.ok()) << min.status();
  EXPECT_EQ(min->root().int_value(), INT64_MIN);
  EXPECT_THAT(Decode("i9223372036854775808e").status().message(),
              HasSubstr("overflows 64 bits"));
  EXPECT_THAT(Decode("i-9223372036854775809e").status().message(),
              HasSubstr("overflows 64 bits"));
  EXPECT_FALSE(Decode("i99999999999999999999999999e").ok());
}

TEST(DecoderTest, NestedNavigation) {
  std::string in =
      "d4:infod6:lengthi1024e4:name5:a.txt12:piece lengthi16384ee"
      "4:listli1ei2eli3eee3:numi-1ee";
  auto doc = Decode(in);
  ASSERT_TRUE(doc.ok()) << doc.status();
  Node root = doc->root();
  EXPECT_TRUE(root.is_dict());
  EXPECT_EQ(root.size(), 3u);

  auto info = root.GetDict("info");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->raw(),
            "d6:lengthi1024e4:name5:a.txt12:piece lengthi16384ee");
  EXPECT_EQ(*info->GetInt("length"), 1024);
  EXPECT_EQ(*info->GetString("name"), "a.txt");
  EXPECT_EQ(*info->GetInt("piece length"), 16384);

  auto list = root.GetList("list");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 3u);
  std::vector<Type> types;
  for (Node item : list->items()) types.push_back(item.type());
  EXPECT_EQ(types, (std::vector<Type>{Type::kInt, Type::kInt, Type::kList}));
  EXPECT_EQ(list->raw(), "li1ei2eli3eee");

  std::vector<std::string> keys;
  for (auto [key, value] : root.pairs()) keys.emplace_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"info", "list", "num"}));
  EXPECT_EQ(*root.GetInt("num"), -1);
}

TEST(DecoderTest, AccessorErrorsNameKeyTypeAndOffset) {
  auto doc = Decode("d1:ai1e1:bli1eee");
  ASSERT_TRUE(doc.ok());
  Node root = doc->root();
  auto missing = root.GetInt("zz");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("missing key \"zz\""));
  auto wrong = root.GetString("b");
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.status().message(),
            "key \"b\": expected string, got list at byte 10");
  auto not_dict = root.GetList("b")->GetInt("x");
  EXPECT_THAT(not_dict.status().message(), HasSubstr("expected dict, got list"));
  EXPECT_FALSE(root.GetList("b")->Find("x").has_value());
  EXPECT_FALSE(root.AsInt().ok());
  EXPECT_TRUE(root.AsDict().ok());
  // Iterating the wrong container type yields nothing rather than crashing.
  EXPECT_EQ(root.items().begin(), root.items().end());
  EXPECT_EQ(root.GetList("b")->pairs().begin(),
            root.GetList("b")->pairs().end());
}

TEST(DecoderTest, BinaryStringsAreViewsIntoInput) {
  std::string in("5:\x00\x01\xff:e", 7);
  auto doc = Decode(in);
  ASSERT_TRUE(doc.ok());
  std::string_view s = doc->root().string_value();
  EXPECT_EQ(s.size(), 5u);
  EXPECT_EQ(s.data(), in.data() + 2);
}

struct BadInput {
  std::string input;
  std::string message;  // the full expected error message
};

class MalformedTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(MalformedTest, RejectedWithMessage) {
  auto doc = Decode(GetParam().input);
  ASSERT_FALSE(doc.ok()) << "accepted: " << GetParam().input;
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, MalformedTest,
    ::testing::Values(
        BadInput{"", "bencode: empty input at byte 0"},
        BadInput{"i01e", "bencode: integer with a leading zero at byte 0"},
        BadInput{"i-0e", "bencode: integer '-0' at byte 0"},
        BadInput{"i-01e", "bencode: integer with a leading zero at byte 0"},
        BadInput{"ie", "bencode: integer without digits at byte 0"},
        BadInput{"i-e", "bencode: integer '-' without digits at byte 0"},
        BadInput{"i+1e", "bencode: integer without digits at byte 0"},
        BadInput{"i1.5e",
                 "bencode: expected 'e' to end the integer, found '.' at byte "
                 "2"},
        BadInput{"i 1e", "bencode: integer without digits at byte 0"},
        BadInput{"01:a", "bencode: string length with a leading zero at byte 0"},
        BadInput{"5:abc",
                 "bencode: string of length 5 runs past the end of input (3 "
                 "bytes left) at byte 0"},
        BadInput{"99999999999999999999999:a",
                 "bencode: string length exceeds the input size at byte 0"},
        BadInput{"3-abc",
                 "bencode: expected ':' after string length, found '-' at "
                 "byte 1"},
        BadInput{"-1:a", "bencode: unexpected character '-' at byte 0"},
        BadInput{"x", "bencode: unexpected character 'x' at byte 0"},
        BadInput{"e", "bencode: unexpected 'e' at byte 0"},
        BadInput{"l", "bencode: unexpected end of input inside the list that "
                      "starts at byte 0 at byte 1"},
        BadInput{"d1:a", "bencode: unexpected end of input inside the dict "
                         "that starts at byte 0 at byte 4"},
        BadInput{"di1ei2ee",
                 "bencode: dict key must be a string, found 'i' at byte 1"},
        BadInput{"dle", "bencode: dict key must be a string, found 'l' at byte 1"},
        BadInput{"d1:ae",
                 "bencode: dict key without a value before 'e' at byte 4"},
        BadInput{"d1:bi1e1:ai2ee",
                 "bencode: dict key \"a\" is out of sorted order at byte 7"},
        BadInput{"d1:ai1e1:ai2ee",
                 "bencode: duplicate dict key \"a\" at byte 7"},
        BadInput{"d2:abi1e1:ai2ee",
                 "bencode: dict key \"a\" is out of sorted order at byte 8"},
        BadInput{"i1ei2e",
                 "bencode: 3 bytes of trailing data after the top-level value "
                 "at byte 3"},
        BadInput{"lee", "bencode: 1 bytes of trailing data after the top-level "
                        "value at byte 2"},
        BadInput{std::string("i1e\0", 4),
                 "bencode: 1 bytes of trailing data after the top-level value "
                 "at byte 3"}));

TEST(DecoderTest, EveryTruncatedPrefixIsRejected) {
  const std::vector<std::string> valid = {
      "d8:announce36:http://tracker.example:6969/announce4:infod6:lengthi"
      "123456e4:name8:file.bin12:piece lengthi262144e6:pieces20:"
      "aaaaaaaaaaaaaaaaaaaaee",
      "li-12345eld1:xleee0:3:abcdee",
      "i9223372036854775807e",
      "11:hello world",
  };
  for (const std::string& in : valid) {
    ASSERT_TRUE(Decode(in).ok()) << in;
    for (size_t len = 0; len < in.size(); ++len) {
      EXPECT_FALSE(Decode(std::string_view(in).substr(0, len)).ok())
          << "prefix of length " << len << " of " << in;
    }
  }
}

TEST(DecoderTest, LenientModeAcceptsUnsortedButNotDuplicateKeys) {
  DecodeOptions lenient;
  lenient.allow_unsorted_keys = true;
  auto doc = Decode("d1:bi1e1:ai2ee", lenient);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(*doc->root().GetInt("a"), 2);
  EXPECT_EQ(*doc->root().GetInt("b"), 1);
  auto dup = Decode("d1:bi1e1:ai2e1:bi3ee", lenient);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(),
            "bencode: duplicate dict key \"b\" in dict at byte 0");
  // Adjacent duplicates are caught even in sorted order.
  EXPECT_FALSE(Decode("d1:ai1e1:ai2ee", lenient).ok());
}

TEST(DecoderTest, TrailingDataIsIgnoredOnlyWhenAllowed) {
  EXPECT_FALSE(Decode("d1:ai1eexyz").ok());
  DecodeOptions lenient;
  lenient.allow_trailing_data = true;
  auto doc = Decode("d1:ai1eexyz", lenient);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->root().raw(), "d1:ai1ee");
  EXPECT_EQ(*doc->root().GetInt("a"), 1);
  // What comes first must still be a whole value.
  EXPECT_FALSE(Decode("d1:ai1e", lenient).ok());
  EXPECT_FALSE(Decode("xd1:ai1ee", lenient).ok());
}

TEST(DecoderTest, DepthLimit) {
  DecodeOptions options;
  options.max_depth = 10;
  std::string ok = std::string(10, 'l') + std::string(10, 'e');
  EXPECT_TRUE(Decode(ok, options).ok());
  std::string deep = std::string(11, 'l') + std::string(11, 'e');
  auto doc = Decode(deep, options);
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(doc.status().message(),
            "bencode: nesting deeper than 10 at byte 10");
  // The default limit protects against a very deep input without recursion.
  std::string hostile(1'000'000, 'l');
  EXPECT_EQ(Decode(hostile).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(DecoderTest, TokenAndSizeLimits) {
  DecodeOptions options;
  options.max_tokens = 4;
  EXPECT_TRUE(Decode("li1ei2ei3ee", options).ok());
  auto doc = Decode("li1ei2ei3ei4ee", options);
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(doc.status().message(), HasSubstr("more than 4 values"));

  options = DecodeOptions();
  options.max_input_size = 8;
  EXPECT_TRUE(Decode("4:abcd", options).ok());
  auto big = Decode("7:abcdefg", options);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(big.status().message(),
            "bencode: input of 9 bytes exceeds the limit of 8 bytes");
}

TEST(DecoderTest, DocumentReuseAndFailureLeavesItEmpty) {
  Document doc;
  ASSERT_TRUE(Decode("li1ei2ee", &doc).ok());
  EXPECT_EQ(doc.token_count(), 3u);
  ASSERT_TRUE(Decode("i5e", &doc).ok());
  EXPECT_EQ(doc.token_count(), 1u);
  EXPECT_EQ(doc.root().int_value(), 5);
  EXPECT_FALSE(Decode("i5", &doc).ok());
  EXPECT_EQ(doc.token_count(), 0u);
  EXPECT_EQ(doc.input(), "");
}

TEST(DecoderTest, EmptyContainers) {
  auto doc = Decode("d1:ade1:blee");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->root().GetDict("a")->size(), 0u);
  EXPECT_EQ(doc->root().GetList("b")->size(), 0u);
  EXPECT_EQ(doc->root().GetDict("a")->raw(), "de");
}

}  // namespace
}  // namespace bt::bencode
