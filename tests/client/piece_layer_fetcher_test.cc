#include "client/piece_layer_fetcher.h"

#include <string>

#include "bencode/encoder.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_info.h"
#include "protocol/merkle_hashes.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::client {
namespace {

using metainfo::TorrentInfo;
using metainfo::testing::MakeTorrent;
using metainfo::testing::Pattern;
using metainfo::testing::Version;
using Result = PieceLayerFetcher::Result;

constexpr int64_t kPiece = 16384;

// The full torrent (layers known, as a seed has it) and its bare info
// dictionary (as a magnet link's metadata gives it).
struct Pair {
  TorrentInfo full;
  TorrentInfo bare;
};

Pair Torrents(std::vector<metainfo::testing::MemFile> files) {
  absl::StatusOr<TorrentInfo> full = TorrentInfo::Parse(
      bencode::Encode(MakeTorrent("t", files, kPiece, Version::kV2)));
  EXPECT_TRUE(full.ok()) << full.status();
  absl::StatusOr<TorrentInfo> bare =
      TorrentInfo::ParseInfoDict(full->info_bytes());
  EXPECT_TRUE(bare.ok()) << bare.status();
  return {*std::move(full), *std::move(bare)};
}

Pair ThreeRanges() {
  return Torrents({{{"a"}, Pattern(3 * kPiece + 100, 1), ""},
                   {{"b"}, Pattern(600 * kPiece, 2), ""},
                   {{"c"}, Pattern(100, 3), ""}});
}

// Answer is what an honest seed sends for `r`.
protocol::Hashes Answer(const TorrentInfo& full, const protocol::HashRange& r,
                        std::string* storage) {
  size_t file = *protocol::FileWithPiecesRoot(full, r.pieces_root);
  *storage = *protocol::PieceLayerTree::ForFile(full, file)->Answer(r);
  return protocol::Hashes{r, *storage};
}

const absl::Time kT0 = absl::FromUnixSeconds(1000);

TEST(PieceLayerFetcherTest, SpreadsRangesAndAdoptsProvedLayers) {
  Pair t = ThreeRanges();
  EXPECT_FALSE(t.bare.has_piece_layers());
  PieceLayerFetcher fetch(t.bare);
  EXPECT_EQ(fetch.ranges_total(), 3u);
  std::optional<protocol::HashRange> r1 = fetch.NextRequest(1, kT0);
  std::optional<protocol::HashRange> r2 = fetch.NextRequest(2, kT0);
  std::optional<protocol::HashRange> r3 = fetch.NextRequest(1, kT0);
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_FALSE(fetch.NextRequest(3, kT0).has_value());
  std::string s1, s2, s3;
  // Only the peer asked is listened to.
  EXPECT_EQ(fetch.OnHashes(2, Answer(t.full, *r1, &s1)), Result::kIgnored);
  EXPECT_EQ(fetch.OnHashes(1, Answer(t.full, *r1, &s1)), Result::kStored);
  EXPECT_EQ(fetch.OnHashes(1, Answer(t.full, *r1, &s1)), Result::kIgnored);
  EXPECT_EQ(fetch.OnHashes(2, Answer(t.full, *r2, &s2)), Result::kStored);
  EXPECT_FALSE(fetch.done());
  EXPECT_EQ(fetch.OnHashes(1, Answer(t.full, *r3, &s3)), Result::kComplete);
  ASSERT_TRUE(fetch.done());
  ASSERT_TRUE(t.bare.AddPieceLayers(fetch.PieceLayers()).ok());
  EXPECT_TRUE(t.bare.has_piece_layers());
  for (uint32_t p = 0; p < t.full.num_pieces(); ++p) {
    EXPECT_EQ(t.bare.V2PieceHash(p), t.full.V2PieceHash(p)) << "piece " << p;
  }
}

TEST(PieceLayerFetcherTest, BadHashesAreRefusedAndAskedOfSomeoneElse) {
  Pair t = ThreeRanges();
  PieceLayerFetcher fetch(t.bare);
  std::optional<protocol::HashRange> r = fetch.NextRequest(7, kT0);
  ASSERT_TRUE(r.has_value());
  std::string bytes;
  protocol::Hashes m = Answer(t.full, *r, &bytes);
  std::string forged = bytes;
  forged[40] ^= 0x80;
  m.hashes = forged;
  EXPECT_EQ(fetch.OnHashes(7, m), Result::kBad);
  // The liar is not asked again for it; another peer is.
  std::optional<protocol::HashRange> again = fetch.NextRequest(7, kT0);
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(*again, *r);
  std::optional<protocol::HashRange> other = fetch.NextRequest(8, kT0);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(*other, *r);
}

TEST(PieceLayerFetcherTest, RejectsTimeOutsAndDepartures) {
  Pair t = Torrents({{{"a"}, Pattern(3 * kPiece, 1), ""}});
  PieceLayerFetcher fetch(t.bare);
  ASSERT_EQ(fetch.ranges_total(), 1u);
  std::optional<protocol::HashRange> r = fetch.NextRequest(1, kT0);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(fetch.NextRequest(2, kT0).has_value());
  // Unanswered for the time-out: someone else may have it.
  EXPECT_TRUE(fetch.NextRequest(2, kT0 + PieceLayerFetcher::kRequestTimeout)
                  .has_value());
  // A reject frees it for others, not for the peer that refused.
  fetch.OnReject(2, *r);
  EXPECT_FALSE(fetch.NextRequest(2, kT0 + absl::Seconds(11)).has_value());
  EXPECT_TRUE(fetch.NextRequest(3, kT0 + absl::Seconds(11)).has_value());
  // A peer that leaves frees what it was asked.
  fetch.OnPeerGone(3);
  EXPECT_TRUE(fetch.NextRequest(4, kT0 + absl::Seconds(11)).has_value());
}

TEST(PieceLayerFetcherTest, SmallFilesNeedNoLayers) {
  Pair t = Torrents({{{"a"}, Pattern(kPiece, 1), ""},
                     {{"b"}, Pattern(10, 2), ""}});
  // Their pieces roots are their piece hashes: nothing to fetch.
  EXPECT_TRUE(t.bare.has_piece_layers());
  PieceLayerFetcher fetch(t.bare);
  EXPECT_TRUE(fetch.done());
  EXPECT_FALSE(fetch.NextRequest(1, kT0).has_value());
  EXPECT_TRUE(t.bare.AddPieceLayers(fetch.PieceLayers()).ok());
}

}  // namespace
}  // namespace bt::client
