#include "bencode/json.h"

#include <string>

#include "gtest/gtest.h"

namespace bt::bencode {
namespace {

std::string Json(std::string_view in, JsonOptions options = {}) {
  auto doc = Decode(in);
  EXPECT_TRUE(doc.ok()) << doc.status();
  return doc.ok() ? ToJson(doc->root(), options) : "";
}

TEST(JsonTest, RendersNestedValuesCompactly) {
  JsonOptions compact;
  compact.indent = 0;
  EXPECT_EQ(Json("d1:ali1e2:xye1:bdee", compact),
            "{\"a\":[1,\"xy\"],\"b\":{}}");
}

TEST(JsonTest, Indents) {
  EXPECT_EQ(Json("d1:ai1ee"), "{\n  \"a\": 1\n}");
}

TEST(JsonTest, EscapesTextAndHexesBinary) {
  JsonOptions compact;
  compact.indent = 0;
  EXPECT_EQ(Json("l5:a\"b\n\x01" "e", compact), "[\"a\\\"b\\n\\u0001\"]");
  EXPECT_EQ(Json(std::string("2:\xff\x00", 4), compact),
            "{\"hex\": \"ff00\"}");
  std::string long_binary = "40:" + std::string(40, '\xfe');
  std::string first_32_bytes_hex;
  for (int i = 0; i < 32; ++i) first_32_bytes_hex += "fe";
  EXPECT_EQ(Json(long_binary, compact),
            "{\"hex\": \"" + first_32_bytes_hex + "\", \"bytes\": 40}");
  compact.full_binary = true;
  EXPECT_EQ(Json(long_binary, compact), "{\"hex\": \"" + first_32_bytes_hex +
                                            "fefefefefefefefe\"}");
  // UTF-8 text passes through; overlong encodings and surrogates are binary.
  EXPECT_EQ(Json("6:h\xc3\xa9llo", compact), "\"h\xc3\xa9llo\"");
  EXPECT_EQ(Json("2:\xc0\xaf", compact), "{\"hex\": \"c0af\"}");
  EXPECT_EQ(Json("3:\xed\xa0\x80", compact), "{\"hex\": \"eda080\"}");
}

}  // namespace
}  // namespace bt::bencode
