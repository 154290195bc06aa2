#include "metainfo/torrent_info.h"

#include <string>
#include <vector>

#include "base/sha.h"
#include "bencode/decoder.h"
#include "bencode/encoder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metainfo/merkle.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::metainfo {
namespace {

using bencode::Value;
using ::testing::ElementsAre;
using testing::MakeTorrent;
using testing::MemFile;
using testing::Pattern;
using testing::Version;

std::string InfoBytes(const Value& torrent) {
  return bencode::Encode(torrent.dict().at("info"));
}

std::vector<std::string> NonPadPaths(const TorrentInfo& t) {
  std::vector<std::string> out;
  for (const FileEntry& f : t.files()) {
    if (!f.pad()) out.push_back(f.PathString());
  }
  return out;
}

const std::vector<MemFile>& ThreeFiles() {
  static const auto* files = new std::vector<MemFile>{
      {{"a.bin"}, Pattern(40000, 1), ""},
      {{"empty"}, "", ""},
      {{"sub", "b.bin"}, Pattern(70000, 2), "x"},
      {{"sub", "deep", "c.txt"}, Pattern(100, 3), "h"},
  };
  return *files;
}

TEST(TorrentVersionNameTest, NamesEachVersion) {
  EXPECT_STREQ(TorrentVersionName(TorrentVersion::kV1), "v1");
  EXPECT_STREQ(TorrentVersionName(TorrentVersion::kV2), "v2");
  EXPECT_STREQ(TorrentVersionName(TorrentVersion::kHybrid), "hybrid");
}

TEST(TorrentInfoTest, V1SingleFile) {
  std::string data = Pattern(50000, 7);
  Value v = MakeTorrent("movie.mkv", {{{"movie.mkv"}, data, ""}}, 16384,
                        Version::kV1, /*single=*/true);
  std::string bytes = bencode::Encode(v);
  auto t = TorrentInfo::Parse(bytes);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->version(), TorrentVersion::kV1);
  EXPECT_TRUE(t->has_v1());
  EXPECT_FALSE(t->has_v2());
  EXPECT_FALSE(t->multi_file());
  EXPECT_EQ(t->name(), "movie.mkv");
  EXPECT_EQ(*t->info_hash_v1(), Sha1(AsBytes(InfoBytes(v))));
  EXPECT_EQ(t->WireInfoHash(), *t->info_hash_v1());
  EXPECT_FALSE(t->info_hash_v2().has_value());
  EXPECT_EQ(t->info_bytes(), InfoBytes(v));
  EXPECT_EQ(t->piece_length(), 16384);
  EXPECT_EQ(t->num_pieces(), 4u);
  EXPECT_EQ(t->total_size(), 50000);
  ASSERT_EQ(t->files().size(), 1u);
  EXPECT_EQ(t->files()[0].PathString(), "movie.mkv");
  EXPECT_EQ(t->files()[0].size, 50000);
  for (uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(t->piece_hash(i),
              Sha1(AsBytes(std::string_view(data).substr(i * 16384, 16384))));
  }
  EXPECT_EQ(t->layout().PieceSize(3), 50000 - 3 * 16384);
  EXPECT_THAT(t->trackers(),
              ElementsAre(ElementsAre("http://tracker.example/announce")));
}

TEST(TorrentInfoTest, V1MultiFileLayoutAndAttributes) {
  Value v = MakeTorrent("album", ThreeFiles(), 16384, Version::kV1);
  auto t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->multi_file());
  EXPECT_THAT(NonPadPaths(*t),
              ElementsAre("album/a.bin", "album/empty", "album/sub/b.bin",
                          "album/sub/deep/c.txt"));
  ASSERT_EQ(t->files().size(), 4u);  // v1: no pad files
  EXPECT_EQ(t->files()[2].offset, 40000);
  EXPECT_TRUE(t->files()[2].executable());
  EXPECT_TRUE(t->files()[3].hidden());
  EXPECT_EQ(t->total_size(), 110100);
  EXPECT_EQ(t->num_pieces(), 7u);
  std::string space = testing::PieceSpace(ThreeFiles(), 16384, Version::kV1);
  for (uint32_t i = 0; i < t->num_pieces(); ++i) {
    EXPECT_EQ(t->piece_hash(i),
              Sha1(AsBytes(std::string_view(space).substr(i * 16384, 16384))));
  }
  // Piece 2 spans a.bin's tail, the empty file (skipped) and b.bin's head.
  auto slices = t->layout().MapBlock(2, 0, 16384);
  ASSERT_TRUE(slices.ok());
  EXPECT_THAT(*slices,
              ElementsAre(FileSlice{0, 32768, 7232}, FileSlice{2, 0, 9152}));
}

