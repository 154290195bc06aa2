// Fuzz target for the resume-data loader: any input is either refused or
// decodes to data (with at most kMaxResumePeers peers, however many the
// input lists) that re-encodes and decodes to itself; restoring it
// against a small torrent never trusts a piece the files cannot back and
// never goes out of bounds. Inputs are also replayed with their info-hash
// patched to the torrent's so the per-file trust rules are reached.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "base/sha.h"
#include "bencode/encoder.h"
#include "metainfo/torrent_info.h"
#include "storage/memory_file_backend.h"
#include "storage/piece_storage.h"
#include "storage/resume_data.h"
#include "tests/metainfo/test_torrents.h"

namespace {

using bt::storage::Bitfield;
using bt::storage::ResumeState;

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Fixture {
  Fixture() {
    using bt::metainfo::testing::MakeTorrent;
    using bt::metainfo::testing::Pattern;
    auto t = bt::metainfo::TorrentInfo::Parse(bt::bencode::Encode(MakeTorrent(
        "album",
        {{{"a.bin"}, Pattern(20000, 1), ""},
         {{"b.bin"}, Pattern(5, 2), ""},
         {{"c.bin"}, Pattern(40000, 3), ""}},
        16384, bt::metainfo::testing::Version::kHybrid)));
    Check(t.ok());
    torrent = *std::move(t);
    auto s = bt::storage::PieceStorage::Create(torrent, "/dl", &mem);
    Check(s.ok());
    storage = *std::move(s);
    // a.bin complete, c.bin partly there, b.bin missing.
    mem.SetContents(storage->FilePath(0), Pattern(20000, 1));
    mem.SetContents(storage->FilePath(4), Pattern(100, 3));
  }
  bt::metainfo::TorrentInfo torrent;
  bt::storage::MemoryFileBackend mem;
  std::unique_ptr<bt::storage::PieceStorage> storage;
};

void CheckState(const Fixture& f, const ResumeState& st) {
  uint32_t n = f.torrent.num_pieces();
  Check(st.have.size() == n && st.recheck.size() == n);
  // b.bin (file 2) does not exist: no piece overlapping it may be trusted.
  bt::metainfo::IndexRange b = f.torrent.layout().PiecesOfFile(2);
  for (size_t p = b.begin; p < b.end; ++p) Check(!st.have.Get(p));
  for (const auto& pp : st.partial) {
    Check(pp.index < n && !st.have.Get(pp.index));
    Check(static_cast<int64_t>(pp.blocks.size()) == pp.num_blocks());
  }
}

void Exercise(Fixture* f, std::string_view in) {
  auto rd = bt::storage::DecodeResumeData(in);
  if (rd.ok()) {
    // Peers past the limit are skipped, so what decodes re-encodes whole.
    Check(rd->peers.size() <= bt::storage::kMaxResumePeers);
    std::string again = bt::storage::EncodeResumeData(*rd);
    auto back = bt::storage::DecodeResumeData(again);
    Check(back.ok() && *back == *rd);
  }
  CheckState(*f, bt::storage::RestoreResumeData(f->torrent, *f->storage, in));
  if (rd.ok()) {
    rd->info_hash = f->torrent.WireInfoHash();
    rd->info_hash_v2 = f->torrent.info_hash_v2();
    std::string patched = bt::storage::EncodeResumeData(*rd);
    CheckState(*f,
               bt::storage::RestoreResumeData(f->torrent, *f->storage, patched));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = new Fixture();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Exercise(f, in);
  // The input as the checksummed `data` value of a well-formed envelope, so
  // mutations reach the field parser past the checksum.
  std::string wrapped = "d8:checksum20:" + bt::Sha1(bt::AsBytes(in)).ToString() +
                        "4:data" + std::string(in) +
                        "6:format12:btkit resume7:versioni1ee";
  Exercise(f, wrapped);
  return 0;
}
