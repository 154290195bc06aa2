// Reading compatibility with mainstream clients (libtorrent 2.0.8 decided
// each case here, checked with its Python binding): files libtorrent loads
// safely are accepted, with a warning saying what was repaired or ignored;
// files it refuses are refused.
#include <string>
#include <vector>

#include "base/sha.h"
#include "bencode/encoder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_info.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::metainfo {
namespace {

using bencode::Value;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeTorrent;
using testing::MemFile;
using testing::Pattern;
using testing::Version;

std::vector<MemFile> TwoFiles() {
  return {{{"a.bin"}, Pattern(40000, 1), ""},
          {{"dir", "b.bin"}, Pattern(70000, 2), ""}};
}

std::vector<std::string> NonPadPaths(const TorrentInfo& t) {
  std::vector<std::string> out;
  for (const FileEntry& f : t.files()) {
    if (!f.pad()) out.push_back(f.PathString());
  }
  return out;
}

std::vector<std::string> Warnings(const TorrentInfo& t) {
  std::vector<std::string> out;
  for (const ParseWarning& w : t.warnings()) out.push_back(w.ToString());
  return out;
}

ParseOptions Strict() {
  ParseOptions o;
  o.strict_paths = true;
  return o;
}

// --- accepted (libtorrent loads these) ---

TEST(TorrentInfoCompatTest, TrailingBytesAfterTheTorrentAreIgnored) {
  Value v = MakeTorrent("t", TwoFiles(), 32768, Version::kHybrid);
  std::string clean = bencode::Encode(v);
  auto a = TorrentInfo::Parse(clean);
  auto b = TorrentInfo::Parse(clean + "\r\n<html>garbage</html>");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(a->warnings().empty());
  EXPECT_EQ(b->info_hash_v1(), a->info_hash_v1());
  EXPECT_EQ(b->info_hash_v2(), a->info_hash_v2());
  EXPECT_THAT(Warnings(*b), ElementsAre(HasSubstr("22 bytes after")));
  // Still a whole dictionary first.
  EXPECT_FALSE(TorrentInfo::Parse(clean.substr(0, clean.size() - 1)).ok());
  // A bare info dictionary from peers stays strict.
  std::string info = bencode::Encode(v.dict().at("info"));
  EXPECT_TRUE(TorrentInfo::ParseInfoDict(info).ok());
  EXPECT_FALSE(TorrentInfo::ParseInfoDict(info + "x").ok());
}

TEST(TorrentInfoCompatTest, UrlListSkipsEntriesThatAreNotStrings) {
  Value v = MakeTorrent("t", TwoFiles(), 32768, Version::kV1);
  v.dict()["url-list"] =
      Value::List{"http://a/", 5, Value::List{"x"}, "", "http://b/"};
  auto t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->web_seeds(), ElementsAre("http://a/", "http://b/"));
  EXPECT_THAT(Warnings(*t), ElementsAre(HasSubstr("url-list[1]"),
                                        HasSubstr("url-list[2]")));
  v.dict()["url-list"] = "http://c/";
  t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->web_seeds(), ElementsAre("http://c/"));
  v.dict()["url-list"] = 7;  // neither: ignored
  t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->web_seeds().empty());
  EXPECT_EQ(t->warnings().size(), 1u);
}

