#include "storage/resume_data.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "bencode/encoder.h"
#include "metainfo/compact.h"

namespace bt::storage {

namespace {

using bencode::Node;
using bencode::Value;

Value::Dict RecordDict(const FileRecord& r, bool with_priority) {
  Value::Dict d;
  d["size"] = r.size;
  d["mtime"] = r.mtime_ns;
  if (with_priority) d["priority"] = r.priority;
  return d;
}

absl::Status Bad(const Node& n, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrFormat("resume data: %s at byte %d", what, n.offset()));
}

// GetIntIn reads integer `key` of dict `d` and checks lo <= v <= hi.
absl::StatusOr<int64_t> GetIntIn(const Node& d, std::string_view key,
                                 int64_t lo, int64_t hi) {
  ASSIGN_OR_RETURN(int64_t v, d.GetInt(key));
  if (v < lo || v > hi) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "resume data: \"%s\" = %d is outside [%d, %d] (dict at byte %d)", key,
        v, lo, hi, d.offset()));
  }
  return v;
}

absl::StatusOr<FileRecord> ParseRecord(const Node& n, bool with_priority) {
  if (!n.is_dict()) return Bad(n, "file record is not a dict");
  FileRecord r;
  ASSIGN_OR_RETURN(r.size, GetIntIn(n, "size", 0, int64_t{1} << 62));
  ASSIGN_OR_RETURN(r.mtime_ns, GetIntIn(n, "mtime", INT64_MIN, INT64_MAX));
  r.priority = 0;
  if (with_priority) {
    ASSIGN_OR_RETURN(int64_t p, GetIntIn(n, "priority", 0, 255));
    r.priority = static_cast<int>(p);
  }
  return r;
}

absl::StatusOr<PartialPiece> ParsePartial(const Node& n, uint32_t pieces) {
  if (!n.is_dict()) return Bad(n, "partial piece is not a dict");
  PartialPiece pp;
  ASSIGN_OR_RETURN(int64_t index, GetIntIn(n, "index", 0, int64_t{pieces} - 1));
  pp.index = static_cast<uint32_t>(index);
  ASSIGN_OR_RETURN(pp.piece_size, GetIntIn(n, "piece size", 1, int64_t{1} << 30));
  ASSIGN_OR_RETURN(pp.block_size, GetIntIn(n, "block size", 1, pp.piece_size));
  ASSIGN_OR_RETURN(int64_t blocks, n.GetInt("blocks"));
  ASSIGN_OR_RETURN(int64_t last, n.GetInt("last block size"));
  if (blocks != pp.num_blocks() || last != pp.last_block_size()) {
    return Bad(n, "partial piece block counts disagree with its sizes");
  }
  if (pp.num_blocks() > (int64_t{1} << 20)) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("resume data: partial piece of %d blocks at byte %d",
                        pp.num_blocks(), n.offset()));
  }
  ASSIGN_OR_RETURN(std::string_view bits, n.GetString("bitfield"));
  ASSIGN_OR_RETURN(pp.blocks,
                   Bitfield::FromBytes(bits, static_cast<size_t>(blocks)));
  ASSIGN_OR_RETURN(int64_t endgame, GetIntIn(n, "endgame", 0, 1));
  ASSIGN_OR_RETURN(int64_t prio, GetIntIn(n, "priority", 0, 255));
  ASSIGN_OR_RETURN(int64_t slow, GetIntIn(n, "slow", 0, 1));
  pp.endgame = endgame;
  pp.priority = static_cast<int>(prio);
  pp.slow = slow;
  return pp;
}

