#include "storage/running_piece_hashes.h"

#include <memory>
#include <string>
#include <thread>

#include "absl/time/clock.h"
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

// A block held by Add: a copy of `bytes` kept alive by the returned
// keeper's owner, as a receive buffer is.
struct KeptBlock {
  explicit KeptBlock(std::string_view bytes)
      : buffer(std::make_shared<std::string>(bytes)) {}
  ByteSpan span() const { return AsBytes(*buffer); }
  std::shared_ptr<std::string> buffer;
};

TEST(RunningPieceHashesTest, TwoPiecesHeldAreHashedSideBySide) {
  const std::string a = Bytes(4 * 16384, 'h');
  const std::string b = Bytes(4 * 16384 - 10, 'i');  // a short last block
  RunningPieceHashes running;
  for (int64_t at = 0; at < 4 * 16384; at += 16384) {
    KeptBlock ka(std::string_view(a).substr(at, 16384));
    KeptBlock kb(std::string_view(b).substr(at, 16384));
    running.Add(1, at, ka.span(), ka.buffer);
    EXPECT_EQ(running.held_bytes(), 16384u) << "waits for a partner";
    running.Add(2, at, kb.span(), kb.buffer);
    if (at + 16384 < 4 * 16384) {
      // The two blocks met: hashed, and their buffers let go.
      EXPECT_EQ(running.held_bytes(), 0u);
      EXPECT_EQ(ka.buffer.use_count(), 1);
      EXPECT_EQ(kb.buffer.use_count(), 1);
    }
  }
  // Beside the short block, a's last 64 bytes had no partner.
  EXPECT_EQ(running.held_bytes(), 64u);
  RunningPieceHashes::Prefix pa = running.Take(1);
  RunningPieceHashes::Prefix pb = running.Take(2);
  EXPECT_EQ(pa.length, 4 * 16384);
  EXPECT_EQ(pb.length, 4 * 16384 - 10);
  EXPECT_EQ(Finish(std::move(pa)), Sha1(AsBytes(a)));
  EXPECT_EQ(Finish(std::move(pb)), Sha1(AsBytes(b)));
}

TEST(RunningPieceHashesTest, AHeldPieceIsHashedAloneWhenTakenWithoutWaiting) {
  const std::string a = Bytes(3 * 16384, 'j');
  RunningPieceHashes running;
  KeptBlock k0(std::string_view(a).substr(0, 16384));
  KeptBlock k1(std::string_view(a).substr(16384, 16384));
  running.Add(5, 0, k0.span(), k0.buffer);
  running.Add(5, 16384, k1.span(), k1.buffer);
  // A block without a keeper is hashed at once, with what came before it.
  running.Add(5, 2 * 16384, AsBytes(std::string_view(a).substr(2 * 16384)));
  EXPECT_EQ(running.held_bytes(), 0u);
  EXPECT_EQ(k0.buffer.use_count(), 1);
  KeptBlock again(std::string_view(a).substr(0, 16384));
  running.Add(6, 0, again.span(), again.buffer);
  EXPECT_EQ(running.held_bytes(), 16384u);
  EXPECT_EQ(Finish(running.Take(5)), Sha1(AsBytes(a)));
  RunningPieceHashes::Prefix p = running.Take(6);
  EXPECT_EQ(p.length, 16384);
  EXPECT_EQ(again.buffer.use_count(), 1);
  EXPECT_EQ(running.held_bytes(), 0u);
}

TEST(RunningPieceHashesTest, HeldBytesStayUnderTheLimit) {
  const std::string a = Bytes(8 * 16384, 'k');
  RunningPieceHashes running(/*max_pieces=*/16, /*max_held_bytes=*/3 * 16384);
  for (int64_t at = 0; at < 8 * 16384; at += 16384) {
    KeptBlock k(std::string_view(a).substr(at, 16384));
    running.Add(0, at, k.span(), k.buffer);
    EXPECT_LE(running.held_bytes(), 3u * 16384);
  }
  EXPECT_EQ(Finish(running.Take(0)), Sha1(AsBytes(a)));
}

TEST(RunningPieceHashesTest, RewritesForgetAndHashHeldLetGoOfHeldBlocks) {
  const std::string a = Bytes(2 * 16384, 'l');
  RunningPieceHashes running;
  KeptBlock k0(std::string_view(a).substr(0, 16384));
  KeptBlock k1(std::string_view(a).substr(16384));
  running.Add(0, 0, k0.span(), k0.buffer);
  running.Add(0, 16384, k1.span(), k1.buffer);
  running.Add(0, 16384, k1.span(), k1.buffer);  // a rewrite: dropped
  EXPECT_EQ(running.held_bytes(), 0u);
  EXPECT_EQ(k0.buffer.use_count(), 1);
  EXPECT_EQ(running.pieces(), 0u);

  running.Add(1, 0, k0.span(), k0.buffer);
  running.Forget(1);
  EXPECT_EQ(k0.buffer.use_count(), 1);

  running.Add(2, 0, k0.span(), k0.buffer);
  running.Add(2, 0, k0.span(), k0.buffer);  // started over
  EXPECT_EQ(running.held_bytes(), 16384u);
  running.HashHeld();
  EXPECT_EQ(running.held_bytes(), 0u);
  EXPECT_EQ(k0.buffer.use_count(), 1);
  running.Add(2, 16384, k1.span(), k1.buffer);
  EXPECT_EQ(Finish(running.Take(2)), Sha1(AsBytes(a)));
}

TEST(RunningPieceHashesTest, TakeWaitsForTheNextPiecesBlocks) {
  const std::string a = Bytes(4 * 16384, 'm');
  const std::string b = Bytes(4 * 16384, 'n');
  RunningPieceHashes running;
  for (int64_t at = 0; at < 4 * 16384; at += 16384) {
    KeptBlock k(std::string_view(a).substr(at, 16384));
    running.Add(0, at, k.span(), k.buffer);
  }
  std::vector<KeptBlock> next;
  for (int64_t at = 0; at < 4 * 16384; at += 16384) {
    next.emplace_back(std::string_view(b).substr(at, 16384));
  }
  const absl::Time start = absl::Now();
  std::thread writer([&] {
    for (int64_t at = 0, i = 0; at < 4 * 16384; at += 16384, ++i) {
      running.Add(1, at, next[i].span(), next[i].buffer);
    }
  });
  // Piece 0's held blocks are hashed beside piece 1's as those come.
  RunningPieceHashes::Prefix p = running.Take(0, absl::Seconds(60));
  writer.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(30)) << "waited it all out";
  EXPECT_EQ(Finish(std::move(p)), Sha1(AsBytes(a)));
  EXPECT_EQ(Finish(running.Take(1)), Sha1(AsBytes(b)));
  EXPECT_EQ(running.held_bytes(), 0u);
}

}  // namespace
}  // namespace bt::storage
