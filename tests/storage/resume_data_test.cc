#include "storage/resume_data.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/sha.h"
#include "bencode/decoder.h"
#include "bencode/encoder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metainfo/compact.h"
#include "storage/hash_checker.h"
#include "storage/memory_file_backend.h"
#include "storage/posix_file_backend.h"
#include "tests/storage/storage_test_util.h"

namespace bt::storage {
namespace {

using ::testing::HasSubstr;
using testing::Kind;
using testing::MakeTestTorrent;
using testing::MemFile;
using testing::Pattern;
using testing::TempDir;
using testing::Torrent;

constexpr int64_t kPiece = 16384;

std::vector<MemFile> Files() {
  return {{{"a.bin"}, Pattern(10000, 1), ""},
          {{"b", "b.bin"}, Pattern(5, 2), ""},
          {{"c.bin"}, Pattern(40000, 3), ""},
          {{"d.bin"}, Pattern(20000, 4), ""}};
}

ResumeData Sample() {
  ResumeData rd;
  rd.info_hash = Sha1Hash::FromBytes(AsBytes(Pattern(20, 9)));
  rd.info_hash_v2 = Sha256Hash::FromBytes(AsBytes(Pattern(32, 10)));
  rd.timestamp = 1700000000;
  rd.have = Bitfield(13);
  rd.have.Set(0);
  rd.have.Set(12);
  rd.files = {{100, 123456789012, 1}, {0, 0, 0}, {7, -5, 3}};
  rd.part_file = FileRecord{4096, 99, 0};
  rd.peers = {Endpoint::V4({10, 0, 0, 1}, 6881),
              Endpoint::V6({0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                            0, 1},
                           51413)};
  PartialPiece p;
  p.index = 5;
  p.piece_size = 40000;
  p.block_size = 16384;
  p.blocks = Bitfield(3);
  p.blocks.Set(1);
  p.endgame = true;
  p.priority = 4;
  rd.partial.push_back(p);
  rd.total_uploaded = int64_t{5} << 30;
  rd.total_downloaded = 123;
  return rd;
}

TEST(ResumeDataCodecTest, RoundTrip) {
  ResumeData rd = Sample();
  std::string bytes = EncodeResumeData(rd);
  auto back = DecodeResumeData(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, rd);
  EXPECT_EQ(rd.partial[0].num_blocks(), 3);
  EXPECT_EQ(rd.partial[0].last_block_size(), 40000 - 2 * 16384);
  EXPECT_THAT(bytes, HasSubstr("6:format12:btkit resume"));
  EXPECT_THAT(bytes, HasSubstr("7:versioni1e"));
}

TEST(ResumeDataCodecTest, EveryTruncatedPrefixFails) {
  std::string bytes = EncodeResumeData(Sample());
  for (size_t i = 0; i < bytes.size(); ++i) {
    EXPECT_FALSE(DecodeResumeData(bytes.substr(0, i)).ok()) << i;
  }
}

TEST(ResumeDataCodecTest, DamageAndTamperingAreDetected) {
  std::string bytes = EncodeResumeData(Sample());
  size_t data = bytes.find("4:data") + 6;
  // Flip each byte of the data dictionary's payload in turn (sampled).
  for (size_t i = data + 1; i < bytes.size() - 40; i += 7) {
    std::string bad = bytes;
    bad[i] ^= 0x01;
    auto r = DecodeResumeData(bad);
    EXPECT_FALSE(r.ok()) << i;
  }
  // A hand edit that keeps the structure valid: a bit of "have" set.
  std::string edited = bytes;
  size_t have = edited.find("4:have2:") + 8;
  edited[have] = static_cast<char>(edited[have] | 0x40);
  EXPECT_EQ(DecodeResumeData(edited).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(ResumeDataCodecTest, NewerVersionAndOtherFormatsAreRefused) {
  std::string bytes = EncodeResumeData(Sample());
  std::string newer = bytes;
  newer.replace(newer.find("7:versioni1e"), 12, "7:versioni2e");
  auto r = DecodeResumeData(newer);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("version 2"));
  std::string other = bytes;
  other.replace(other.find("btkit resume"), 12, "btkit resumf");
  EXPECT_EQ(DecodeResumeData(other).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(DecodeResumeData("de").ok());
  EXPECT_FALSE(DecodeResumeData("i1e").ok());
}

TEST(ResumeDataCodecTest, LimitsAreChecked) {
  ResumeData rd = Sample();
  std::string bytes = EncodeResumeData(rd);
  ResumeLimits limits;
  limits.max_file_size = bytes.size() - 1;
  EXPECT_EQ(DecodeResumeData(bytes, limits).status().code(),
            absl::StatusCode::kResourceExhausted);
  limits = ResumeLimits();
  limits.max_pieces = 12;
  EXPECT_FALSE(DecodeResumeData(bytes, limits).ok());
}

// Peers(n) is n distinct IPv4 peers, "newest" first.
std::vector<Endpoint> Peers(int n) {
  std::vector<Endpoint> peers;
  for (int i = 0; i < n; ++i) {
    peers.push_back(
        Endpoint::V4({10, static_cast<uint8_t>(i >> 16),
                      static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)},
                     6881));
  }
  return peers;
}

TEST(ResumeDataCodecTest, SavingKeepsTheNewestPeers) {
  ResumeData rd = Sample();
  rd.peers = Peers(kMaxResumePeers + 50);
  auto back = DecodeResumeData(EncodeResumeData(rd));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->peers, Peers(kMaxResumePeers));
}

TEST(ResumeDataCodecTest, PeersBeyondTheLimitAreSkippedNotRefused) {
  ResumeData rd = Sample();  // one IPv4 and one IPv6 peer
  rd.peers.insert(rd.peers.begin(), Endpoint::V4({10, 0, 0, 2}, 1));
  ResumeLimits limits;
  limits.max_peers = 2;
  auto back = DecodeResumeData(EncodeResumeData(rd), limits);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->peers,
            (std::vector<Endpoint>{rd.peers[0], rd.peers[1]}));  // IPv4 first
  EXPECT_EQ(back->have, rd.have);
  EXPECT_EQ(back->files, rd.files);
}

// WithData returns resume file `file` with its data dictionary changed by
// `edit` and a matching checksum, as another writer of the format would.
std::string WithData(const std::string& file,
                     const std::function<void(bencode::Value::Dict&)>& edit) {
  auto doc = bencode::Decode(file);
  EXPECT_TRUE(doc.ok()) << doc.status();
  if (!doc.ok()) return "";
  bencode::Value data = bencode::Value::FromNode(*doc->root().Find("data"));
  edit(data.dict());
  const std::string raw = bencode::Encode(data);
  bencode::Value::Dict root;
  root["checksum"] = Sha1(AsBytes(raw)).ToString();
  root["data"] = std::move(data);
  root["format"] = std::string(kResumeFormat);
  root["version"] = kResumeVersion;
  return bencode::Encode(bencode::Value(std::move(root)));
}

// A torrent fully written to a memory backend, with resume data saved.
class RestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t_ = MakeTestTorrent("album", Files(), kPiece, Kind::kHybrid);
    Open({});
  }
  void Open(std::vector<int> priorities) {
    storage_.reset();
    StorageOptions o;
    o.file_priorities = std::move(priorities);
    auto s = PieceStorage::Create(t_.info, "/dl", &mem_, std::move(o));
    ASSERT_TRUE(s.ok());
    storage_ = *std::move(s);
  }
  void WritePiece(uint32_t p) {
    ASSERT_TRUE(storage_
                    ->WriteBlock(p, 0,
                                 AsBytes(std::string_view(t_.piece_space)
                                             .substr(p * kPiece,
                                                     t_.info.layout().PieceSize(p))))
                    .ok());
  }
  std::string Save(const Bitfield& have) {
    auto rd = CaptureResumeData(t_.info, *storage_, have, 1234);
    EXPECT_TRUE(rd.ok()) << rd.status();
    EXPECT_TRUE(SaveResumeData(mem_, "/state/album.resume", *rd).ok());
    return *mem_.Contents("/state/album.resume");
  }
  // Pieces of layout file `i`.
  Bitfield PiecesOf(size_t i) {
    Bitfield b(t_.info.num_pieces());
    metainfo::IndexRange r = t_.info.layout().PiecesOfFile(i);
    for (size_t p = r.begin; p < r.end; ++p) b.Set(p);
    return b;
  }
  size_t IndexOf(const std::string& path) {
    for (size_t i = 0; i < t_.info.files().size(); ++i) {
      if (t_.info.files()[i].PathString() == path) return i;
    }
    ADD_FAILURE() << path;
    return 0;
  }

  Torrent t_;
  MemoryFileBackend mem_;
  std::unique_ptr<PieceStorage> storage_;
};

