#include "client/hash_server.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/sha.h"
#include "bencode/encoder.h"
#include "client/disk_pool.h"
#include "client/torrent_disk.h"
#include "gtest/gtest.h"
#include "metainfo/merkle.h"
#include "metainfo/torrent_info.h"
#include "protocol/merkle_hashes.h"
#include "storage/bitfield.h"
#include "storage/memory_file_backend.h"
#include "storage/piece_storage.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::client {
namespace {

using metainfo::TorrentInfo;
using metainfo::testing::MemFile;
using metainfo::testing::Pattern;
using metainfo::testing::Version;

constexpr int64_t kPiece = 64 * 1024;  // four 16 KiB blocks per piece
const absl::Time kT0 = absl::FromUnixSeconds(1'000'000);

// A v2 torrent with piece layers ("a": 6 pieces, the last short; "b": one
// small piece) whose data is on an in-memory disk, behind a TorrentDisk on
// a pool without threads.
class HashServerTest : public ::testing::Test {
 protected:
  HashServerTest()
      : files_({MemFile{{"a"}, Pattern(5 * kPiece + 1000, 1), ""},
                MemFile{{"b"}, Pattern(100, 2), ""}}),
        pool_({.threads = 0},
              [this](DiskPool::Task t) { posted_.push_back(std::move(t)); }) {
    absl::StatusOr<TorrentInfo> info = TorrentInfo::Parse(bencode::Encode(
        metainfo::testing::MakeTorrent("t", files_, kPiece, Version::kV2)));
    EXPECT_TRUE(info.ok()) << info.status();
    info_ = std::make_shared<const TorrentInfo>(*std::move(info));
    EXPECT_TRUE(info_->has_piece_layers());
    backend_.SetContents("/dl/t/a", files_[0].data);
    backend_.SetContents("/dl/t/b", files_[1].data);
    absl::StatusOr<std::unique_ptr<storage::PieceStorage>> storage =
        storage::PieceStorage::Create(*info_, "/dl", &backend_);
    EXPECT_TRUE(storage.ok()) << storage.status();
    disk_ = std::make_unique<TorrentDisk>(&pool_, info_, *std::move(storage));
    have_ = storage::Bitfield(info_->num_pieces(), true);
  }
  ~HashServerTest() override {
    RunPosted();
    disk_.reset();
  }

  size_t RunPosted() {
    size_t n = 0;
    while (!posted_.empty()) {
      DiskPool::Task t = std::move(posted_.front());
      posted_.pop_front();
      t();
      ++n;
    }
    return n;
  }

  // Ask calls Answer and returns the reply if it came synchronously (a
  // later one lands in late_replies_).
  std::optional<absl::StatusOr<std::string>> Ask(HashServer& server,
                                                 const protocol::HashRange& r,
                                                 absl::Time now,
                                                 bool may_read = true) {
    auto got = std::make_shared<std::optional<absl::StatusOr<std::string>>>();
    auto returned = std::make_shared<bool>(false);
    server.Answer(r, have_, may_read, *disk_, now,
                  [this, got, returned](absl::StatusOr<std::string> h) {
                    if (*returned) {
                      late_replies_.push_back(std::move(h));
                    } else {
                      *got = std::move(h);
                    }
                  });
    *returned = true;
    return *got;
  }

  // AskAndRun calls Answer and runs the disk work it posted.
  absl::StatusOr<std::string> AskAndRun(HashServer& server,
                                        const protocol::HashRange& r,
                                        absl::Time now) {
    std::optional<absl::StatusOr<std::string>> got;
    server.Answer(
        r, have_, true, *disk_, now,
        [&got](absl::StatusOr<std::string> h) { got = std::move(h); });
    RunPosted();
    EXPECT_TRUE(got.has_value()) << "no reply";
    return got ? *std::move(got) : absl::InternalError("no reply");
  }

  const Sha256Hash& RootOfA() const { return *info_->files()[0].pieces_root; }

  // BlockRange asks for the four block hashes of piece `piece` of file "a".
  protocol::HashRange BlockRange(uint32_t piece, uint32_t length = 4) const {
    protocol::HashRange r;
    r.pieces_root = RootOfA();
    r.base_layer = 0;
    r.index = piece * 4;
    r.length = length;
    return r;
  }

  // ExpectedBlockHashes: the SHA-256 of each 16 KiB block of piece `piece`
  // of file "a", zero hashes past its end.
  std::string ExpectedBlockHashes(uint32_t piece, uint32_t from,
                                  uint32_t count) const {
    std::string out;
    for (uint32_t b = from; b < from + count; ++b) {
      const size_t at = piece * kPiece + b * 16384;
      Sha256Hash h;
      if (at < files_[0].data.size()) {
        h = Sha256(AsBytes(std::string_view(files_[0].data).substr(at, 16384)));
      }
      out.append(reinterpret_cast<const char*>(h.data()), h.size());
    }
    return out;
  }

