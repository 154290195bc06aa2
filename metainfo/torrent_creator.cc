#include "metainfo/torrent_creator.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "base/aligned_buffer.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "bencode/encoder.h"
#include "metainfo/merkle.h"
#include "metainfo/path_sanitizer.h"

namespace bt::metainfo {

using bencode::Value;

int64_t AutoPieceLength(int64_t total_size) {
  int64_t piece = kMerkleBlockSize;
  while (piece < (int64_t{16} << 20) && total_size / piece > 2000) piece *= 2;
  return piece;
}

absl::StatusOr<TorrentBuilder> TorrentBuilder::Create(
    std::string name, std::vector<InputFile> files, bool single_file,
    const CreateOptions& options) {
  if (files.empty()) {
    return absl::InvalidArgumentError("create: no files to put in a torrent");
  }
  if (single_file && (files.size() != 1 || files[0].path.size() != 1)) {
    return absl::InvalidArgumentError(
        "create: a single-file torrent needs exactly one file");
  }
  if (absl::Status s = ValidatePathComponent(name); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("create: torrent name: %s", s.message()));
  }
  // v2 file trees are ordered by name bytes, directory by directory; the
  // v1 list uses the same order so that hybrid torrents agree.
  std::sort(
      files.begin(), files.end(),
      [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
  int64_t total = 0;
  std::vector<FileEntry> entries;
  for (const InputFile& in : files) {
    FileEntry f;
    if (single_file) {
      f.path = {name};
    } else {
      f.path.push_back(name);
      f.path.insert(f.path.end(), in.path.begin(), in.path.end());
    }
    if (absl::Status s = ValidateRelativePath(f.path); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("create: file \"%s\": %s",
                          EscapeForMessage(JoinPath(in.path)), s.message()));
    }
    if (in.size < 0) {
      return absl::InvalidArgumentError("create: negative file size");
    }
    f.size = in.size;
    total += in.size;
    if (in.executable) f.attributes |= kAttrExecutable;
    entries.push_back(std::move(f));
  }
  TorrentBuilder b;
  b.name_ = std::move(name);
  b.single_file_ = single_file;
  b.options_ = options;
  int64_t piece_length =
      options.piece_length ? options.piece_length : AutoPieceLength(total);
  bool v2 = options.version != TorrentVersion::kV1;
  if (v2 && (piece_length < kMerkleBlockSize ||
             !std::has_single_bit(static_cast<uint64_t>(piece_length)))) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "create: piece length %d of a v2 or hybrid torrent must be a power "
        "of two >= 16384",
        piece_length));
  }
  if (v2) entries = FileLayout::AlignFiles(std::move(entries), piece_length);
  ASSIGN_OR_RETURN(b.layout_,
                   FileLayout::Create(std::move(entries), piece_length));
  if (b.layout_.total_size() == 0) {
    return absl::InvalidArgumentError(
        "create: the files hold no data (a torrent needs at least one byte)");
  }
  if (options.version != TorrentVersion::kV2) {
    b.v1_hashes_.resize(b.layout_.num_pieces());
  }
  if (v2) b.v2_hashes_.resize(b.layout_.num_pieces());
  return b;
}

void TorrentBuilder::HashV2Piece(uint32_t piece, ByteSpan data) {
  const int64_t piece_length = layout_.piece_length();
  const FileEntry& f =
      layout_.file(*layout_.FileAtOffset(int64_t{piece} * piece_length));
  v2_hashes_[piece] = PieceRootFromData(
      data, piece_length, /*single_piece_file=*/f.size <= piece_length);
}