TEST(TorrentInfoTest, V2MultiFileAlignsFilesWithSyntheticPads) {
  Value v = MakeTorrent("album", ThreeFiles(), 32768, Version::kV2);
  auto t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->version(), TorrentVersion::kV2);
  EXPECT_FALSE(t->has_v1());
  EXPECT_EQ(*t->info_hash_v2(), Sha256(AsBytes(InfoBytes(v))));
  EXPECT_EQ(t->WireInfoHash(), Sha1Hash::FromBytes(t->info_hash_v2()->span()));
  // File tree order is key order: a.bin, empty, sub/b.bin, sub/deep/c.txt.
  EXPECT_THAT(NonPadPaths(*t),
              ElementsAre("album/a.bin", "album/empty", "album/sub/b.bin",
                          "album/sub/deep/c.txt"));
  std::vector<int64_t> offsets;
  for (const FileEntry& f : t->files()) {
    if (!f.pad()) offsets.push_back(f.offset);
  }
  // a.bin: 40000 -> pad to 65536; b.bin 70000 at 65536 -> pad to 163840.
  EXPECT_THAT(offsets, ElementsAre(0, 65536, 65536, 163840));
  EXPECT_EQ(t->files()[1].PathString(), "album/.pad/25536");
  EXPECT_TRUE(t->layout().FilesAligned());
  EXPECT_EQ(t->num_pieces(), 6u);
  EXPECT_TRUE(t->has_piece_layers());
  // b.bin has 3 pieces and a layer; c.txt has one piece: its root.
  size_t b = 3;
  ASSERT_EQ(t->files()[b].PathString(), "album/sub/b.bin");
  EXPECT_EQ(t->piece_layer(b).size(), 3u);
  EXPECT_EQ(t->V2PieceHash(5), t->files().back().pieces_root);
  // V2PieceHash of b.bin's pieces matches hashing the content.
  const std::string& data = ThreeFiles()[2].data;
  for (uint32_t k = 0; k < 3; ++k) {
    std::vector<Sha256Hash> leaves;
    for (size_t off = k * 32768;
         off < std::min<size_t>((k + 1) * 32768, data.size());
         off += kMerkleBlockSize) {
      leaves.push_back(Sha256(
          AsBytes(std::string_view(data).substr(off, kMerkleBlockSize))));
    }
    EXPECT_EQ(t->V2PieceHash(2 + k),
              PieceRootFromLeaves(leaves, 2, /*single_piece_file=*/false));
  }
}

TEST(TorrentInfoTest, HybridAgreesWithV2Layout) {
  Value hybrid = MakeTorrent("album", ThreeFiles(), 32768, Version::kHybrid);
  Value v2 = MakeTorrent("album", ThreeFiles(), 32768, Version::kV2);
  auto h = TorrentInfo::Parse(bencode::Encode(hybrid));
  auto t2 = TorrentInfo::Parse(bencode::Encode(v2));
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_TRUE(t2.ok()) << t2.status();
  EXPECT_EQ(h->version(), TorrentVersion::kHybrid);
  EXPECT_EQ(*h->info_hash_v1(), Sha1(AsBytes(InfoBytes(hybrid))));
  EXPECT_EQ(*h->info_hash_v2(), Sha256(AsBytes(InfoBytes(hybrid))));
  EXPECT_EQ(h->WireInfoHash(), *h->info_hash_v1());
  ASSERT_EQ(h->files().size(), t2->files().size());
  for (size_t i = 0; i < h->files().size(); ++i) {
    EXPECT_EQ(h->files()[i].PathString(), t2->files()[i].PathString());
    EXPECT_EQ(h->files()[i].offset, t2->files()[i].offset);
    EXPECT_EQ(h->files()[i].pad(), t2->files()[i].pad());
    EXPECT_EQ(h->files()[i].pieces_root, t2->files()[i].pieces_root);
  }
  EXPECT_EQ(h->num_pieces(), t2->num_pieces());
  for (uint32_t p = 0; p < h->num_pieces(); ++p) {
    EXPECT_EQ(h->V2PieceHash(p), t2->V2PieceHash(p)) << p;
  }
}

