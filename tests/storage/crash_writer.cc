// crash_writer: a small downloader stand-in for the crash test. It resumes
// from TORRENT's resume data in DIR (re-checking what the data does not
// vouch for), then "downloads" missing pieces from SOURCE (the torrent's
// piece space) block by block in random order, sometimes writing a garbage
// block first, verifies each finished piece, and now and then saves resume
// data, printing "saved <have as hex>" once a save has completed. It runs
// until everything is there, then waits to be killed.
//
//   crash_writer TORRENT DIR SOURCE RESUME SEED
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "base/file_util.h"
#include "metainfo/torrent_info.h"
#include "storage/hash_checker.h"
#include "storage/piece_storage.h"
#include "storage/posix_file_backend.h"
#include "storage/resume_data.h"

namespace {

// The torrent and the piece space it is fed from are test-sized.
constexpr size_t kMaxInput = size_t{1} << 30;

int Fail(const std::string& what) {
  std::fprintf(stderr, "crash_writer: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bt::storage;
  if (argc != 6) return Fail("usage: TORRENT DIR SOURCE RESUME SEED");
  auto torrent_bytes = bt::ReadFileToString(argv[1], kMaxInput);
  if (!torrent_bytes.ok()) return Fail(torrent_bytes.status().ToString());
  auto torrent = bt::metainfo::TorrentInfo::Parse(*torrent_bytes);
  if (!torrent.ok()) return Fail(std::string(torrent.status().message()));
  auto source = bt::ReadFileToString(argv[3], kMaxInput);
  if (!source.ok()) return Fail(source.status().ToString());
  std::string dir = argv[2], resume = argv[4];
  std::mt19937 rng(std::stoul(argv[5]));
  PosixFileBackend disk;
  auto storage = PieceStorage::Create(*torrent, dir, &disk);
  if (!storage.ok()) return Fail(std::string(storage.status().message()));
  PieceStorage& s = **storage;
  std::string bytes;
  if (auto r = disk.ReadWholeFile(resume, 1 << 24); r.ok()) bytes = *r;
  ResumeState st = RestoreResumeData(*torrent, s, bytes);
  CheckOptions check;
  check.pieces = &st.recheck;
  check.threads = 1;
  auto checked = CheckPieces(*torrent, s, check);
  if (!checked.ok()) return Fail(std::string(checked.status().message()));
  Bitfield have = st.have;
  have.Or(checked->have);

  const int64_t kBlock = 4096;
  const bt::metainfo::FileLayout& layout = torrent->layout();
  std::vector<uint32_t> missing;
  for (uint32_t p = 0; p < layout.num_pieces(); ++p) {
    if (!have.Get(p)) missing.push_back(p);
  }
  std::shuffle(missing.begin(), missing.end(), rng);
  int since_save = 0;
  for (uint32_t p : missing) {
    int64_t size = layout.PieceSize(p);
    int64_t start = int64_t{p} * layout.piece_length();
    std::vector<int64_t> blocks;
    for (int64_t off = 0; off < size; off += kBlock) blocks.push_back(off);
    std::shuffle(blocks.begin(), blocks.end(), rng);
    if (rng() % 5 == 0) blocks.insert(blocks.begin(), -1 - blocks[0]);
    for (int64_t b : blocks) {
      bool garbage = b < 0;
      int64_t off = garbage ? -1 - b : b;
      int64_t len = std::min(kBlock, size - off);
      std::string data = source->substr(start + off, len);
      if (garbage) {
        for (char& c : data) c = static_cast<char>(rng());
      }
      if (!s.WriteBlock(p, off, bt::AsBytes(data)).ok()) {
        return Fail("write failed");
      }
      usleep(rng() % 1500);
    }
    std::string piece(size, '\0');
    if (!s.ReadBlock(p, 0,
                     bt::MutableByteSpan(reinterpret_cast<uint8_t*>(piece.data()),
                                         piece.size()))
             .ok()) {
      return Fail("read failed");
    }
    if (PieceMatches(*torrent, p, bt::AsBytes(piece))) have.Set(p);
    if (++since_save >= 1 + static_cast<int>(rng() % 6)) {
      since_save = 0;
      auto rd = CaptureResumeData(*torrent, s, have, 1);
      if (!rd.ok() || !SaveResumeData(disk, resume, *rd).ok()) {
        return Fail("save failed");
      }
      std::string hex;
      for (unsigned char c : have.ToBytes()) {
        char buf[3];
        std::snprintf(buf, sizeof buf, "%02x", c);
        hex += buf;
      }
      std::printf("saved %s\n", hex.c_str());
      std::fflush(stdout);
    }
  }
  std::printf("complete\n");
  std::fflush(stdout);
  while (true) pause();
}