namespace {

// Zeros for hashing pad files.
constexpr size_t kZerosSize = 64 * 1024;
const uint8_t kZeros[kZerosSize] = {};

// One file's bytes inside the run being hashed: [start, start + data.size())
// of the piece space; data is empty for pad files (zeros).
struct RunPart {
  int64_t start;
  int64_t size;
  bool pad;
  ByteSpan data;
};

// HashV1Pieces sets the SHA-1 of pieces [begin, end) of `layout` from
// `parts` (their run's bytes). Pieces that lie in one part's bytes are
// hashed two at a time (Sha1Hasher::UpdateBoth); the others, spanning
// files or padding, alone.
void HashV1Pieces(const FileLayout& layout, uint32_t begin, uint32_t end,
                  const std::vector<RunPart>& parts,
                  std::vector<Sha1Hash>& hashes) {
  std::optional<std::pair<uint32_t, ByteSpan>> waiting;  // for a partner
  size_t k = 0;  // first part overlapping the current piece
  for (uint32_t p = begin; p < end; ++p) {
    const int64_t ps = int64_t{p} * layout.piece_length();
    const int64_t pe = ps + layout.PieceSize(p);
    while (parts[k].start + parts[k].size <= ps) ++k;
    if (!parts[k].pad && parts[k].start + parts[k].size >= pe) {
      const ByteSpan whole =
          parts[k].data.subspan(ps - parts[k].start, pe - ps);
      if (!waiting) {
        waiting.emplace(p, whole);
        continue;
      }
      Sha1Hasher a, b;
      Sha1Hasher::UpdateBoth(a, waiting->second, b, whole);
      hashes[waiting->first] = a.Final();
      hashes[p] = b.Final();
      waiting.reset();
      continue;
    }
    Sha1Hasher h;
    for (size_t j = k; j < parts.size() && parts[j].start < pe; ++j) {
      int64_t lo = std::max(ps, parts[j].start);
      int64_t hi = std::min(pe, parts[j].start + parts[j].size);
      if (parts[j].pad) {
        for (int64_t n = hi - lo; n > 0;) {
          size_t take = static_cast<size_t>(
              std::min<int64_t>(n, static_cast<int64_t>(kZerosSize)));
          h.Update(ByteSpan(kZeros, take));
          n -= static_cast<int64_t>(take);
        }
      } else {
        h.Update(parts[j].data.subspan(lo - parts[j].start, hi - lo));
      }
    }
    hashes[p] = h.Final();
  }
  if (waiting) hashes[waiting->first] = Sha1(waiting->second);
}

// ReadSource copies through ReadFn into page-aligned buffers it owns until
// Clear().
class ReadSource : public ChunkSource {
 public:
  explicit ReadSource(const TorrentBuilder::ReadFn& read) : read_(read) {}
  absl::StatusOr<ByteSpan> View(size_t file_index, int64_t offset,
                                int64_t length) override {
    if (used_ == buffers_.size()) buffers_.emplace_back();
    ASSIGN_OR_RETURN(MutableByteSpan span,
                     buffers_[used_++].Get(static_cast<size_t>(length)));
    RETURN_IF_ERROR(read_(file_index, offset, span));
    return ByteSpan(span);
  }
  void Clear() override { used_ = 0; }

 private:
  const TorrentBuilder::ReadFn& read_;
  std::vector<AlignedBuffer> buffers_;
  size_t used_ = 0;
};

}  // namespace

absl::Status TorrentBuilder::HashPieces(uint32_t begin, uint32_t end,
                                        ChunkSource& source) {
  end = std::min(end, layout_.num_pieces());
  if (begin >= end) return absl::OkStatus();
  const int64_t piece_length = layout_.piece_length();
  const int64_t start = int64_t{begin} * piece_length;
  const int64_t stop =
      std::min(int64_t{end} * piece_length, layout_.total_size());
  // View every file's part of the run once.
  std::vector<RunPart> parts;
  for (size_t i = *layout_.FileAtOffset(start);
       i < layout_.num_files() && layout_.file(i).offset < stop; ++i) {
    const FileEntry& f = layout_.file(i);
    int64_t lo = std::max(start, f.offset);
    int64_t hi = std::min(stop, f.offset + f.size);
    if (hi <= lo) continue;
    RunPart part{lo, hi - lo, f.pad(), {}};
    if (!f.pad()) {
      absl::StatusOr<ByteSpan> view = source.View(i, lo - f.offset, hi - lo);
      if (!view.ok()) {
        source.Clear();
        return view.status();
      }
      part.data = *view;
    }
    parts.push_back(part);
  }
  if (!v1_hashes_.empty()) HashV1Pieces(layout_, begin, end, parts, v1_hashes_);
  size_t k = 0;  // first part overlapping the current piece
  for (uint32_t p = begin; p < end && !v2_hashes_.empty(); ++p) {
    const int64_t ps = int64_t{p} * piece_length;
    const int64_t pe = ps + layout_.PieceSize(p);
    while (parts[k].start + parts[k].size <= ps) ++k;
    if (!parts[k].pad) {
      // Aligned layout: the piece's data is one file's, from the piece start.
      int64_t hi = std::min(pe, parts[k].start + parts[k].size);
      HashV2Piece(p, parts[k].data.subspan(ps - parts[k].start, hi - ps));
    }
  }
  source.Clear();
  return absl::OkStatus();
}