  std::vector<MemFile> files_;
  std::vector<absl::StatusOr<std::string>> late_replies_;
  std::deque<DiskPool::Task> posted_;
  storage::MemoryFileBackend backend_;
  DiskPool pool_;
  std::shared_ptr<const TorrentInfo> info_;
  std::unique_ptr<TorrentDisk> disk_;
  storage::Bitfield have_;
};

TEST_F(HashServerTest, AnswersPieceLayerRangesFromTheTree) {
  HashServer server(info_);
  protocol::HashRange r;
  r.pieces_root = RootOfA();
  r.base_layer = protocol::PieceLayerBase(kPiece);
  r.index = 0;
  r.length = 8;  // six pieces, padded
  r.proof_layers = 0;
  std::optional<absl::StatusOr<std::string>> got = Ask(server, r, kT0);
  ASSERT_TRUE(got.has_value()) << "a piece-layer range needs no disk";
  ASSERT_TRUE(got->ok()) << got->status();
  absl::StatusOr<protocol::PieceLayerTree> tree =
      protocol::PieceLayerTree::ForFile(*info_, 0);
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(**got, *tree->Answer(r));
  EXPECT_EQ(got->value().size(), 8u * 32);
  // And the answer proves out as a peer checks it.
  EXPECT_TRUE(protocol::VerifyHashes(protocol::Hashes{r, **got}).ok());
  EXPECT_EQ(server.piece_reads(), 0u);
  EXPECT_TRUE(posted_.empty());
  // Piece-layer ranges are public: no upload slot needed.
  std::optional<absl::StatusOr<std::string>> choked =
      Ask(server, r, kT0, /*may_read=*/false);
  ASSERT_TRUE(choked.has_value());
  EXPECT_TRUE(choked->ok());
}

TEST_F(HashServerTest, BlockRangesReadThePieceOnceThenComeFromTheCache) {
  HashServer server(info_);
  // The first request for piece 1's blocks reads the piece on the pool.
  std::optional<absl::StatusOr<std::string>> sync =
      Ask(server, BlockRange(1), kT0);
  EXPECT_FALSE(sync.has_value()) << "answered without reading";
  EXPECT_EQ(server.piece_reads(), 1u);
  EXPECT_EQ(posted_.size(), 1u);
  RunPosted();
  ASSERT_EQ(late_replies_.size(), 1u);
  ASSERT_TRUE(late_replies_[0].ok()) << late_replies_[0].status();
  EXPECT_EQ(*late_replies_[0], ExpectedBlockHashes(1, 0, 4));
  // Asked again: from the cache, at once.
  std::optional<absl::StatusOr<std::string>> cached =
      Ask(server, BlockRange(1), kT0);
  ASSERT_TRUE(cached.has_value());
  ASSERT_TRUE(cached->ok()) << cached->status();
  EXPECT_EQ(**cached, ExpectedBlockHashes(1, 0, 4));
  // Two of its blocks: cached too.
  std::optional<absl::StatusOr<std::string>> half =
      Ask(server, BlockRange(1, 2), kT0);
  ASSERT_TRUE(half.has_value());
  ASSERT_TRUE(half->ok());
  EXPECT_EQ(**half, ExpectedBlockHashes(1, 0, 2));
  EXPECT_EQ(server.piece_reads(), 1u);
  EXPECT_TRUE(posted_.empty());
}

TEST_F(HashServerTest, ManyBlockRequestsForOnePieceCostOneRead) {
  HashServer server(info_);
  ASSERT_TRUE(AskAndRun(server, BlockRange(2), kT0).ok());
  for (int i = 0; i < 100; ++i) {
    protocol::HashRange r = BlockRange(2, 2);
    r.index += (i % 2) * 2;
    absl::StatusOr<std::string> got = AskAndRun(server, r, kT0);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, ExpectedBlockHashes(2, (i % 2) * 2, 2));
  }
  EXPECT_EQ(server.piece_reads(), 1u);
}