TEST_F(RestoreTest, UnchangedDataIsTrusted) {
  uint32_t n = t_.info.num_pieces();
  for (uint32_t p = 0; p < n; ++p) WritePiece(p);
  Bitfield all(n, true);
  std::string bytes = Save(all);
  ResumeState st = RestoreResumeData(t_.info, *storage_, bytes);
  EXPECT_TRUE(st.problem.ok()) << st.problem;
  EXPECT_EQ(st.have, all);
  EXPECT_TRUE(st.recheck.None());
  EXPECT_EQ(st.timestamp, 1234);
  EXPECT_EQ(st.file_priorities,
            std::vector<int>(t_.info.files().size(), kFilePriorityNormal));
}

TEST_F(RestoreTest, PriorityLevelsAreKept) {
  std::vector<int> levels;
  for (size_t i = 0; i < t_.info.files().size(); ++i) {
    const int kLevels[] = {kFilePriorityHigh, kFilePriorityLow,
                           kFilePriorityNormal};
    levels.push_back(kLevels[i % 3]);
  }
  Open(levels);
  const uint32_t n = t_.info.num_pieces();
  for (uint32_t p = 0; p < n; ++p) WritePiece(p);
  ResumeState st =
      RestoreResumeData(t_.info, *storage_, Save(Bitfield(n, true)));
  EXPECT_TRUE(st.problem.ok()) << st.problem;
  EXPECT_EQ(st.file_priorities, levels);
}