absl::Status TorrentBuilder::HashAll(const ReadFn& read) {
  return HashAll([&read] { return std::make_unique<ReadSource>(read); });
}

absl::Status TorrentBuilder::HashAll(const SourceFactory& sources) {
  const uint32_t pieces = layout_.num_pieces();
  const int64_t piece_length = layout_.piece_length();
  const uint32_t per_read = static_cast<uint32_t>(
      std::max<int64_t>(1, options_.read_size / piece_length));
  const uint32_t chunks = (pieces + per_read - 1) / per_read;
  int threads = options_.threads > 0
                    ? options_.threads
                    : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::clamp<int>(threads, 1, std::max<uint32_t>(chunks, 1));

  std::atomic<uint32_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;  // guards error and progress
  absl::Status error;
  int64_t done = 0;
  auto worker = [&] {
    std::unique_ptr<ChunkSource> source = sources();
    while (!failed.load(std::memory_order_relaxed)) {
      uint32_t chunk = next.fetch_add(1);
      if (chunk >= chunks) break;
      uint32_t begin = chunk * per_read;
      uint32_t end = std::min(pieces, begin + per_read);
      absl::Status s = HashPieces(begin, end, *source);
      std::lock_guard<std::mutex> lock(mu);
      if (!s.ok()) {
        if (error.ok()) error = s;
        failed = true;
        break;
      }
      int64_t bytes =
          std::min(int64_t{end} * piece_length, layout_.total_size()) -
          int64_t{begin} * piece_length;
      done += bytes;
      if (options_.progress) options_.progress(done, layout_.total_size());
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  return error;
}

std::string TorrentBuilder::Encode() const {
  const int64_t piece_length = layout_.piece_length();
  const bool v1 = !v1_hashes_.empty();
  const bool v2 = !v2_hashes_.empty();
  const size_t blocks_per_piece =
      static_cast<size_t>(piece_length / kMerkleBlockSize);
  Value::Dict info;
  info["name"] = name_;
  info["piece length"] = piece_length;
  if (options_.is_private) info["private"] = 1;
  if (!options_.source.empty()) info["source"] = options_.source;
  Value::Dict layers;
  if (v2) {
    info["meta version"] = 2;
    Value::Dict tree;
    for (const FileEntry& f : layout_.files()) {
      if (f.pad()) continue;
      Value::Dict props;
      props["length"] = f.size;
      if (f.executable()) props["attr"] = "x";
      if (f.size > 0) {
        IndexRange r = layout_.PiecesOfFile(&f - layout_.files().data());
        absl::Span<const Sha256Hash> layer(v2_hashes_.data() + r.begin,
                                           r.size());
        Sha256Hash root = f.size <= piece_length
                              ? layer[0]
                              : RootFromPieceLayer(layer, blocks_per_piece);
        props["pieces root"] = root.ToString();
        if (f.size > piece_length) {
          std::string bytes;
          bytes.reserve(layer.size() * 32);
          for (const Sha256Hash& h : layer) bytes += h.ToString();
          layers[root.ToString()] = std::move(bytes);
        }
      }
      Value::Dict* dir = &tree;
      size_t first = single_file_ ? 0 : 1;  // skip the torrent name
      for (size_t i = first; i + 1 < f.path.size(); ++i) {
        Value& sub = (*dir)[f.path[i]];
        if (!sub.is_dict()) sub = Value::Dict{};
        dir = &sub.dict();
      }
      (*dir)[f.path.back()] = Value::Dict{{"", std::move(props)}};
    }
    info["file tree"] = std::move(tree);
  }
  if (v1) {
    std::string pieces;
    pieces.reserve(v1_hashes_.size() * 20);
    for (const Sha1Hash& h : v1_hashes_) pieces += h.ToString();
    info["pieces"] = std::move(pieces);
    if (single_file_) {
      info["length"] = layout_.file(0).size;
      if (layout_.file(0).executable()) info["attr"] = "x";
    } else {
      Value::List list;
      for (const FileEntry& f : layout_.files()) {
        Value::Dict entry;
        entry["length"] = f.size;
        Value::List path;
        if (f.pad()) {
          entry["attr"] = "p";
          path = Value::List{".pad", absl::StrFormat("%d", f.size)};
        } else {
          for (size_t i = 1; i < f.path.size(); ++i) path.push_back(f.path[i]);
          if (f.executable()) entry["attr"] = "x";
        }
        entry["path"] = std::move(path);
        list.push_back(std::move(entry));
      }
      info["files"] = std::move(list);
    }
  }
  Value::Dict root;
  size_t tracker_count = 0;
  Value::List tiers;
  for (const auto& tier : options_.trackers) {
    Value::List urls;
    for (const std::string& u : tier) {
      if (u.empty()) continue;
      if (tracker_count++ == 0) root["announce"] = u;
      urls.push_back(u);
    }
    if (!urls.empty()) tiers.push_back(std::move(urls));
  }
  if (tracker_count > 1) root["announce-list"] = std::move(tiers);
  if (!options_.web_seeds.empty()) {
    Value::List seeds;
    for (const std::string& w : options_.web_seeds) seeds.push_back(w);
    root["url-list"] = std::move(seeds);
  }
  if (!options_.comment.empty()) root["comment"] = options_.comment;
  if (!options_.created_by.empty()) root["created by"] = options_.created_by;
  if (options_.creation_date) root["creation date"] = *options_.creation_date;
  root["info"] = std::move(info);
  if (!layers.empty()) root["piece layers"] = std::move(layers);
  return bencode::Encode(Value(std::move(root)));
}

namespace {

namespace fs = std::filesystem;

absl::Status IoError(const std::string& what, const fs::path& p, int err) {
  return absl::UnavailableError(absl::StrFormat(
      "create: %s \"%s\": %s", what, p.string(), std::strerror(err)));
}

absl::Status Scan(const fs::path& root, std::vector<InputFile>* files,
                  std::vector<fs::path>* paths) {
  std::error_code ec;
  fs::recursive_directory_iterator it(root, ec), end;
  if (ec) return IoError("cannot list", root, ec.value());
  for (; it != end; it.increment(ec)) {
    if (ec) return IoError("cannot list", root, ec.value());
    fs::file_status st = it->status(ec);  // follows symlinks
    if (ec || !fs::is_regular_file(st)) continue;
    InputFile f;
    fs::path rel = it->path().lexically_relative(root);
    for (const fs::path& c : rel) f.path.push_back(c.string());
    f.size = static_cast<int64_t>(it->file_size(ec));
    if (ec) return IoError("cannot stat", it->path(), ec.value());
    f.executable =
        (st.permissions() & fs::perms::owner_exec) != fs::perms::none;
    files->push_back(std::move(f));
    paths->push_back(it->path());
  }
  return absl::OkStatus();
}

// PreadFully reads out.size() bytes at `offset` of the file at `path`.
absl::Status PreadFully(const std::string& path, int64_t offset,
                        MutableByteSpan out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open", path, errno);
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::pread(fd, out.data() + got, out.size() - got,
                        static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return IoError("cannot read", path, err);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got != out.size()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "create: \"%s\" became shorter while it was being read", path));
  }
  return absl::OkStatus();
}

// MappedSource views file bytes through read-only mappings of whole files,
// made on first use by the thread that owns the source and kept (at most
// kMaxMaps at a time) until it is destroyed. Pages are mapped by the
// kernel's fault-around as they are hashed, which costs less than
// populating each run up front or copying it with pread.
class MappedSource : public ChunkSource {
 public:
  static constexpr size_t kMaxMaps = 64;

  explicit MappedSource(const std::vector<std::string>& paths)
      : paths_(paths) {}
  ~MappedSource() override { UnmapAll(); }

  absl::StatusOr<ByteSpan> View(size_t file_index, int64_t offset,
                                int64_t length) override {
    auto it = maps_.find(file_index);
    if (it == maps_.end()) {
      if (maps_.size() >= kMaxMaps) UnmapAll();
      const std::string& p = paths_[file_index];
      int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return IoError("cannot open", p, errno);
      struct stat st;
      if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        return IoError("cannot stat", p, err);
      }
      Map m{nullptr, static_cast<size_t>(st.st_size)};
      if (m.size > 0) {
        m.addr = ::mmap(nullptr, m.size, PROT_READ, MAP_SHARED, fd, 0);
      }
      int err = errno;
      ::close(fd);
      if (m.addr == MAP_FAILED) return IoError("cannot map", p, err);
      it = maps_.emplace(file_index, m).first;
    }
    const Map& m = it->second;
    if (static_cast<int64_t>(m.size) < offset + length) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "create: \"%s\" became shorter while it was being read",
          paths_[file_index]));
    }
    return ByteSpan(static_cast<const uint8_t*>(m.addr) + offset,
                    static_cast<size_t>(length));
  }

  void Clear() override {}

 private:
  struct Map {
    void* addr;
    size_t size;
  };
  void UnmapAll() {
    for (const auto& [index, m] : maps_) {
      if (m.addr) ::munmap(m.addr, m.size);
    }
    maps_.clear();
  }

  const std::vector<std::string>& paths_;
  absl::flat_hash_map<size_t, Map> maps_;
};

}  // namespace