TEST_F(HashServerTest, RequestsForAPieceBeingReadWaitForThatRead) {
  HashServer server(info_);
  // Eight requests arrive before the first read completes.
  for (int i = 0; i < 8; ++i) {
    EXPECT_FALSE(Ask(server, BlockRange(3, 2 + 2 * (i % 2)), kT0).has_value());
  }
  EXPECT_EQ(server.piece_reads(), 1u);
  EXPECT_EQ(posted_.size(), 1u);
  RunPosted();
  ASSERT_EQ(late_replies_.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(late_replies_[i].ok()) << late_replies_[i].status();
    EXPECT_EQ(*late_replies_[i], ExpectedBlockHashes(3, 0, 2 + 2 * (i % 2)));
  }
  EXPECT_EQ(server.piece_reads(), 1u);
}

TEST_F(HashServerTest, AFailedReadAnswersEveryoneWaitingWithTheError) {
  HashServer server(info_);
  backend_.FailReads("/dl/t/a", true);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(Ask(server, BlockRange(2), kT0).has_value());
  }
  RunPosted();
  ASSERT_EQ(late_replies_.size(), 3u);
  for (const auto& reply : late_replies_) {
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  }
  // Nothing was cached: the next request reads again.
  backend_.FailReads("/dl/t/a", false);
  late_replies_.clear();
  EXPECT_FALSE(Ask(server, BlockRange(2), kT0).has_value());
  RunPosted();
  ASSERT_EQ(late_replies_.size(), 1u);
  EXPECT_TRUE(late_replies_[0].ok()) << late_replies_[0].status();
  EXPECT_EQ(server.piece_reads(), 2u);
}

TEST_F(HashServerTest, TheShortLastPieceIsPaddedWithZeroHashes) {
  HashServer server(info_);
  absl::StatusOr<std::string> got = AskAndRun(server, BlockRange(5), kT0);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, ExpectedBlockHashes(5, 0, 4));
}

TEST_F(HashServerTest, ReadsBeyondTheRateLimitAreRefused) {
  HashServer::Options o;
  o.reads_per_second = 1;
  o.read_burst = 2;
  HashServer server(info_, o);
  EXPECT_TRUE(AskAndRun(server, BlockRange(0), kT0).ok());
  EXPECT_TRUE(AskAndRun(server, BlockRange(1), kT0).ok());
  std::optional<absl::StatusOr<std::string>> refused =
      Ask(server, BlockRange(2), kT0);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(posted_.empty());
  EXPECT_EQ(server.piece_reads(), 2u);
  // Cached pieces are still answered.
  EXPECT_TRUE(Ask(server, BlockRange(0), kT0).value().ok());
  // A second later one more read is allowed.
  EXPECT_TRUE(AskAndRun(server, BlockRange(2), kT0 + absl::Seconds(1)).ok());
  EXPECT_EQ(server.piece_reads(), 3u);
}

TEST_F(HashServerTest, BlockRangesRefusedWhenWeMayNotRead) {
  HashServer server(info_);
  std::optional<absl::StatusOr<std::string>> got =
      Ask(server, BlockRange(1), kT0, /*may_read=*/false);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(server.piece_reads(), 0u);
  EXPECT_TRUE(posted_.empty());
}

TEST_F(HashServerTest, UnknownRootIsNotFound) {
  HashServer server(info_);
  protocol::HashRange r = BlockRange(0);
  r.pieces_root = Sha256(AsBytes(std::string_view("no such file")));
  std::optional<absl::StatusOr<std::string>> got = Ask(server, r, kT0);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), absl::StatusCode::kNotFound);
  r.base_layer = protocol::PieceLayerBase(kPiece);
  got = Ask(server, r, kT0);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(server.piece_reads(), 0u);
}

TEST_F(HashServerTest, PiecesWeLackAreNotFoundWithoutARead) {
  HashServer server(info_);
  have_.Clear(3);
  std::optional<absl::StatusOr<std::string>> got =
      Ask(server, BlockRange(3), kT0);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(server.piece_reads(), 0u);
  EXPECT_TRUE(posted_.empty());
}

TEST_F(HashServerTest, BadDataOnOurDiskIsDataLossNotHashes) {
  HashServer server(info_);
  std::string corrupt = files_[0].data;
  corrupt[kPiece + 5] ^= 1;  // piece 1
  backend_.SetContents("/dl/t/a", corrupt);
  absl::StatusOr<std::string> got = AskAndRun(server, BlockRange(1), kT0);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(HashServerTest, MalformedRangesAreInvalid) {
  HashServer server(info_);
  protocol::HashRange r = BlockRange(1);
  r.length = 3;
  std::optional<absl::StatusOr<std::string>> got = Ask(server, r, kT0);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), absl::StatusCode::kInvalidArgument);
  r = BlockRange(1);
  r.length = 8;  // spans two pieces
  got = Ask(server, r, kT0);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server.piece_reads(), 0u);
}

}  // namespace
}  // namespace bt::client