// Every piece of the content checks against both hash formats, and a
// flipped byte is caught by both.
TEST(TorrentInfoTest, CheckPiecesAgainstV1AndV2Hashes) {
  Value v = MakeTorrent("album", ThreeFiles(), 32768, Version::kHybrid);
  auto t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  std::string space =
      testing::PieceSpace(ThreeFiles(), 32768, Version::kHybrid);
  for (uint32_t p = 0; p < t->num_pieces(); ++p) {
    std::string piece = space.substr(p * 32768, t->layout().PieceSize(p));
    EXPECT_TRUE(t->CheckV1Piece(p, AsBytes(piece)).ok()) << p;
    auto span = t->V2PieceSpanOf(p);
    ASSERT_TRUE(span.has_value()) << p;
    std::string data = piece.substr(0, span->length);
    EXPECT_TRUE(t->CheckV2Piece(p, AsBytes(data)).ok()) << p;
    piece[0] ^= 1;
    data[0] ^= 1;
    EXPECT_EQ(t->CheckV1Piece(p, AsBytes(piece)).code(),
              absl::StatusCode::kDataLoss);
    EXPECT_EQ(t->CheckV2Piece(p, AsBytes(data)).code(),
              absl::StatusCode::kDataLoss);
  }
  // Piece 1 is a.bin's tail (40000 - 32768 bytes) followed by padding.
  auto span = t->V2PieceSpanOf(1);
  EXPECT_EQ(span->file_offset, 32768);
  EXPECT_EQ(span->length, 40000 - 32768);
  EXPECT_FALSE(span->single_piece_file);
  EXPECT_EQ(t->CheckV1Piece(99, {}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t->CheckV2Piece(0, AsBytes("short")).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TorrentInfoTest, V2SingleFileIsNamedByItsKey) {
  std::string data = Pattern(100000, 9);
  Value v = MakeTorrent("x.iso", {{{"x.iso"}, data, ""}}, 16384,
                        Version::kHybrid, /*single=*/true);
  auto t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->multi_file());
  ASSERT_EQ(t->files().size(), 1u);
  EXPECT_EQ(t->files()[0].PathString(), "x.iso");
  EXPECT_EQ(t->piece_layer(0).size(), 7u);
}

TEST(TorrentInfoTest, InfoDictThenPieceLayers) {
  Value v = MakeTorrent("album", ThreeFiles(), 32768, Version::kV2);
  std::string info = InfoBytes(v);
  auto t = TorrentInfo::ParseInfoDict(info);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t->info_hash_v2(), Sha256(AsBytes(info)));
  EXPECT_FALSE(t->has_piece_layers());
  EXPECT_EQ(t->V2PieceHash(2), std::nullopt);
  EXPECT_TRUE(t->trackers().empty());
  std::string layers = bencode::Encode(v.dict().at("piece layers"));
  ASSERT_TRUE(t->AddPieceLayers(layers).ok());
  EXPECT_TRUE(t->has_piece_layers());
  EXPECT_TRUE(t->V2PieceHash(2).has_value());
  // A layer with one hash flipped is refused.
  std::string bad = layers;
  bad[bad.size() - 1] ^= 1;
  auto t2 = TorrentInfo::ParseInfoDict(info);
  EXPECT_EQ(t2->AddPieceLayers(bad).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(t2->has_piece_layers());
}

TEST(TorrentInfoTest, OuterKeys) {
  Value v = MakeTorrent("f", {{{"f"}, "abc", ""}}, 16384, Version::kV1, true);
  Value::Dict& d = v.dict();
  d["announce-list"] =
      Value::List{Value::List{"http://a/announce", "udp://b:80"}, Value::List{},
                  Value::List{"http://c/announce", ""}};
  d["url-list"] = "http://seed/file";
  d["httpseeds"] = Value::List{"http://hs/seed"};
  d["nodes"] = Value::List{Value::List{"router.example", 6881},
                           Value::List{"10.0.0.1", 1}};
  d["comment"] = "latin";
  d["comment.utf-8"] = "ünïcode";
  d["created by"] = "btkit";
  d["creation date"] = int64_t{1700000000};
  d["info"].dict()["private"] = 1;
  d["info"].dict()["source"] = "SRC";
  d["info"].dict()["similar"] = Value::List{std::string(20, 'x')};
  d["info"].dict()["collections"] = Value::List{"c1"};
  auto t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->trackers(),
              ElementsAre(ElementsAre("http://a/announce", "udp://b:80"),
                          ElementsAre("http://c/announce")));
  EXPECT_EQ(t->announce(), "http://tracker.example/announce");
  EXPECT_THAT(t->web_seeds(), ElementsAre("http://seed/file"));
  EXPECT_THAT(t->http_seeds(), ElementsAre("http://hs/seed"));
  EXPECT_THAT(t->nodes(), ElementsAre(DhtNode{"router.example", 6881},
                                      DhtNode{"10.0.0.1", 1}));
  EXPECT_EQ(t->comment(), "ünïcode");
  EXPECT_EQ(t->created_by(), "btkit");
  EXPECT_EQ(t->creation_date(), 1700000000);
  EXPECT_TRUE(t->is_private());
  EXPECT_EQ(t->source(), "SRC");
  ASSERT_EQ(t->similar().size(), 1u);
  EXPECT_THAT(t->collections(), ElementsAre("c1"));
}

