#include "protocol/extension_handshake.h"

#include <string>

#include "gtest/gtest.h"

namespace bt::protocol {
namespace {

using ::absl::StatusCode;

TEST(ExtensionHandshakeTest, ParsesTheBep10Example) {
  // BEP 10's example: its 6-byte "uT_PEX" has a Latin-1 micro sign, its
  // 13-byte version string a UTF-8 one. Names are kept as raw bytes.
  std::string payload =
      "d1:md11:LT_metadatai1e6:\xb5"
      "T_PEXi2ee1:pi6881e1:v13:\xc2\xb5Torrent "
      "1.2e";
  absl::StatusOr<ExtensionHandshake> hs = ParseExtensionHandshake(payload);
  ASSERT_TRUE(hs.ok()) << hs.status();
  EXPECT_EQ(hs->IdOf("LT_metadata"), 1);
  EXPECT_EQ(hs->IdOf("\xb5"
                     "T_PEX"),
            2);
  EXPECT_EQ(hs->IdOf("ut_pex"), 0);
  EXPECT_EQ(hs->p, 6881);
  EXPECT_EQ(hs->v, "\xc2\xb5Torrent 1.2");
  EXPECT_TRUE(hs->unknown.empty());
  std::string out;
  AppendExtensionHandshake(*hs, &out);
  EXPECT_EQ(out, payload);
}

TEST(ExtensionHandshakeTest, AllFieldsRoundTripExactly) {
  ExtensionHandshake hs;
  hs.m["ut_metadata"] = 3;
  hs.m["ut_pex"] = 1;
  hs.m["lt_donthave"] = 0;
  hs.p = 51413;
  hs.v = "btkit 0.1";
  hs.yourip = Endpoint::V4({127, 0, 0, 1}, 0);
  hs.ipv4 = Endpoint::V4({10, 1, 2, 3}, 0);
  std::array<uint8_t, 16> v6{};
  v6[15] = 1;
  hs.ipv6 = Endpoint::V6(v6, 0);
  hs.reqq = 500;
  hs.metadata_size = 31235;
  hs.upload_only = true;
  hs.unknown["e"] = int64_t{1};
  hs.unknown["complete_ago"] = int64_t{-1};
  hs.unknown["lt_extra"] = bencode::Value::List{"a", int64_t{2}};
  std::string out;
  AppendExtensionHandshake(hs, &out);
  std::string v6bytes(15, '\0');
  v6bytes += '\x01';
  EXPECT_EQ(out,
            "d12:complete_agoi-1e1:ei1e4:ipv44:\x0a\x01\x02\x03"
            "4:ipv616:" +
                v6bytes +
                "8:lt_extral1:ai2ee1:md11:lt_donthavei0e11:ut_metadatai3e6:"
                "ut_pexi1ee13:metadata_sizei31235e1:pi51413e4:reqqi500e11:"
                "upload_onlyi1e1:v9:btkit 0.16:yourip4:" +
                std::string("\x7f\x00\x00\x01", 4) + "e");
  absl::StatusOr<ExtensionHandshake> back = ParseExtensionHandshake(out);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, hs);
}

TEST(ExtensionHandshakeTest, UnknownKeysAreKeptAndOrderIsLenient) {
  absl::StatusOr<ExtensionHandshake> hs =
      ParseExtensionHandshake("d1:v1:x1:md6:ut_pexi2ee3:zzzd1:ai1eee");
  ASSERT_TRUE(hs.ok()) << hs.status();
  EXPECT_EQ(hs->IdOf("ut_pex"), 2);
  ASSERT_EQ(hs->unknown.count("zzz"), 1u);
  EXPECT_EQ(bencode::Encode(hs->unknown.at("zzz")), "d1:ai1ee");
  std::string out;
  AppendExtensionHandshake(*hs, &out);
  EXPECT_EQ(out, "d1:md6:ut_pexi2ee1:v1:x3:zzzd1:ai1eee");
}

TEST(ExtensionHandshakeTest, EmptyDictIsValid) {
  absl::StatusOr<ExtensionHandshake> hs = ParseExtensionHandshake("de");
  ASSERT_TRUE(hs.ok());
  EXPECT_TRUE(hs->m.empty());
  EXPECT_FALSE(hs->p.has_value());
}

TEST(ExtensionHandshakeTest, RejectsBadValues) {
  struct Case {
    const char* payload;
    const char* needle;
  };
  for (Case c : std::vector<Case>{
           {"le", "not a dictionary"},
           {"d1:mi1ee", "\"m\" is not a dictionary"},
           {"d1:md6:ut_pexi256eee", "m.ut_pex"},
           {"d1:md6:ut_pexi-1eee", "m.ut_pex"},
           {"d1:md6:ut_pex1:xee", "m.ut_pex"},
           {"d1:pi65536ee", "\"p\""},
           {"d1:pi-1ee", "\"p\""},
           {"d1:p4:6881e", "\"p\" is not an integer"},
           {"d1:vi1ee", "\"v\" is not a string"},
           {"d6:yourip3:abce", "\"yourip\" is 3 bytes"},
           {"d4:ipv416:0123456789abcdefe", "\"ipv4\" is 16 bytes"},
           {"d4:ipv64:abcde", "\"ipv6\" is 4 bytes"},
           {"d4:reqqi-5ee", "\"reqq\""},
           {"d13:metadata_sizei-1ee", "\"metadata_size\""},
           {"d11:upload_only1:1e", "\"upload_only\""},
           {"d1:md", "extension handshake"},
           {"", "extension handshake"},
       }) {
    absl::Status s = ParseExtensionHandshake(c.payload).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.payload;
    EXPECT_NE(s.message().find(c.needle), std::string_view::npos)
        << c.payload << ": " << s;
  }
}

TEST(ExtensionHandshakeTest, Limits) {
  ExtensionLimits limits;
  limits.max_metadata_size = 1000;
  EXPECT_TRUE(ParseExtensionHandshake("d13:metadata_sizei1000ee", limits).ok());
  EXPECT_EQ(ParseExtensionHandshake("d13:metadata_sizei1001ee", limits)
                .status()
                .code(),
            StatusCode::kResourceExhausted);
  limits.max_extensions = 1;
  EXPECT_EQ(
      ParseExtensionHandshake("d1:md1:ai1e1:bi2eee", limits).status().code(),
      StatusCode::kResourceExhausted);
}

TEST(ExtensionHandshakeTest, EveryTruncationRejected) {
  ExtensionHandshake hs;
  hs.m["ut_metadata"] = 3;
  hs.v = "x";
  hs.unknown["k"] = "v";
  std::string out;
  AppendExtensionHandshake(hs, &out);
  for (size_t n = 0; n < out.size(); ++n) {
    EXPECT_FALSE(ParseExtensionHandshake(out.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(ParseExtensionHandshake(out + "x").ok());
}

}  // namespace
}  // namespace bt::protocol
