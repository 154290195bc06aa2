// Agreement with libtorrent's bdecode on a corpus of valid and malformed
// inputs. Where libtorrent rejects, btkit rejects too; where libtorrent
// accepts, btkit accepts and re-encodes to the bytes libtorrent re-encodes,
// except for the non-canonical forms btkit refuses on purpose (each listed
// with the rule it breaks).
#include <string>
#include <vector>

#include "bencode/decoder.h"
#include "bencode/encoder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libtorrent/bdecode.hpp"
#include "libtorrent/bencode.hpp"
#include "libtorrent/entry.hpp"

namespace bt::bencode {
namespace {

using ::testing::HasSubstr;

enum class Expect {
  kBothAccept,
  kBothReject,
  // libtorrent accepts; btkit's strict mode refuses with this message part.
  kStricter,
};

struct Case {
  std::string input;
  Expect expect;
  std::string strict_error = {};  // for kStricter
  bool lenient_accepts = false;   // for kStricter
};

bool LibtorrentAccepts(const std::string& in, std::string* reencoded) {
  lt::error_code ec;
  int pos = 0;
  lt::bdecode_node node = lt::bdecode(in, ec, &pos, 100, 2000000);
  if (ec) return false;
  if (reencoded) {
    reencoded->clear();
    lt::bencode(std::back_inserter(*reencoded), lt::entry(node));
  }
  return true;
}

std::string ManyFilesTorrent(int files) {
  std::string out;
  Writer w(&out);
  w.BeginDict().Key("announce").String("http://127.0.0.1:6969/announce");
  w.Key("info").BeginDict().Key("files").BeginList();
  for (int i = 0; i < files; ++i) {
    w.BeginDict()
        .Key("length")
        .Int(1000 + i)
        .Key("path")
        .BeginList()
        .String("dir" + std::to_string(i % 10))
        .String("file" + std::to_string(i) + ".bin")
        .End()
        .End();
  }
  w.End().Key("name").String("many").Key("piece length").Int(16384);
  w.Key("pieces").String(std::string(20 * 64, '\x5a')).End().End();
  EXPECT_TRUE(w.status().ok());
  return out;
}

std::vector<Case> Corpus() {
  std::vector<Case> c = {
      {"i0e", Expect::kBothAccept},
      {"i-1e", Expect::kBothAccept},
      {"i9223372036854775807e", Expect::kBothAccept},
      {"0:", Expect::kBothAccept},
      {"4:spam", Expect::kBothAccept},
      {"le", Expect::kBothAccept},
      {"de", Expect::kBothAccept},
      {"l4:spami42ee", Expect::kBothAccept},
      {"d3:bar4:spam3:fooi42ee", Expect::kBothAccept},
      {"d1:ad1:bd1:cleeee", Expect::kBothAccept},
      {"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e"
       "1:q9:find_node1:t2:aa1:y1:qe",
       Expect::kBothAccept},
      {"d1:md11:ut_metadatai3e6:ut_pexi1ee13:metadata_sizei31235e"
       "1:pi6881e1:v11:btkit 0.1.0e",
       Expect::kBothAccept},
      {ManyFilesTorrent(1000), Expect::kBothAccept},
      // Malformed for everyone.
      {"", Expect::kBothReject},
      {"i", Expect::kBothReject},
      {"ie", Expect::kBothReject},
      {"i-e", Expect::kBothReject},
      {"i1", Expect::kBothReject},
      {"i12a3e", Expect::kBothReject},
      {"5:abc", Expect::kBothReject},
      {"3abc", Expect::kBothReject},
      {"l", Expect::kBothReject},
      {"li1e", Expect::kBothReject},
      {"d", Expect::kBothReject},
      {"d1:a", Expect::kBothReject},
      {"d1:ae", Expect::kBothReject},
      {"di1ei2ee", Expect::kBothReject},
      {"dli1eei1ee", Expect::kBothReject},
      {"e", Expect::kBothReject},
      {"x", Expect::kBothReject},
      {"-1:a", Expect::kBothReject},
      {std::string(200, 'l') + std::string(200, 'e'), Expect::kBothReject},
      {"99999999999999999999:a", Expect::kBothReject},
  };
  std::string truncated = ManyFilesTorrent(50);
  truncated.resize(truncated.size() / 2);
  c.push_back({truncated, Expect::kBothReject});
  return c;
}

// Forms libtorrent's bdecode accepts and btkit refuses in strict mode
// (libtorrent checks digits but not canonical form, key order, uniqueness,
// integer range or trailing data).
std::vector<Case> StricterCases() {
  return {
      {"d1:bi1e1:ai2ee", Expect::kStricter, "out of sorted order", true},
      {"d1:ai1e1:ai2ee", Expect::kStricter, "duplicate dict key", false},
      {"i1ei2e", Expect::kStricter, "trailing data", false},
      {"i01e", Expect::kStricter, "leading zero", false},
      {"i-0e", Expect::kStricter, "'-0'", false},
      {"01:a", Expect::kStricter, "leading zero", false},
      {"i99999999999999999999e", Expect::kStricter, "overflows 64 bits", false},
  };
}

TEST(LibtorrentAgreementTest, AcceptRejectAndReencoding) {
  for (const Case& c : Corpus()) {
    std::string lt_encoded;
    bool lt_ok = LibtorrentAccepts(c.input, &lt_encoded);
    auto ours = Decode(c.input);
    const std::string shown = c.input.substr(0, 60);
    if (c.expect == Expect::kBothAccept) {
      ASSERT_TRUE(lt_ok) << "libtorrent rejected " << shown;
      ASSERT_TRUE(ours.ok()) << shown << ": " << ours.status();
      EXPECT_EQ(Encode(ours->root()), lt_encoded) << shown;
      EXPECT_EQ(Encode(ours->root()), c.input) << shown;
    } else {
      EXPECT_FALSE(lt_ok) << "libtorrent accepted " << shown;
      EXPECT_FALSE(ours.ok()) << "btkit accepted " << shown;
    }
  }
}

TEST(LibtorrentAgreementTest, Int64MinKeepsItsValue) {
  // libtorrent accepts INT64_MIN but its integer parser overflows on it and
  // yields 0; btkit keeps the value.
  const std::string in = "i-9223372036854775808e";
  std::string lt_encoded;
  ASSERT_TRUE(LibtorrentAccepts(in, &lt_encoded));
  EXPECT_EQ(lt_encoded, "i0e");
  auto ours = Decode(in);
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(ours->root().int_value(), INT64_MIN);
  EXPECT_EQ(Encode(ours->root()), in);
}

TEST(LibtorrentAgreementTest, BtkitIsStricterOnNonCanonicalForms) {
  DecodeOptions lenient;
  lenient.allow_unsorted_keys = true;
  for (const Case& c : StricterCases()) {
    auto ours = Decode(c.input);
    ASSERT_FALSE(ours.ok()) << c.input;
    EXPECT_THAT(ours.status().message(), HasSubstr(c.strict_error)) << c.input;
    EXPECT_EQ(Decode(c.input, lenient).ok(), c.lenient_accepts) << c.input;
    EXPECT_TRUE(LibtorrentAccepts(c.input, nullptr)) << c.input;
  }
}

TEST(LibtorrentAgreementTest, NeverAcceptsWhatLibtorrentRejects) {
  // Every prefix of a valid torrent: whatever libtorrent rejects, btkit
  // rejects too, in either mode.
  std::string torrent = ManyFilesTorrent(20);
  DecodeOptions lenient;
  lenient.allow_unsorted_keys = true;
  for (size_t len = 0; len <= torrent.size(); ++len) {
    std::string prefix = torrent.substr(0, len);
    if (!LibtorrentAccepts(prefix, nullptr)) {
      EXPECT_FALSE(Decode(prefix).ok()) << len;
      EXPECT_FALSE(Decode(prefix, lenient).ok()) << len;
    }
  }
}

}  // namespace
}  // namespace bt::bencode