absl::Status ParseData(const Node& d, const ResumeLimits& limits,
                       ResumeData* out) {
  if (!d.is_dict()) return Bad(d, "\"data\" is not a dict");
  ASSIGN_OR_RETURN(std::string_view ih, d.GetString("info-hash"));
  if (!Sha1Hash::FromSpan(AsBytes(ih), &out->info_hash)) {
    return Bad(d, "\"info-hash\" is not 20 bytes");
  }
  if (std::optional<Node> ih2 = d.Find("info-hash2")) {
    ASSIGN_OR_RETURN(std::string_view s, ih2->AsString());
    Sha256Hash h;
    if (!Sha256Hash::FromSpan(AsBytes(s), &h)) {
      return Bad(*ih2, "\"info-hash2\" is not 32 bytes");
    }
    out->info_hash_v2 = h;
  }
  ASSIGN_OR_RETURN(out->timestamp, GetIntIn(d, "timestamp", 0, INT64_MAX));
  if (std::optional<Node> sp = d.Find("save-path")) {
    ASSIGN_OR_RETURN(std::string_view path, sp->AsString());
    out->save_path = std::string(path);
  }
  for (auto [key, total] : {std::pair{"total-uploaded", &out->total_uploaded},
                            std::pair{"total-downloaded", &out->total_downloaded}}) {
    if (d.Find(key)) {
      ASSIGN_OR_RETURN(*total, GetIntIn(d, key, 0, INT64_MAX));
    }
  }
  ASSIGN_OR_RETURN(int64_t pieces, GetIntIn(d, "pieces", 0, limits.max_pieces));
  ASSIGN_OR_RETURN(std::string_view have, d.GetString("have"));
  ASSIGN_OR_RETURN(out->have,
                   Bitfield::FromBytes(have, static_cast<size_t>(pieces)));
  ASSIGN_OR_RETURN(Node files, d.GetList("files"));
  if (files.size() > limits.max_files) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "resume data: %d files exceed the limit of %d", files.size(),
        limits.max_files));
  }
  for (Node f : files.items()) {
    ASSIGN_OR_RETURN(FileRecord r, ParseRecord(f, true));
    out->files.push_back(r);
  }
  if (std::optional<Node> part = d.Find("part")) {
    ASSIGN_OR_RETURN(FileRecord r, ParseRecord(*part, false));
    out->part_file = r;
  }
  for (const char* key : {"peers", "peers6"}) {
    std::optional<Node> n = d.Find(key);
    if (!n) continue;
    ASSIGN_OR_RETURN(std::string_view s, n->AsString());
    bool v6 = key[5] == '6';
    size_t entry = v6 ? metainfo::kCompactPeer6Size : metainfo::kCompactPeer4Size;
    if (s.size() % entry != 0) {
      return Bad(
          *n, absl::StrFormat("\"%s\" is not a whole number of %d-byte peers",
                              key, entry));
    }
    // Peers are a hint: past the limit they are skipped, not refused.
    size_t room =
        limits.max_peers - std::min(limits.max_peers, out->peers.size());
    s = s.substr(0, std::min(s.size(), room * entry));
    absl::StatusOr<std::vector<Endpoint>> eps =
        v6 ? metainfo::ParseCompactPeers6(s) : metainfo::ParseCompactPeers4(s);
    if (!eps.ok()) return Bad(*n, std::string(eps.status().message()));
    out->peers.insert(out->peers.end(), eps->begin(), eps->end());
  }
  if (std::optional<Node> partial = d.Find("partial")) {
    ASSIGN_OR_RETURN(Node list, partial->AsList());
    if (list.size() > static_cast<size_t>(pieces)) {
      return Bad(list, "more partial pieces than pieces");
    }
    for (Node p : list.items()) {
      ASSIGN_OR_RETURN(PartialPiece pp,
                       ParsePartial(p, static_cast<uint32_t>(pieces)));
      out->partial.push_back(std::move(pp));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeResumeData(const ResumeData& data) {
  Value::Dict d;
  d["info-hash"] = data.info_hash.ToString();
  if (data.info_hash_v2) d["info-hash2"] = data.info_hash_v2->ToString();
  d["timestamp"] = data.timestamp;
  if (!data.save_path.empty()) d["save-path"] = data.save_path;
  d["pieces"] = static_cast<int64_t>(data.have.size());
  if (data.total_uploaded > 0) d["total-uploaded"] = data.total_uploaded;
  if (data.total_downloaded > 0) d["total-downloaded"] = data.total_downloaded;
  d["have"] = data.have.ToBytes();
  Value::List files;
  for (const FileRecord& f : data.files) files.push_back(RecordDict(f, true));
  d["files"] = std::move(files);
  if (data.part_file) d["part"] = RecordDict(*data.part_file, false);
  std::string peers, peers6;
  for (size_t i = 0; i < data.peers.size() && i < kMaxResumePeers; ++i) {
    const Endpoint& e = data.peers[i];
    metainfo::AppendCompactPeer(e, e.is_v4() ? &peers : &peers6);
  }
  if (!peers.empty()) d["peers"] = peers;
  if (!peers6.empty()) d["peers6"] = peers6;
  if (!data.partial.empty()) {
    Value::List list;
    for (const PartialPiece& p : data.partial) {
      Value::Dict pd;
      pd["index"] = static_cast<int64_t>(p.index);
      pd["piece size"] = p.piece_size;
      pd["blocks"] = p.num_blocks();
      pd["block size"] = p.block_size;
      pd["last block size"] = p.last_block_size();
      pd["bitfield"] = p.blocks.ToBytes();
      pd["endgame"] = p.endgame ? 1 : 0;
      pd["priority"] = p.priority;
      pd["slow"] = p.slow ? 1 : 0;
      list.push_back(std::move(pd));
    }
    d["partial"] = std::move(list);
  }
  std::string data_bytes = bencode::Encode(Value(std::move(d)));
  std::string out;
  bencode::Writer w(&out);
  w.BeginDict()
      .Key("checksum")
      .String(Sha1(AsBytes(data_bytes)).ToString())
      .Key("data")
      .Raw(data_bytes)
      .Key("format")
      .String(kResumeFormat)
      .Key("version")
      .Int(kResumeVersion)
      .End();
  return out;
}

absl::StatusOr<ResumeData> DecodeResumeData(std::string_view bytes,
                                            const ResumeLimits& limits) {
  if (bytes.size() > limits.max_file_size) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "resume data of %d bytes exceeds the limit of %d", bytes.size(),
        limits.max_file_size));
  }
  bencode::DecodeOptions opts;
  opts.max_input_size = limits.max_file_size;
  opts.max_depth = 8;
  ASSIGN_OR_RETURN(bencode::Document doc, bencode::Decode(bytes, opts));
  Node root = doc.root();
  if (!root.is_dict()) return Bad(root, "not a dict");
  ASSIGN_OR_RETURN(std::string_view format, root.GetString("format"));
  if (format != kResumeFormat) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "resume data: format tag \"%s\" is not \"%s\"", format, kResumeFormat));
  }
  ASSIGN_OR_RETURN(int64_t version, root.GetInt("version"));
  if (version > kResumeVersion || version < 1) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "resume data: version %d is not supported (this is version %d)",
        version, kResumeVersion));
  }
  ASSIGN_OR_RETURN(Node data, root.Get("data"));
  ASSIGN_OR_RETURN(std::string_view checksum, root.GetString("checksum"));
  if (checksum != Sha1(AsBytes(data.raw())).ToString()) {
    return absl::DataLossError(
        "resume data: checksum mismatch (the file is damaged or was edited)");
  }
  ResumeData out;
  RETURN_IF_ERROR(ParseData(data, limits, &out));
  return out;
}

