#include "storage/running_piece_hashes.h"

#include <string>

#include "base/sha.h"
#include "gtest/gtest.h"

namespace bt::storage {
namespace {

std::string Bytes(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 7);
  return s;
}

Sha1Hash Finish(RunningPieceHashes::Prefix p) { return p.hasher.Final(); }

TEST(RunningPieceHashesTest, BlocksInOrderHashTheWholePiece) {
  const std::string piece = Bytes(48, 'a');
  RunningPieceHashes running;
  for (int64_t at = 0; at < 48; at += 16) {
    running.Add(7, at, AsBytes(std::string_view(piece).substr(at, 16)));
  }
  RunningPieceHashes::Prefix p = running.Take(7);
  EXPECT_EQ(p.length, 48);
  EXPECT_EQ(Finish(std::move(p)), Sha1(AsBytes(piece)));
  EXPECT_EQ(running.pieces(), 0u);
  EXPECT_EQ(running.Take(7).length, 0);
}

TEST(RunningPieceHashesTest, AGapStopsThePrefixWhereItIs) {
  const std::string piece = Bytes(64, 'b');
  const std::string_view v(piece);
  RunningPieceHashes running;
  running.Add(1, 0, AsBytes(v.substr(0, 16)));
  running.Add(1, 32, AsBytes(v.substr(32, 16)));  // block 1 not yet here
  running.Add(1, 16, AsBytes(v.substr(16, 16)));  // fills the gap late
  running.Add(1, 48, AsBytes(v.substr(48, 16)));  // not the prefix's end
  RunningPieceHashes::Prefix p = running.Take(1);
  ASSERT_EQ(p.length, 32);
  // The caller hashes the rest from disk and gets the piece's hash.
  p.hasher.Update(AsBytes(v.substr(32)));
  EXPECT_EQ(p.hasher.Final(), Sha1(AsBytes(piece)));
}

TEST(RunningPieceHashesTest, ABlockWithoutTheStartIsNotTracked) {
  const std::string block = Bytes(16, 'c');
  RunningPieceHashes running;
  running.Add(3, 16, AsBytes(block));
  EXPECT_EQ(running.pieces(), 0u);
  EXPECT_EQ(running.Take(3).length, 0);
}

TEST(RunningPieceHashesTest, ARewriteInsideThePrefixDropsThePiece) {
  const std::string a = Bytes(16, 'd');
  RunningPieceHashes running;
  running.Add(2, 0, AsBytes(a));
  running.Add(2, 16, AsBytes(a));
  running.Add(2, 16, AsBytes(a));  // the same range again
  EXPECT_EQ(running.Take(2).length, 0);
}

TEST(RunningPieceHashesTest, TheFirstBlockAgainStartsThePieceOver) {
  const std::string bad = Bytes(16, 'e');
  const std::string good = Bytes(32, 'f');
  RunningPieceHashes running;
  running.Add(4, 0, AsBytes(bad));
  running.Add(4, 16, AsBytes(bad));
  running.Add(4, 0, AsBytes(std::string_view(good).substr(0, 16)));
  running.Add(4, 16, AsBytes(std::string_view(good).substr(16)));
  RunningPieceHashes::Prefix p = running.Take(4);
  EXPECT_EQ(p.length, 32);
  EXPECT_EQ(Finish(std::move(p)), Sha1(AsBytes(good)));
}

TEST(RunningPieceHashesTest, ForgetAndTheLimitOnPieces) {
  const std::string block = Bytes(16, 'g');
  RunningPieceHashes running(/*max_pieces=*/2);
  running.Add(0, 0, AsBytes(block));
  running.Add(1, 0, AsBytes(block));
  running.Add(2, 0, AsBytes(block));  // over the limit: not tracked
  EXPECT_EQ(running.pieces(), 2u);
  EXPECT_EQ(running.Take(2).length, 0);
  running.Forget(0);
  EXPECT_EQ(running.Take(0).length, 0);
  EXPECT_EQ(running.Take(1).length, 16);
}

}  // namespace
}  // namespace bt::storage
