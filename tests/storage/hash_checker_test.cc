#include "storage/hash_checker.h"

#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_file_backend.h"
#include "tests/storage/storage_test_util.h"

namespace bt::storage {
namespace {

using testing::Kind;
using testing::MakeTestTorrent;
using testing::MemFile;
using testing::Pattern;
using testing::TempDir;
using testing::Torrent;
using testing::WriteFileOrDie;

std::vector<MemFile> Files() {
  return {{{"a.bin"}, Pattern(10000, 1), ""},
          {{"b", "b.bin"}, Pattern(5, 2), ""},
          {{"c.bin"}, Pattern(100000, 3), ""},
          {{"d.bin"}, Pattern(20000, 4), ""}};
}

struct Case {
  Kind kind;
  int64_t piece_length;
  int64_t read_size;
  int threads;
};

std::string Name(const Case& c) {
  const char* k = c.kind == Kind::kV1         ? "V1"
                  : c.kind == Kind::kV1Padded ? "V1Padded"
                  : c.kind == Kind::kV2       ? "V2"
                                              : "Hybrid";
  return std::string(k) + "Piece" + std::to_string(c.piece_length) + "Read" +
         std::to_string(c.read_size) + "Threads" + std::to_string(c.threads);
}

class HashCheckerTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    t_ = MakeTestTorrent("album", Files(), GetParam().piece_length,
                         GetParam().kind);
    ASSERT_GT(t_.info.num_pieces(), 3u);
    for (const MemFile& f : Files()) {
      WriteFileOrDie(Path(f), f.data);
    }
  }
  std::string Path(const MemFile& f) {
    return dir_.path() + "/album/" + absl::StrJoin(f.path, "/");
  }
  // File index in the layout of Files()[i] (pads shift indices).
  const metainfo::FileEntry& Entry(size_t i) {
    size_t real = 0;
    for (const metainfo::FileEntry& e : t_.info.files()) {
      if (e.pad()) continue;
      if (real++ == i) return e;
    }
    return t_.info.files().back();
  }
  // Pieces overlapping piece-space bytes [begin, end).
  std::set<uint32_t> PiecesOver(int64_t begin, int64_t end) {
    std::set<uint32_t> out;
    for (int64_t p = begin / t_.info.piece_length();
         p * t_.info.piece_length() < end; ++p) {
      out.insert(static_cast<uint32_t>(p));
    }
    return out;
  }
  CheckResult Check(std::vector<uint32_t>* order = nullptr) {
    CheckOptions o;
    o.threads = GetParam().threads;
    o.read_size = GetParam().read_size;
    std::vector<uint32_t> seen;
    std::map<uint32_t, bool> reported;
    o.on_piece = [&](uint32_t p, bool ok) {
      seen.push_back(p);
      reported[p] = ok;
    };
    int64_t last_bytes = -1;
    o.on_progress = [&](const CheckProgress& pr) {
      EXPECT_GE(pr.bytes_done, last_bytes);
      last_bytes = pr.bytes_done;
      EXPECT_LE(pr.pieces_done, pr.pieces_total);
    };
    auto r = CheckDirectory(t_.info, dir_.path(), o);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {};
    EXPECT_EQ(seen.size(), r->checked.Count());
    for (const auto& [p, ok] : reported) EXPECT_EQ(ok, r->have.Get(p)) << p;
    EXPECT_EQ(last_bytes, t_.info.total_size());
    EXPECT_FALSE(r->cancelled);
    if (order) *order = seen;
    return *r;
  }
  std::set<uint32_t> Failing(const CheckResult& r) {
    std::set<uint32_t> out;
    for (uint32_t p = 0; p < t_.info.num_pieces(); ++p) {
      EXPECT_TRUE(r.checked.Get(p));
      if (!r.have.Get(p)) out.insert(p);
    }
    return out;
  }

  TempDir dir_;
  Torrent t_;
};

TEST_P(HashCheckerTest, CompleteDataPasses) {
  CheckResult r = Check();
  EXPECT_TRUE(r.have.All());
  EXPECT_EQ(r.passed, t_.info.num_pieces());
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(r.bytes_read, t_.info.total_size());
}

TEST_P(HashCheckerTest, OneCorruptByteFailsOnlyItsPiece) {
  const metainfo::FileEntry& c = Entry(2);
  for (int64_t at : {int64_t{0}, int64_t{54321}, c.size - 1}) {
    MemFile f = Files()[2];
    f.data[at] ^= 0x01;
    WriteFileOrDie(Path(f), f.data);
    EXPECT_EQ(Failing(Check()), PiecesOver(c.offset + at, c.offset + at + 1))
        << "corrupt byte " << at;
  }
}

TEST_P(HashCheckerTest, TruncatedFileFailsItsTail) {
  const metainfo::FileEntry& c = Entry(2);
  MemFile f = Files()[2];
  ASSERT_EQ(truncate(Path(f).c_str(), 70000), 0);
  EXPECT_EQ(Failing(Check()), PiecesOver(c.offset + 70000, c.offset + c.size));
}