TEST_F(RestoreTest, RecordsWhereTheFilesAreAfterAMove) {
  for (uint32_t p = 0; p < t_.info.num_pieces(); ++p) WritePiece(p);
  ASSERT_TRUE(storage_->MoveStorage("/moved").ok());
  std::string bytes = Save(Bitfield(t_.info.num_pieces()));
  auto rd = DecodeResumeData(bytes);
  ASSERT_TRUE(rd.ok()) << rd.status();
  EXPECT_EQ(rd->save_path, "/moved");
  EXPECT_EQ(RestoreResumeData(t_.info, *storage_, bytes).save_path, "/moved");
}

TEST_F(RestoreTest, NoOrUnusableResumeDataMeansCheckEverything) {
  for (uint32_t p = 0; p < t_.info.num_pieces(); ++p) WritePiece(p);
  std::string good = Save(Bitfield(t_.info.num_pieces(), true));
  Torrent other = MakeTestTorrent("other", Files(), kPiece, Kind::kHybrid);
  auto other_storage = PieceStorage::Create(other.info, "/dl2", &mem_);
  ASSERT_TRUE(other_storage.ok());
  std::string damaged = good;
  damaged[damaged.size() / 2] ^= 0x20;
  std::string newer = good;
  newer.replace(newer.find("7:versioni1e"), 12, "7:versioni9e");
  for (const std::string& bytes : {std::string(), damaged, newer}) {
    ResumeState st = RestoreResumeData(t_.info, *storage_, bytes);
    EXPECT_FALSE(st.problem.ok());
    EXPECT_TRUE(st.have.None());
    EXPECT_TRUE(st.recheck.All());
    EXPECT_TRUE(st.file_priorities.empty());
  }
  ResumeState st = RestoreResumeData(other.info, **other_storage, good);
  EXPECT_THAT(std::string(st.problem.message()), HasSubstr("another torrent"));
  EXPECT_TRUE(st.have.None());
  EXPECT_TRUE(st.recheck.All());
}

TEST_F(RestoreTest, ChangedFileInvalidatesOnlyItsPieces) {
  uint32_t n = t_.info.num_pieces();
  for (uint32_t p = 0; p < n; ++p) WritePiece(p);
  Bitfield all(n, true);
  PartialPiece pp;  // claimed partial for a had piece: dropped
  std::string bytes = Save(all);
  // d.bin is written to after the save (a block rewritten with garbage).
  size_t d = IndexOf("album/d.bin");
  uint32_t d_first = static_cast<uint32_t>(t_.info.layout().PiecesOfFile(d).begin);
  ASSERT_TRUE(storage_->WriteBlock(d_first, 100, AsBytes("garbage")).ok());
  ResumeState st = RestoreResumeData(t_.info, *storage_, bytes);
  EXPECT_THAT(std::string(st.problem.message()), HasSubstr("album/d.bin"));
  Bitfield want = all;
  want.AndNot(PiecesOf(d));
  EXPECT_EQ(st.have, want);
  EXPECT_EQ(st.recheck, PiecesOf(d));
  // The re-check finds the intact pieces again, never the damaged one.
  CheckOptions o;
  o.pieces = &st.recheck;
  auto r = CheckPieces(t_.info, *storage_, o);
  ASSERT_TRUE(r.ok());
  st.have.Or(r->have);
  Bitfield expect_final = all;
  expect_final.Clear(d_first);
  EXPECT_EQ(st.have, expect_final);
}