absl::StatusOr<ResumeData> CaptureResumeData(
    const metainfo::TorrentInfo& torrent, PieceStorage& storage,
    const Bitfield& have, int64_t timestamp) {
  if (have.size() != torrent.num_pieces()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "have-bitfield of %d bits for %d pieces", have.size(),
        torrent.num_pieces()));
  }
  ResumeData rd;
  rd.info_hash = torrent.WireInfoHash();
  rd.info_hash_v2 = torrent.info_hash_v2();
  rd.timestamp = timestamp;
  rd.save_path = storage.save_path();
  rd.have = have;
  FileBackend* b = storage.backend();
  auto record = [&](const std::string& path) -> absl::StatusOr<FileRecord> {
    absl::StatusOr<FileStat> st = b->Stat(path);
    if (absl::IsNotFound(st.status())) return FileRecord{0, 0, 0};
    if (!st.ok()) return st.status();
    return FileRecord{st->size, st->mtime_ns, 0};
  };
  for (size_t i = 0; i < torrent.files().size(); ++i) {
    FileRecord r{0, 0, storage.file_priority(i)};
    const metainfo::FileEntry& f = torrent.files()[i];
    if (!f.pad() && f.size > 0) {
      ASSIGN_OR_RETURN(FileRecord now, record(storage.FilePath(i)));
      r.size = now.size;
      r.mtime_ns = now.mtime_ns;
    }
    rd.files.push_back(r);
  }
  ASSIGN_OR_RETURN(FileRecord part, record(storage.PartFilePath()));
  if (part.mtime_ns != 0 || part.size != 0) rd.part_file = part;
  return rd;
}

absl::Status SaveResumeData(FileBackend& backend, const std::string& path,
                            const ResumeData& data) {
  return backend.ReplaceFileAtomically(path, EncodeResumeData(data));
}