TEST(TorrentInfoTest, Utf8NamesArePreferred) {
  Value v = MakeTorrent("raw", {{{"x"}, "abc", ""}, {{"y"}, "d", ""}}, 16384,
                        Version::kV1);
  Value::Dict& info = v.dict()["info"].dict();
  info["name.utf-8"] = "nämé";
  info["files"].list()[0].dict()["path.utf-8"] = Value::List{"ü.txt"};
  auto t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->name(), "nämé");
  EXPECT_THAT(NonPadPaths(*t), ElementsAre("nämé/ü.txt", "nämé/y"));
}

TEST(TorrentInfoTest, UnsortedKeysAreAcceptedAndHashedAsGiven) {
  std::string pieces = Sha1(AsBytes("abc")).ToString();
  std::string info =
      "d6:lengthi3e4:name1:f6:pieces20:" + pieces + "12:piece lengthi16384ee";
  // Unsorted: "pieces" and "piece length" swapped, and "name" last.
  std::string unsorted =
      "d6:lengthi3e12:piece lengthi16384e6:pieces20:" + pieces + "4:name1:fe";
  std::string file = "d4:info" + unsorted + "e";
  auto t = TorrentInfo::Parse(file);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t->info_hash_v1(), Sha1(AsBytes(unsorted)));
  EXPECT_NE(*t->info_hash_v1(), Sha1(AsBytes(info)));
}

TEST(TorrentInfoTest, PadFileWithoutPathAndBitCometPads) {
  Value v = MakeTorrent(
      "d", {{{"a"}, Pattern(20000, 1), ""}, {{"b"}, Pattern(100, 2), ""}},
      16384, Version::kHybrid);
  Value::List& files = v.dict()["info"].dict()["files"].list();
  files[1].dict().erase("path");  // BEP 47: path optional on pads
  auto t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->files()[1].pad());
  EXPECT_EQ(t->files()[1].PathString(), "d/.pad/12768");

  Value w = MakeTorrent("d", {{{"a"}, "x", ""}, {{"b"}, "y", ""}}, 16384,
                        Version::kV1);
  w.dict()["info"].dict()["files"].list()[1].dict()["path"] =
      Value::List{"_____padding_file_0_if you see this file"};
  auto u = TorrentInfo::Parse(bencode::Encode(w));
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->files()[1].pad());
  EXPECT_EQ(u->num_real_files(), 1u);
}