TEST_F(RestoreTest, SizeChangeAndMissingFilesInvalidate) {
  uint32_t n = t_.info.num_pieces();
  for (uint32_t p = 0; p < n; ++p) WritePiece(p);
  std::string bytes = Save(Bitfield(n, true));
  size_t a = IndexOf("album/a.bin");
  size_t c = IndexOf("album/c.bin");
  mem_.SetContents(storage_->FilePath(a), "x");  // truncated (size differs)
  ASSERT_TRUE(mem_.Remove(storage_->FilePath(c)).ok());
  ResumeState st = RestoreResumeData(t_.info, *storage_, bytes);
  Bitfield bad = PiecesOf(a);
  bad.Or(PiecesOf(c));
  EXPECT_EQ(st.recheck, bad);
  Bitfield want(n, true);
  want.AndNot(bad);
  EXPECT_EQ(st.have, want);
}

TEST_F(RestoreTest, NeverClaimsPiecesOfFilesThatDidNotExist) {
  // Only a.bin's piece was written, but the caller claims everything.
  WritePiece(0);
  uint32_t n = t_.info.num_pieces();
  std::string bytes = Save(Bitfield(n, true));
  ResumeState st = RestoreResumeData(t_.info, *storage_, bytes);
  EXPECT_TRUE(st.have.Get(0));
  EXPECT_EQ(st.have.Count(), 1u);
  EXPECT_EQ(st.recheck.Count(), n - 1);
}

TEST_F(RestoreTest, PartialPiecesSurviveOnlyForUnaffectedPieces) {
  uint32_t n = t_.info.num_pieces();
  size_t a = IndexOf("album/a.bin");
  size_t d = IndexOf("album/d.bin");
  uint32_t pa = static_cast<uint32_t>(t_.info.layout().PiecesOfFile(a).begin);
  uint32_t pd = static_cast<uint32_t>(t_.info.layout().PiecesOfFile(d).begin);
  WritePiece(pa);
  WritePiece(pd);
  auto rd = CaptureResumeData(t_.info, *storage_, Bitfield(n), 5);
  ASSERT_TRUE(rd.ok());
  for (uint32_t p : {pa, pd}) {
    PartialPiece pp;
    pp.index = p;
    pp.piece_size = t_.info.layout().PieceSize(p);
    pp.block_size = 4096;
    pp.blocks = Bitfield(pp.num_blocks());
    pp.blocks.Set(0);
    rd->partial.push_back(pp);
  }
  std::string bytes = EncodeResumeData(*rd);
  ASSERT_TRUE(storage_->WriteBlock(pd, 0, AsBytes("zz")).ok());
  ResumeState st = RestoreResumeData(t_.info, *storage_, bytes);
  ASSERT_EQ(st.partial.size(), 1u);
  EXPECT_EQ(st.partial[0].index, pa);
  // A partial piece whose size disagrees with the torrent discards all.
  rd->partial[0].piece_size -= 1;
  st = RestoreResumeData(t_.info, *storage_, EncodeResumeData(*rd));
  EXPECT_TRUE(st.recheck.All());
}

TEST_F(RestoreTest, PartFileChangesInvalidateThePiecesKeptThere) {
  std::vector<int> prio(t_.info.files().size(), 1);
  size_t b = IndexOf("album/b/b.bin");
  prio[b] = 0;
  Open(prio);
  uint32_t n = t_.info.num_pieces();
  for (uint32_t p = 0; p < n; ++p) WritePiece(p);
  ASSERT_FALSE(mem_.Exists(storage_->FilePath(b)));
  std::string bytes = Save(Bitfield(n, true));
  ResumeState st = RestoreResumeData(t_.info, *storage_, bytes);
  EXPECT_TRUE(st.problem.ok()) << st.problem;
  EXPECT_TRUE(st.have.All());
  EXPECT_EQ(st.file_priorities[b], 0);
  // The part file is rewritten: b's pieces need a check, nothing else.
  std::string part = *mem_.Contents(storage_->PartFilePath());
  mem_.SetContents(storage_->PartFilePath(), part);
  st = RestoreResumeData(t_.info, *storage_, bytes);
  EXPECT_EQ(st.recheck, PiecesOf(b));
  Bitfield want(n, true);
  want.AndNot(PiecesOf(b));
  EXPECT_EQ(st.have, want);
}