absl::StatusOr<std::string> CreateTorrent(const std::string& path,
                                          const CreateOptions& options) {
  std::error_code ec;
  fs::path root = fs::absolute(fs::path(path), ec).lexically_normal();
  if (root.has_relative_path() && !root.has_filename()) {
    root = root.parent_path();  // "dir/" -> "dir"
  }
  fs::file_status st = fs::status(root, ec);
  if (ec || !fs::exists(st)) {
    return absl::NotFoundError(
        absl::StrFormat("create: no such file or directory \"%s\"", path));
  }
  std::string name = root.filename().string();
  std::vector<InputFile> inputs;
  std::vector<fs::path> sources;
  bool single = fs::is_regular_file(st);
  if (single) {
    InputFile f;
    f.path = {name};
    f.size = static_cast<int64_t>(fs::file_size(root, ec));
    if (ec) return IoError("cannot stat", root, ec.value());
    f.executable =
        (st.permissions() & fs::perms::owner_exec) != fs::perms::none;
    inputs.push_back(std::move(f));
    sources.push_back(root);
  } else if (fs::is_directory(st)) {
    RETURN_IF_ERROR(Scan(root, &inputs, &sources));
  } else {
    return absl::InvalidArgumentError(absl::StrFormat(
        "create: \"%s\" is neither a file nor a directory", path));
  }
  // The builder sorts files; map each layout file back to its source path.
  absl::flat_hash_map<std::string, fs::path> by_path;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<std::string> full = inputs[i].path;
    if (!single) full.insert(full.begin(), name);
    by_path.emplace(JoinPath(full), sources[i]);
  }
  ASSIGN_OR_RETURN(
      TorrentBuilder builder,
      TorrentBuilder::Create(name, std::move(inputs), single, options));
  std::vector<std::string> source_of(builder.layout().num_files());
  for (size_t i = 0; i < builder.layout().num_files(); ++i) {
    const FileEntry& f = builder.layout().file(i);
    if (!f.pad()) source_of[i] = by_path[f.PathString()].string();
  }
  if (options.use_mmap) {
    RETURN_IF_ERROR(builder.HashAll(
        [&source_of] { return std::make_unique<MappedSource>(source_of); }));
  } else {
    RETURN_IF_ERROR(
        builder.HashAll([&source_of](size_t file_index, int64_t offset,
                                     MutableByteSpan out) -> absl::Status {
          return PreadFully(source_of[file_index], offset, out);
        }));
  }
  return builder.Encode();
}

}  // namespace bt::metainfo