TEST(TorrentInfoTest, SymlinksNeedASafeTarget) {
  Value v = MakeTorrent("d", {{{"a"}, "x", ""}, {{"b"}, "y", ""}}, 16384,
                        Version::kV1);
  Value::Dict& link = v.dict()["info"].dict()["files"].list()[1].dict();
  link["attr"] = "l";
  link["length"] = 0;
  link["symlink path"] = Value::List{"a"};
  v.dict()["info"].dict()["pieces"] = Sha1(AsBytes("x")).ToString();
  auto t = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->files()[1].symlink());
  EXPECT_THAT(t->files()[1].symlink_target, ElementsAre("a"));
  // An escaping target is made safe (a warning says so), or refused when
  // strict.
  link["symlink path"] = Value::List{"..", "etc"};
  auto safe = TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(safe.ok()) << safe.status();
  EXPECT_THAT(safe->files()[1].symlink_target, ElementsAre("etc"));
  ASSERT_EQ(safe->warnings().size(), 1u);
  EXPECT_EQ(safe->warnings()[0].where, "info.files[1].symlink path");
  ParseOptions strict;
  strict.strict_paths = true;
  EXPECT_EQ(TorrentInfo::Parse(bencode::Encode(v), strict).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Re-encoding a canonical torrent gives the same bytes and identity.
TEST(TorrentInfoTest, RoundTrip) {
  for (Version ver : {Version::kV1, Version::kV2, Version::kHybrid}) {
    std::string bytes =
        bencode::Encode(MakeTorrent("album", ThreeFiles(), 16384, ver));
    auto doc = bencode::Decode(bytes);
    ASSERT_TRUE(doc.ok());
    std::string again = bencode::Encode(doc->root());
    EXPECT_EQ(again, bytes);
    auto a = TorrentInfo::Parse(bytes);
    auto b = TorrentInfo::Parse(again);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->info_hash_v1(), b->info_hash_v1());
    EXPECT_EQ(a->info_hash_v2(), b->info_hash_v2());
  }
}

// Every proper prefix of a valid torrent is an error, never a crash.
TEST(TorrentInfoTest, EveryTruncatedPrefixFails) {
  for (Version ver : {Version::kV1, Version::kV2, Version::kHybrid}) {
    std::string bytes =
        bencode::Encode(MakeTorrent("album", ThreeFiles(), 16384, ver));
    ASSERT_TRUE(TorrentInfo::Parse(bytes).ok());
    for (size_t n = 0; n < bytes.size(); ++n) {
      auto t = TorrentInfo::Parse(std::string_view(bytes).substr(0, n));
      ASSERT_FALSE(t.ok()) << "prefix " << n;
      EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

// The BEP 5 "nodes" key: in order, bounded by max_list_entries, and every
// truncation of a torrent carrying it is refused.
TEST(TorrentInfoTest, NodesAreBoundedAndEveryTruncationFails) {
  Value v = MakeTorrent("f", {{{"f"}, "abc", ""}}, 16384, Version::kV1, true);
  v.dict()["nodes"] =
      Value::List{Value::List{"127.0.0.1", 6881}, Value::List{"::1", 1},
                  Value::List{std::string(kMaxDhtNodeHost, 'h'), 65535}};
  const std::string bytes = bencode::Encode(v);
  auto t = TorrentInfo::Parse(bytes);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->nodes(),
              ElementsAre(DhtNode{"127.0.0.1", 6881}, DhtNode{"::1", 1},
                          DhtNode{std::string(kMaxDhtNodeHost, 'h'), 65535}));
  ParseOptions two;
  two.max_list_entries = 2;
  auto over = TorrentInfo::Parse(bytes, two);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(over.status().message(), "nodes: more than 2 entries");
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto cut = TorrentInfo::Parse(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(cut.ok()) << "prefix " << n;
    EXPECT_EQ(cut.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(TorrentInfoTest, LimitsAreChecked) {
  std::string bytes =
      bencode::Encode(MakeTorrent("album", ThreeFiles(), 16384, Version::kV1));
  ParseOptions small;
  small.max_metadata_size = bytes.size() - 1;
  EXPECT_EQ(TorrentInfo::Parse(bytes, small).status().code(),
            absl::StatusCode::kResourceExhausted);
  ParseOptions few_files;
  few_files.max_files = 3;
  EXPECT_EQ(TorrentInfo::Parse(bytes, few_files).status().code(),
            absl::StatusCode::kResourceExhausted);
  ParseOptions shallow;
  shallow.path_limits.max_depth = 3;  // album/sub/deep/c.txt has 4
  EXPECT_EQ(TorrentInfo::Parse(bytes, shallow).status().code(),
            absl::StatusCode::kResourceExhausted);
  ParseOptions few_pieces;
  few_pieces.max_pieces = 6;
  EXPECT_EQ(TorrentInfo::Parse(bytes, few_pieces).status().code(),
            absl::StatusCode::kResourceExhausted);
  ParseOptions defaults;
  EXPECT_TRUE(TorrentInfo::Parse(bytes, defaults).ok());
}

}  // namespace
}  // namespace bt::metainfo
