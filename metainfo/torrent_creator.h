// Torrent creation: v1, v2 or hybrid .torrent files from a file or a
// directory, hashed on several threads with large sequential reads.
//
//   bt::metainfo::CreateOptions options;
//   options.version = bt::metainfo::TorrentVersion::kHybrid;
//   options.trackers = {{"udp://tracker.example:6969/announce"}};
//   options.creation_date = absl::ToUnixSeconds(absl::Now());
//   options.progress = [](int64_t done, int64_t total) { ... };
//   ASSIGN_OR_RETURN(std::string torrent,
//                    bt::metainfo::CreateTorrent("/data/album", options));
//
// Two layers: TorrentBuilder is the sans-I/O core (a file list in, piece
// hashes computed from bytes supplied through a read callback, bencoded
// torrent out), usable from memory in tests and by other tools;
// CreateTorrent adds the file system walk, the file reads and the threads.
//
// Layout choices: files are taken in byte order of their names, directory
// by directory (the order of a v2 file tree, so v1 and v2 lists agree);
// directories that hold no files are not represented; regular files and
// symlinks to regular files are included, other special files skipped. v2
// and hybrid torrents align every file to a piece boundary; hybrid torrents
// list the gaps as BEP 47 pad files ([".pad", "N"], attr "p") after every
// file but the last. Executable files get BEP 47 attr "x".
#ifndef METAINFO_TORRENT_CREATOR_H_
#define METAINFO_TORRENT_CREATOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/bytes.h"
#include "base/hash.h"
#include "metainfo/file_layout.h"
#include "metainfo/torrent_info.h"

namespace bt::metainfo {

struct CreateOptions {
  TorrentVersion version = TorrentVersion::kHybrid;
  // Piece length in bytes; 0 chooses one (AutoPieceLength). v2 and hybrid
  // need a power of two >= 16 KiB.
  int64_t piece_length = 0;
  std::vector<std::vector<std::string>> trackers;  // tiers (BEP 12)
  std::vector<std::string> web_seeds;              // BEP 19 url-list
  bool is_private = false;                         // BEP 27
  std::string comment;
  std::string created_by = "btkit 0.1.0";
  std::string source;  // info "source" tag; empty for none
  // Seconds since the Unix epoch; unset omits "creation date" (the caller
  // supplies the time: this layer reads no clocks).
  std::optional<int64_t> creation_date;
  // Hashing threads; 0 uses the hardware concurrency.
  int threads = 0;
  // Bytes each thread takes per turn, rounded to whole pieces (at least
  // one piece). Pieces within one turn's bytes are hashed two at a time
  // (v1, Sha1Hasher::UpdateBoth): 2 MiB pairs 1 MiB pieces and keeps a
  // thread's buffer small.
  int64_t read_size = int64_t{2} << 20;
  // CreateTorrent reads with pread into a per-thread buffer (false), or
  // through memory maps of whole files (true). Maps save the copy (about 7%
  // of the CPU time of a v1 creation from the page cache, measured by
  // benchmarks/metainfo/create_benchmark.sh); pread is the default because
  // a file truncated during hashing is then an error, where a mapping
  // would raise SIGBUS.
  bool use_mmap = false;
  // progress(bytes_hashed, total_bytes) is called from the hashing threads,
  // one call at a time, after each read; may be empty.
  std::function<void(int64_t, int64_t)> progress;
};

// AutoPieceLength picks a piece length for `total_size` bytes: the smallest
// power of two >= 16 KiB giving at most 2000 pieces, capped at 16 MiB.
int64_t AutoPieceLength(int64_t total_size);

// InputFile is one file to put in a torrent.
struct InputFile {
  // Path relative to the torrent's directory (for a single-file torrent,
  // just the file's name).
  std::vector<std::string> path;
  int64_t size = 0;
  bool executable = false;
};

// ChunkSource supplies file bytes to one hashing thread. View returns the
// bytes [offset, offset + length) of layout file `file_index` (never a pad
// file); the view stays valid until the next Clear(). Each hashing thread
// owns its own ChunkSource, so implementations need no locking.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  virtual absl::StatusOr<ByteSpan> View(size_t file_index, int64_t offset,
                                        int64_t length) = 0;
  virtual void Clear() = 0;
};

// TorrentBuilder turns a file list and its contents into a .torrent. Use:
// Create, then HashPieces over every piece (from any number of threads on
// disjoint ranges) or HashAll, then Encode.
class TorrentBuilder {
 public:
  // ReadFn fills `out` with bytes of layout file `file_index` starting at
  // `offset`; it must fill all of `out` or return an error. Called from
  // several threads at once by HashAll.
  using ReadFn = std::function<absl::Status(size_t file_index, int64_t offset,
                                            MutableByteSpan out)>;
  // SourceFactory makes one ChunkSource per hashing thread.
  using SourceFactory = std::function<std::unique_ptr<ChunkSource>()>;

  // Create validates the inputs (names pass the path sanitiser, sizes are
  // non-negative, there is at least one file, the piece length suits the
  // version) and lays the files out. `single_file` needs exactly one file.
  static absl::StatusOr<TorrentBuilder> Create(std::string name,
                                               std::vector<InputFile> files,
                                               bool single_file,
                                               const CreateOptions& options);

  // layout is the piece space, pad files included; paths start with the
  // torrent name for multi-file torrents.
  const FileLayout& layout() const { return layout_; }
  const CreateOptions& options() const { return options_; }

  // HashPieces hashes pieces [begin, end) from bytes viewed through
  // `source` (cleared afterwards). Safe to call concurrently for disjoint
  // ranges with distinct sources.
  absl::Status HashPieces(uint32_t begin, uint32_t end, ChunkSource& source);

  // HashAll hashes every piece on options().threads threads, each taking
  // runs of options().read_size bytes in turn, and reports progress.
  absl::Status HashAll(const SourceFactory& sources);
  // HashAll with copies made by `read` into per-thread buffers.
  absl::Status HashAll(const ReadFn& read);

  // Encode returns the bencoded .torrent. Requires every piece hashed.
  std::string Encode() const;

 private:
  TorrentBuilder() = default;
  void HashV2Piece(uint32_t piece, ByteSpan data);

  std::string name_;
  bool single_file_ = false;
  CreateOptions options_;
  FileLayout layout_;
  std::vector<Sha1Hash> v1_hashes_;
  std::vector<Sha256Hash> v2_hashes_;  // per piece (v2 piece hash)
};

// CreateTorrent makes a .torrent of the file or directory at `path`, read
// as CreateOptions::use_mmap says (with use_mmap, a file truncated by
// another process while it is hashed ends the process with SIGBUS, as with
// any mmap reader).
// Errors: kNotFound (no such path), kInvalidArgument (no files, a name the
// sanitiser refuses, a bad piece length), kFailedPrecondition (a file
// changed size while being read), kUnavailable (an I/O error), with the
// path in the message.
absl::StatusOr<std::string> CreateTorrent(const std::string& path,
                                          const CreateOptions& options);

}  // namespace bt::metainfo

#endif  // METAINFO_TORRENT_CREATOR_H_