TEST(TorrentInfoCompatTest, MissingPieceLayersAreRecordedPerFile) {
  for (Version version : {Version::kV2, Version::kHybrid}) {
    // Three files larger than a piece: a.bin (index 0), dir/b.bin, dir/c.
    std::vector<MemFile> files = TwoFiles();
    files.push_back({{"dir", "c"}, Pattern(50000, 3), ""});
    Value v = MakeTorrent("t", files, 16384, version);
    std::string all_layers = bencode::Encode(v.dict().at("piece layers"));
    auto full = TorrentInfo::Parse(bencode::Encode(v));
    ASSERT_TRUE(full.ok()) << full.status();
    EXPECT_TRUE(full->FilesMissingPieceLayers().empty());

    // No layers at all.
    Value none = v;
    none.dict().erase("piece layers");
    auto t = TorrentInfo::Parse(bencode::Encode(none));
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_FALSE(t->has_piece_layers());
    std::vector<size_t> missing = t->FilesMissingPieceLayers();
    ASSERT_EQ(missing.size(), 3u);
    EXPECT_EQ(t->files()[missing[0]].PathString(), "t/a.bin");
    EXPECT_EQ(t->V2PieceHash(0), std::nullopt);
    EXPECT_THAT(Warnings(*t), ElementsAre(HasSubstr("3 file(s)")));
    ASSERT_TRUE(t->AddPieceLayers(all_layers).ok());
    EXPECT_TRUE(t->has_piece_layers());
    EXPECT_EQ(t->V2PieceHash(0), full->V2PieceHash(0));

    // One layer missing: only that file waits.
    Value partial = v;
    Value::Dict& layers = partial.dict()["piece layers"].dict();
    const Sha256Hash a_root = *full->files()[0].pieces_root;
    layers.erase(std::string(AsChars(a_root.span())));
    t = TorrentInfo::Parse(bencode::Encode(partial));
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_THAT(t->FilesMissingPieceLayers(), ElementsAre(0u));
    EXPECT_FALSE(t->piece_layer(0).size());
    EXPECT_EQ(t->piece_layer(missing[1]).size(),
              full->piece_layer(missing[1]).size());
    // Adding layers needs the missing one; the known ones are kept.
    EXPECT_EQ(t->AddPieceLayers(bencode::Encode(layers)).code(),
              absl::StatusCode::kInvalidArgument);
    ASSERT_TRUE(t->AddPieceLayers(all_layers).ok());
    EXPECT_TRUE(t->has_piece_layers());

    // A layer that does not hash to its root is ignored like a missing
    // one (libtorrent loads the file too); one of the wrong size is
    // refused (libtorrent: "a piece layer is invalid").
    for (auto& [root, layer] : layers) {
      std::string s = layer.string_value();
      s[0] ^= 1;
      layer = s;
    }
    t = TorrentInfo::Parse(bencode::Encode(partial));
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->FilesMissingPieceLayers().size(), 3u);
    EXPECT_EQ(t->warnings().size(), 3u);  // 2 ignored layers, 1 summary
    for (auto& [root, layer] : layers) {
      layer = layer.string_value().substr(32);
    }
    EXPECT_EQ(TorrentInfo::Parse(bencode::Encode(partial)).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

struct PathCase {
  const char* name;
  Value::List path;       // the first file's path as the torrent gives it
  const char* sanitised;  // what the file becomes
};

TEST(TorrentInfoCompatTest, UnsafePathsAreSanitisedOrRefusedWhenStrict) {
  // libtorrent's results for the same input in the comments.
  const std::vector<PathCase> cases = {
      {"dotdot", Value::List{"..", "..", "etc", "passwd"}, "t/etc/passwd"},
      {"dotdot_only", Value::List{".."}, "t/_"},             // n/_
      {"dot", Value::List{".", "x"}, "t/x"},                 // n/x
      {"empty", Value::List{"", "x"}, "t/_/x"},              // n/_/x
      {"absolute", Value::List{"/etc", "x"}, "t/etc/x"},     // n/etc/x
      {"separator", Value::List{"a/b"}, "t/ab"},             // n/ab
      {"backslash", Value::List{"..\\..\\x"}, "t/....x"},    // n/....x
      {"control", Value::List{"a\x01" "b"}, "t/a_b"},        // n/a_b
      {"nul", Value::List{std::string("a\0b", 3)}, "t/ab"},  // n/ab
      {"del", Value::List{"a\x7f" "b"}, "t/ab"},             // n/ab
      {"drive", Value::List{"C:", "x"}, "t/C_/x"},           // n/C:/x (*)
      {"overlong", Value::List{std::string(300, 'a') + ".txt"},
       nullptr},  // cut (libtorrent: 240 bytes)
  };
  // (*) libtorrent keeps "C:" on POSIX; btkit keeps its rule that no
  // component looks like a Windows drive.
  for (const PathCase& c : cases) {
    SCOPED_TRACE(c.name);
    Value v = MakeTorrent("t", TwoFiles(), 32768, Version::kV1);
    v.dict()["info"].dict()["files"].list()[0].dict()["path"] = c.path;
    std::string bytes = bencode::Encode(v);
    auto t = TorrentInfo::Parse(bytes);
    ASSERT_TRUE(t.ok()) << t.status();
    const std::string got = t->files()[0].PathString();
    if (c.sanitised) {
      EXPECT_EQ(got, c.sanitised);
    } else {
      EXPECT_EQ(got.size(), 2 + 255u);
      EXPECT_THAT(got, ::testing::EndsWith(".txt"));
    }
    EXPECT_TRUE(ValidateRelativePath(t->files()[0].path).ok()) << got;
    ASSERT_FALSE(t->warnings().empty());
    EXPECT_THAT(t->warnings()[0].where, HasSubstr("file \"t/"));
    // Strict: refused (kResourceExhausted for the over-long name).
    EXPECT_FALSE(TorrentInfo::Parse(bytes, Strict()).ok());
  }
}

TEST(TorrentInfoCompatTest, UnsafeV2TreeKeysAndNamesAreSanitised) {
  Value v = MakeTorrent("t", TwoFiles(), 32768, Version::kV2);
  Value::Dict& tree = v.dict()["info"].dict()["file tree"].dict();
  tree[".."] = tree["a.bin"];
  tree.erase("a.bin");
  auto t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(NonPadPaths(*t), ElementsAre("t/_", "t/dir/b.bin"));

  // A name that sanitises to something is kept; a directory whose name
  // leaves nothing is named by the info dictionary's SHA-1, a single file
  // is refused ("missing name"), all as libtorrent does.
  Value w = MakeTorrent("t", TwoFiles(), 32768, Version::kV1);
  w.dict()["info"].dict()["name"] = "a/b";
  t = TorrentInfo::Parse(bencode::Encode(w));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->name(), "ab");
  EXPECT_THAT(NonPadPaths(*t), ElementsAre("ab/a.bin", "ab/dir/b.bin"));
  EXPECT_THAT(Warnings(*t), ElementsAre(HasSubstr("info.name")));
  for (const char* bad : {"..", ".", "/"}) {
    w.dict()["info"].dict()["name"] = bad;
    t = TorrentInfo::Parse(bencode::Encode(w));
    ASSERT_TRUE(t.ok()) << bad << ": " << t.status();
    EXPECT_EQ(t->name(),
              Sha1(AsBytes(bencode::Encode(w.dict()["info"]))).ToHex());
  }
  w.dict()["info"].dict()["name"] = "";
  t = TorrentInfo::Parse(bencode::Encode(w));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->name(), "_");
  for (const char* bad : {"..", ".", "", "/"}) {
    Value single = MakeTorrent("f", {{{"f"}, "data", ""}}, 16384,
                               Version::kV1, /*single=*/true);
    single.dict()["info"].dict()["name"] = bad;
    EXPECT_EQ(TorrentInfo::Parse(bencode::Encode(single)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(TorrentInfoCompatTest, DuplicatesAreRenamedLikeLibtorrent) {
  // libtorrent: n/a/x | n/a/x.1 | n/x for the first; a.bin, a.1.bin,
  // a.2.bin for the second; n/a.1 | n/a/b for the third.
  Value v = MakeTorrent("t",
                        {{{"a", "..", "x"}, "1", ""},
                         {{"a", "x"}, "2", ""},
                         {{"x"}, "3", ""}},
                        16384, Version::kV1);
  auto t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(NonPadPaths(*t), ElementsAre("t/a/x", "t/a/x.1", "t/x"));

  v = MakeTorrent("t",
                  {{{"a.bin"}, "1", ""}, {{"a.bin"}, "2", ""},
                   {{"a.bin"}, "3", ""}},
                  16384, Version::kV1);
  t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(NonPadPaths(*t), ElementsAre("t/a.bin", "t/a.1.bin",
                                           "t/a.2.bin"));
  EXPECT_EQ(t->warnings().size(), 2u);
  EXPECT_FALSE(TorrentInfo::Parse(bencode::Encode(v), Strict()).ok());

  v = MakeTorrent("t", {{{"a"}, "1", ""}, {{"a", "b"}, "2", ""}}, 16384,
                  Version::kV1);
  t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(NonPadPaths(*t), ElementsAre("t/a.1", "t/a/b"));
}

TEST(TorrentInfoCompatTest, WarningsAreBounded) {
  std::vector<MemFile> files;
  for (int i = 0; i < 50; ++i) files.push_back({{"x"}, "d", ""});
  Value v = MakeTorrent("t", files, 16384, Version::kV1);
  ParseOptions o;
  o.max_warnings = 10;
  auto t = TorrentInfo::Parse(bencode::Encode(v), o);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->warnings().size(), 10u);
  EXPECT_EQ(t->warnings().back().what, "40 more warnings");
  std::vector<std::string> paths = NonPadPaths(*t);
  EXPECT_EQ(paths.back(), "t/x.49");
}

// --- refused (libtorrent refuses these) ---

TEST(TorrentInfoCompatTest, ATorrentWithoutDataIsRefused) {
  // libtorrent: "invalid length of torrent".
  Value single = MakeTorrent("t", {{{"t"}, "", ""}}, 16384, Version::kV1,
                             /*single=*/true);
  auto t = TorrentInfo::Parse(bencode::Encode(single));
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("no data"));
  for (Version version : {Version::kV1, Version::kV2, Version::kHybrid}) {
    Value multi = MakeTorrent("t", {{{"a"}, "", ""}, {{"b"}, "", ""}}, 16384,
                              version);
    EXPECT_THAT(TorrentInfo::Parse(bencode::Encode(multi)).status().message(),
                HasSubstr("no data"));
  }
}

// SwapFirstTwoKeys rewrites `bytes` so that the two first entries of the
// encoded dictionary `dict` appear in the opposite order.
std::string SwapFirstTwoKeys(const std::string& bytes, const Value& dict) {
  auto it = dict.dict().begin();
  auto entry = [](const std::string& k, const Value& v) {
    return std::to_string(k.size()) + ":" + k + bencode::Encode(v);
  };
  std::string first = entry(it->first, it->second);
  ++it;
  std::string second = entry(it->first, it->second);
  std::string whole = bencode::Encode(dict);
  std::string swapped = "d" + second + first + whole.substr(1 + first.size() +
                                                            second.size());
  size_t at = bytes.find(whole);
  EXPECT_NE(at, std::string::npos);
  return bytes.substr(0, at) + swapped + bytes.substr(at + whole.size());
}

TEST(TorrentInfoCompatTest, UnsortedKeysInTheFileTreeAreRefused) {
  // libtorrent loads unsorted keys elsewhere but not in a file tree.
  for (Version version : {Version::kV2, Version::kHybrid}) {
    Value v = MakeTorrent("t", TwoFiles(), 32768, version);
    std::string bytes = bencode::Encode(v);
    const Value& tree = v.dict().at("info").dict().at("file tree");
    auto t = TorrentInfo::Parse(SwapFirstTwoKeys(bytes, tree));
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(t.status().message(), HasSubstr("out of sorted order"));
    // In a file's own dictionary too ("length" after "pieces root").
    const Value& leaf = tree.dict().at("a.bin").dict().at("");
    t = TorrentInfo::Parse(SwapFirstTwoKeys(bytes, leaf));
    EXPECT_THAT(t.status().message(), HasSubstr("out of sorted order"));
    // Outside the tree, unsorted keys stay accepted.
    EXPECT_TRUE(TorrentInfo::Parse(SwapFirstTwoKeys(bytes, v)).ok());
  }
}

TEST(TorrentInfoCompatTest, PadAttributeInAV2FileTreeIsRefused) {
  for (Version version : {Version::kV2, Version::kHybrid}) {
    Value v = MakeTorrent("t", TwoFiles(), 32768, version);
    Value::Dict& leaf = v.dict()["info"].dict()["file tree"].dict()["a.bin"]
                            .dict()[""].dict();
    leaf["attr"] = "x";  // other attributes are fine
    ASSERT_TRUE(TorrentInfo::Parse(bencode::Encode(v)).ok());
    leaf["attr"] = "px";
    auto t = TorrentInfo::Parse(bencode::Encode(v));
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(t.status().message(), HasSubstr("pad attribute"));
  }
}

TEST(TorrentInfoCompatTest, AllZeroPiecesRootIsRefused) {
  // libtorrent: "a v2 file entry has no root hash", large or small file.
  for (const char* file : {"a.bin", "small"}) {
    std::vector<MemFile> files = TwoFiles();
    files.push_back({{"small"}, "tiny", ""});
    Value v = MakeTorrent("t", files, 65536, Version::kV2);
    v.dict()["info"].dict()["file tree"].dict()[file].dict()[""].dict()
        ["pieces root"] = std::string(32, '\0');
    auto t = TorrentInfo::Parse(bencode::Encode(v));
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << file;
    EXPECT_THAT(t.status().message(), HasSubstr("all zeros"));
  }
}

}  // namespace
}  // namespace bt::metainfo