ResumeState RestoreResumeData(const metainfo::TorrentInfo& torrent,
                              PieceStorage& storage, std::string_view bytes,
                              const ResumeLimits& limits) {
  const metainfo::FileLayout& layout = torrent.layout();
  uint32_t n = layout.num_pieces();
  ResumeState st;
  st.have = Bitfield(n);
  st.recheck = Bitfield(n, true);
  auto discard = [&](absl::Status why) {
    st.problem = std::move(why);
    return st;
  };
  if (bytes.empty()) return discard(absl::NotFoundError("no resume data"));
  absl::StatusOr<ResumeData> rd = DecodeResumeData(bytes, limits);
  if (!rd.ok()) return discard(rd.status());
  if (rd->info_hash != torrent.WireInfoHash() ||
      rd->info_hash_v2 != torrent.info_hash_v2()) {
    return discard(absl::FailedPreconditionError(
        "resume data belongs to another torrent (info-hash mismatch)"));
  }
  st.total_uploaded = rd->total_uploaded;
  st.total_downloaded = rd->total_downloaded;
  if (rd->have.size() != n || rd->files.size() != layout.num_files()) {
    return discard(absl::InvalidArgumentError(absl::StrFormat(
        "resume data has %d pieces and %d files; the torrent has %d and %d",
        rd->have.size(), rd->files.size(), n, layout.num_files())));
  }
  for (const PartialPiece& p : rd->partial) {
    if (p.index >= n || p.piece_size != layout.PieceSize(p.index)) {
      return discard(absl::InvalidArgumentError(absl::StrFormat(
          "resume data: partial piece %d has size %d, the torrent says %d",
          p.index, p.piece_size, layout.PieceSize(p.index))));
    }
  }
  // The data is this torrent's: now judge each file.
  Bitfield invalid(n);
  std::vector<std::string> changed;
  auto same = [&](const std::string& path, const FileRecord& saved) {
    absl::StatusOr<FileStat> now = storage.backend()->Stat(path);
    if (!now.ok()) return saved.size == 0 && saved.mtime_ns == 0;
    return now->size == saved.size && now->mtime_ns == saved.mtime_ns;
  };
  auto invalidate_file = [&](size_t i) {
    metainfo::IndexRange r = layout.PiecesOfFile(i);
    for (size_t p = r.begin; p < r.end; ++p) invalid.Set(p);
  };
  bool part_ok = rd->part_file ? same(storage.PartFilePath(), *rd->part_file)
                               : same(storage.PartFilePath(), FileRecord{});
  for (size_t i = 0; i < layout.num_files(); ++i) {
    const metainfo::FileEntry& f = layout.file(i);
    if (f.pad() || f.size == 0) continue;
    const FileRecord& saved = rd->files[i];
    bool absent = saved.size == 0 && saved.mtime_ns == 0;
    bool ok = same(storage.FilePath(i), saved);
    // A skipped file that did not exist kept its bytes in the part file.
    if (ok && absent && saved.priority == 0) {
      ok = part_ok && rd->part_file.has_value();
    }
    // A wanted file that did not exist holds no piece.
    if (ok && absent && saved.priority > 0) ok = false;
    if (!ok) {
      invalidate_file(i);
      changed.push_back(f.PathString());
    }
  }
  st.timestamp = rd->timestamp;
  st.save_path = rd->save_path;
  st.peers = std::move(rd->peers);
  for (const FileRecord& f : rd->files) st.file_priorities.push_back(f.priority);
  st.have = rd->have;
  st.have.AndNot(invalid);
  // Re-check what was invalidated (whether or not it was had: pieces
  // completed after the save are found again this way).
  st.recheck = invalid;
  for (PartialPiece& p : rd->partial) {
    if (!invalid.Get(p.index) && !st.have.Get(p.index)) {
      st.partial.push_back(std::move(p));
    }
  }
  if (!changed.empty()) {
    std::string list;
    for (size_t i = 0; i < changed.size() && i < 5; ++i) {
      list += (i ? ", " : "") + changed[i];
    }
    if (changed.size() > 5) list += ", ...";
    st.problem = absl::FailedPreconditionError(absl::StrFormat(
        "%d file(s) changed since the resume data was saved: %s",
        changed.size(), list));
  }
  return st;
}

}  // namespace bt::storage