// A file listing more peers than we keep (older btkit kept 10000 per
// family) loses the excess peers, never the have-set: refusing it would
// cost a full re-check.
TEST_F(RestoreTest, OversizedPeerListNeverCostsTheHaveSet) {
  uint32_t n = t_.info.num_pieces();
  for (uint32_t p = 0; p < n; ++p) WritePiece(p);
  std::string peers;
  for (const Endpoint& e : Peers(20000)) metainfo::AppendCompactPeer(e, &peers);
  const std::string bytes =
      WithData(Save(Bitfield(n, true)),
               [&](bencode::Value::Dict& d) { d["peers"] = peers; });
  ResumeState st = RestoreResumeData(t_.info, *storage_, bytes);
  EXPECT_TRUE(st.problem.ok()) << st.problem;
  EXPECT_TRUE(st.have.All());
  EXPECT_TRUE(st.recheck.None());
  EXPECT_EQ(st.peers, Peers(kMaxResumePeers));
}

// Loading resume data of a torrent with many files: decoding, the trust
// rules and applying the saved file priorities (as the client does, one
// SetFilePriority per file) must each be linear in the number of files;
// applying used to rescan every file per call (10^10 steps here).
TEST(RestoreManyFilesTest, LoadingIsLinearInTheNumberOfFiles) {
  constexpr int kFiles = 100000;
  std::vector<MemFile> files;
  files.reserve(kFiles);
  std::vector<int> skip_odd(kFiles, 1);
  for (int i = 0; i < kFiles; ++i) {
    files.push_back({{"d", absl::StrFormat("f%06d", i)}, "x", ""});
    if (i % 2) skip_odd[i] = 0;
  }
  Torrent t = MakeTestTorrent("many", files, 1 << 20, Kind::kV1);
  ASSERT_EQ(t.info.files().size(), size_t{kFiles});
  MemoryFileBackend mem;
  std::string bytes;
  {
    StorageOptions o;
    o.file_priorities = skip_odd;
    auto saved = PieceStorage::Create(t.info, "/dl", &mem, std::move(o));
    ASSERT_TRUE(saved.ok()) << saved.status();
    auto rd =
        CaptureResumeData(t.info, **saved, Bitfield(t.info.num_pieces()), 1);
    ASSERT_TRUE(rd.ok()) << rd.status();
    bytes = EncodeResumeData(*rd);
  }
  auto storage = PieceStorage::Create(t.info, "/dl", &mem);
  ASSERT_TRUE(storage.ok()) << storage.status();

  const absl::Time start = absl::Now();
  ResumeState st = RestoreResumeData(t.info, **storage, bytes);
  ASSERT_EQ(st.file_priorities, skip_odd);
  for (size_t i = 0; i < st.file_priorities.size(); ++i) {
    ASSERT_TRUE((*storage)->SetFilePriority(i, st.file_priorities[i]).ok());
  }
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ((*storage)->file_priorities(), skip_odd);
  // About 0.1 s here (1 s with sanitizers); quadratic work took minutes.
  EXPECT_LT(took, absl::Seconds(20)) << "loading is not linear in files";
}

TEST(RestoreRealFilesTest, MtimeChangeOnDiskInvalidates) {
  TempDir dir;
  Torrent t = MakeTestTorrent("album", Files(), kPiece, Kind::kV1);
  PosixFileBackend disk;
  auto s = PieceStorage::Create(t.info, dir.path(), &disk);
  ASSERT_TRUE(s.ok());
  uint32_t n = t.info.num_pieces();
  for (uint32_t p = 0; p < n; ++p) {
    ASSERT_TRUE((*s)->WriteBlock(p, 0,
                                 AsBytes(std::string_view(t.piece_space)
                                             .substr(p * kPiece,
                                                     t.info.layout().PieceSize(p))))
                    .ok());
  }
  auto rd = CaptureResumeData(t.info, **s, Bitfield(n, true), 1);
  ASSERT_TRUE(rd.ok());
  std::string path = dir.path() + "/album.resume";
  ASSERT_TRUE(SaveResumeData(disk, path, *rd).ok());
  auto bytes = disk.ReadWholeFile(path, 1 << 20);
  ASSERT_TRUE(bytes.ok());
  ResumeState st = RestoreResumeData(t.info, **s, *bytes);
  EXPECT_TRUE(st.have.All()) << st.problem;
  // Same size, other mtime: c.bin's pieces go to re-check.
  struct timespec times[2] = {{0, UTIME_OMIT}, {1000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, (*s)->FilePath(2).c_str(), times, 0), 0);
  st = RestoreResumeData(t.info, **s, *bytes);
  EXPECT_EQ(st.recheck.Count(), 4u);  // c.bin spans pieces 0-3
  EXPECT_EQ(st.have.Count(), 1u);
}

}  // namespace
}  // namespace bt::storage