TEST_P(HashCheckerTest, MissingFileFailsItsPieces) {
  const metainfo::FileEntry& d = Entry(3);
  ASSERT_EQ(unlink(Path(Files()[3]).c_str()), 0);
  EXPECT_EQ(Failing(Check()), PiecesOver(d.offset, d.offset + d.size));
  const metainfo::FileEntry& b = Entry(1);
  ASSERT_EQ(unlink(Path(Files()[1]).c_str()), 0);
  std::set<uint32_t> want = PiecesOver(d.offset, d.offset + d.size);
  want.merge(PiecesOver(b.offset, b.offset + b.size));
  EXPECT_EQ(Failing(Check()), want);
}

TEST_P(HashCheckerTest, NothingThereFailsEverything) {
  TempDir empty;
  CheckOptions o;
  o.threads = GetParam().threads;
  auto r = CheckDirectory(t_.info, empty.path(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->have.None());
  EXPECT_EQ(r->failed, t_.info.num_pieces());
}

TEST_P(HashCheckerTest, PartialCheckAndSkippedFiles) {
  // Only the pieces selected are checked.
  Bitfield only(t_.info.num_pieces());
  only.Set(1);
  only.Set(t_.info.num_pieces() - 1);
  CheckOptions o;
  o.pieces = &only;
  o.threads = GetParam().threads;
  auto r = CheckDirectory(t_.info, dir_.path(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->checked, only);
  EXPECT_EQ(r->have, only);
  // Files of priority 0: pieces lying only in them are not checked.
  std::vector<int> prio(t_.info.files().size(), 1);
  for (size_t i = 0; i < prio.size(); ++i) {
    if (&t_.info.files()[i] == &Entry(2)) prio[i] = 0;
  }
  r = CheckDirectory(t_.info, dir_.path(), CheckOptions(), prio);
  ASSERT_TRUE(r.ok());
  const metainfo::FileEntry& c = Entry(2);
  for (uint32_t p = 0; p < t_.info.num_pieces(); ++p) {
    bool only_c = true;  // every non-pad file of the piece is c.bin
    metainfo::IndexRange files = t_.info.layout().FilesInPiece(p);
    for (size_t i = files.begin; i < files.end; ++i) {
      const metainfo::FileEntry& e = t_.info.files()[i];
      if (!e.pad() && e.size > 0 && &e != &c) only_c = false;
    }
    EXPECT_EQ(r->checked.Get(p), !only_c) << p;
  }
}

TEST_P(HashCheckerTest, CancelStopsEarly) {
  std::atomic<bool> cancel{false};
  CheckOptions o;
  o.threads = GetParam().threads;
  o.read_size = 16384;  // one piece per read: cancellation between reads
  o.cancel = &cancel;
  o.on_piece = [&](uint32_t, bool) { cancel = true; };
  auto r = CheckDirectory(t_.info, dir_.path(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->cancelled);
  EXPECT_LT(r->checked.Count(), t_.info.num_pieces());
  EXPECT_GE(r->checked.Count(), 1u);
  EXPECT_EQ(r->have, r->checked);
}

TEST_P(HashCheckerTest, PieceMatchesInMemory) {
  const metainfo::FileLayout& l = t_.info.layout();
  for (uint32_t p = 0; p < l.num_pieces(); ++p) {
    std::string piece = t_.piece_space.substr(p * l.piece_length(),
                                              l.PieceSize(p));
    EXPECT_TRUE(PieceMatches(t_.info, p, AsBytes(piece))) << p;
    piece[0] ^= 0x80;
    EXPECT_FALSE(PieceMatches(t_.info, p, AsBytes(piece))) << p;
    EXPECT_FALSE(PieceMatches(t_.info, p, AsBytes(piece).subspan(1)));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, HashCheckerTest,
    ::testing::Values(Case{Kind::kV1, 16384, 1 << 20, 1},
                      Case{Kind::kV1, 16384, 16384, 3},
                      Case{Kind::kV1Padded, 16384, 1 << 20, 2},
                      Case{Kind::kV2, 16384, 1 << 20, 2},
                      Case{Kind::kV2, 32768, 16384, 3},
                      Case{Kind::kHybrid, 16384, 49152, 2},
                      Case{Kind::kHybrid, 65536, 16384, 2}),
    [](const auto& info) { return Name(info.param); });

TEST(HashCheckerMemoryTest, ChecksThroughStorageWithPartFile) {
  Torrent t = MakeTestTorrent("album", Files(), 16384, Kind::kV1);
  MemoryFileBackend mem;
  StorageOptions so;
  so.file_priorities = {1, 0, 1, 1};  // b.bin lives in the part file
  auto s = PieceStorage::Create(t.info, "/dl", &mem, std::move(so));
  ASSERT_TRUE(s.ok());
  for (uint32_t p = 0; p < t.info.num_pieces(); ++p) {
    ASSERT_TRUE((*s)->WriteBlock(p, 0,
                                 AsBytes(std::string_view(t.piece_space)
                                             .substr(p * 16384,
                                                     t.info.layout().PieceSize(p))))
                    .ok());
  }
  EXPECT_FALSE(mem.Exists("/dl/album/b/b.bin"));
  auto r = CheckPieces(t.info, **s, CheckOptions());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->have.All());
  EXPECT_TRUE((*s)->error().ok());
}

TEST(HashCheckerMemoryTest, RejectsBadSelection) {
  Torrent t = MakeTestTorrent("album", Files(), 16384, Kind::kV2);
  MemoryFileBackend mem;
  auto s = PieceStorage::Create(t.info, "/dl", &mem);
  ASSERT_TRUE(s.ok());
  Bitfield wrong(3);
  CheckOptions o;
  o.pieces = &wrong;
  EXPECT_EQ(CheckPieces(t.info, **s, o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// VisitCountingBackend counts the files a check tries to read.
class VisitCountingBackend : public MemoryFileBackend {
 public:
  absl::StatusOr<int64_t> Visit(
      const std::string& path, int64_t offset, int64_t length,
      const std::function<void(ByteSpan)>& consume) override {
    {
      absl::MutexLock l(&mu_);
      ++visits_[path];
    }
    return MemoryFileBackend::Visit(path, offset, length, consume);
  }
  std::map<std::string, int> visits() const {
    absl::MutexLock l(&mu_);
    return visits_;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, int> visits_;
};

// A file that is not there (a fresh download's) is not tried once per
// read: its pieces fail without a read, the others are checked as ever.
TEST(HashCheckerMemoryTest, AbsentFilesAreNotRead) {
  for (Kind kind : {Kind::kV1, Kind::kV1Padded, Kind::kHybrid}) {
    Torrent t = MakeTestTorrent("album", Files(), 16384, kind);
    VisitCountingBackend mem;
    mem.SetContents("/dl/album/a.bin", Files()[0].data);
    mem.SetContents("/dl/album/d.bin", Files()[3].data);
    StorageOptions so;
    so.file_priorities.assign(t.info.files().size(), 1);
    auto s = PieceStorage::Create(t.info, "/dl", &mem, std::move(so));
    ASSERT_TRUE(s.ok()) << s.status();
    CheckOptions o;
    o.read_size = 16384;  // many reads of c.bin, were it tried
    o.threads = 2;
    auto r = CheckPieces(t.info, **s, o);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->checked.Count(), t.info.num_pieces());
    std::map<std::string, int> visits = mem.visits();
    EXPECT_FALSE(visits.contains("/dl/album/b/b.bin"));
    EXPECT_FALSE(visits.contains("/dl/album/c.bin"));
    EXPECT_GT(visits["/dl/album/a.bin"], 0);
    // A piece passes exactly when every file it overlaps is there.
    Bitfield want(t.info.num_pieces());
    want.SetAll();
    for (const metainfo::FileEntry& f : t.info.files()) {
      if (f.pad() || f.path.back() == "a.bin" || f.path.back() == "d.bin") {
        continue;
      }
      for (int64_t p = f.offset / 16384; p * 16384 < f.offset + f.size; ++p) {
        want.Clear(static_cast<uint32_t>(p));
      }
    }
    ASSERT_GT(want.Count(), 0u);
    EXPECT_EQ(r->have, want);
    EXPECT_TRUE((*s)->error().ok());
  }
}

// A magnet link's metadata has no piece layers: a hybrid torrent is still
// checked through its v1 hashes; a v2-only one cannot be.
TEST(HashCheckerMemoryTest, WithoutPieceLayersOnlyHybridTorrentsCheck) {
  for (Kind kind : {Kind::kHybrid, Kind::kV2}) {
    Torrent full = MakeTestTorrent("album", Files(), 16384, kind);
    auto info = metainfo::TorrentInfo::ParseInfoDict(full.info.info_bytes());
    ASSERT_TRUE(info.ok()) << info.status();
    ASSERT_FALSE(info->has_piece_layers());
    MemoryFileBackend mem;
    auto s = PieceStorage::Create(*info, "/dl", &mem);
    ASSERT_TRUE(s.ok());
    for (uint32_t p = 0; p < info->num_pieces(); ++p) {
      std::string_view piece = std::string_view(full.piece_space)
                                   .substr(p * 16384, info->layout().PieceSize(p));
      if (p == 1) continue;  // one piece missing
      ASSERT_TRUE((*s)->WriteBlock(p, 0, AsBytes(piece)).ok());
    }
    auto r = CheckPieces(*info, **s, CheckOptions());
    if (kind == Kind::kV2) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->have.Count(), info->num_pieces() - 1);
    EXPECT_FALSE(r->have.Get(1));
  }
}

}  // namespace
}  // namespace bt::storage
