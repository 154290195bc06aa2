// The torrent fuzz harness's world before the first step (the torrent's
// files, the client, what is on disk, how the torrent is added) and the
// operations on it as a whole: restarts and torrent controls.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/bytes.h"
#include "bencode/encoder.h"
#include "metainfo/magnet.h"
#include "storage/bitfield.h"
#include "storage/piece_storage.h"
#include "storage/resume_data.h"
#include "tests/fuzz/torrent_fuzz_harness.h"

namespace bt::client::torrent_fuzz {
namespace {

using client::testing::SimClient;
using metainfo::TorrentInfo;
using metainfo::testing::MemFile;
using metainfo::testing::Version;

// Content returns `n` pattern bytes of file `seed` (computed once).
std::string Content(size_t n, uint32_t seed) {
  static const std::string* const kPatterns[] = {
      new std::string(metainfo::testing::Pattern(256 * 1024, 1)),
      new std::string(metainfo::testing::Pattern(256 * 1024, 2))};
  return kPatterns[seed - 1]->substr(0, n);
}

// FilesOf lists the torrent's files (in file-tree order, as v2 and hybrid
// torrents need).
std::vector<MemFile> FilesOf(const SetupChoices& c) {
  std::vector<MemFile> files;
  if (!c.multi_file) {
    files.push_back({{"t"}, Content(c.first_file_size, 1), ""});
    return files;
  }
  files.push_back({{"a.bin"}, Content(c.first_file_size, 1), ""});
  files.push_back({{"d", "b.bin"}, Content(c.second_file_size, 2), ""});
  if (c.empty_file && c.empty_file_last) files.push_back({{"z.txt"}, "", ""});
  if (c.empty_file && !c.empty_file_last) {
    files.insert(files.begin() + 1, MemFile{{"c.txt"}, "", ""});
  }
  return files;
}

// SaveResumeWithCorruptPartials saves resume data saying the `good` pieces
// are had, and that the first block of each `corrupt` piece is on disk.
void SaveResumeWithCorruptPartials(const TorrentInfo& info,
                                   storage::PieceStorage& storage,
                                   const storage::Bitfield& good,
                                   const storage::Bitfield& corrupt,
                                   const Endpoint& peer,
                                   storage::MemoryFileBackend& disk) {
  absl::StatusOr<storage::ResumeData> rd =
      storage::CaptureResumeData(info, storage, good, 1);
  if (!rd.ok()) return;
  rd->peers.push_back(peer);
  for (uint32_t p = 0; p < info.num_pieces(); ++p) {
    if (!corrupt.Get(p)) continue;
    storage::PartialPiece pp;
    pp.index = p;
    pp.piece_size = info.layout().PieceSize(p);
    pp.blocks = storage::Bitfield(pp.num_blocks());
    pp.blocks.Set(0);
    rd->partial.push_back(std::move(pp));
  }
  (void)storage::SaveResumeData(disk, kResumePath, *rd);
}

}  // namespace

SetupChoices DecodeSetup(Reader& in) {
  const uint8_t s0 = in.Byte(), s1 = in.Byte(), s2 = in.Byte(), s3 = in.Byte();
  static constexpr Version kVersions[] = {Version::kV1, Version::kV2,
                                          Version::kHybrid, Version::kV1};
  SetupChoices c;
  c.version = kVersions[s0 & 3];
  c.mode = static_cast<StartMode>((s0 >> 2) & 3);
  c.multi_file = s0 & 0x10;
  c.empty_file = c.multi_file && (s0 & 0x20);
  c.pad_info = s0 & 0x40;
  c.small_limits = s0 & 0x80;
  c.first_file_size = 1 + (s1 & 0x1f) * 5000 + (s1 >> 5) * 331;
  c.second_file_size = 1 + (s2 & 0x0f) * 7000;
  c.empty_file_last = s2 & 0x10;
  c.piece_length = (s2 & 0x20) ? 32 * 1024 : 16 * 1024;
  c.encryption = s2 & 0x40;
  c.magnet_v2_only = s2 & 0x80;
  c.pieces_on_disk = s3 & 0x1f;
  c.magnet_adds_v2 = s3 & 1;
  c.all_events = s3 & 0x20;
  c.resume_path = s3 & 0x40;
  c.odd_pieces_corrupt = s3 & 0x80;
  c.resume_peer = s3;
  return c;
}

bool Harness::Setup(Reader& in) {
  const SetupChoices c = DecodeSetup(in);
  if (!MakeTorrent(c)) return false;
  options_ = OptionsFor(c);
  // Our own announcements (haves after a late metadata) may exceed the
  // bound by their size.
  send_bound_ = options_.session_limits.send_buffer_max +
                9 * size_t{full_->num_pieces()} + 64;
  events_wanted_ = c.all_events;
  StartClient();
  if (!WriteExistingData(c)) return false;
  if (!AddTorrent(c)) return false;
  sim_->RunPending();
  Sync();
  CheckInvariants();
  return true;
}

bool Harness::MakeTorrent(const SetupChoices& c) {
  const std::vector<MemFile> files = FilesOf(c);
  bencode::Value tv = metainfo::testing::MakeTorrent(
      "t", files, c.piece_length, c.version, /*single=*/!c.multi_file);
  if (c.pad_info) {
    tv.dict()["info"].dict()["x-fuzz-pad"] = std::string(20000, 'x');
  }
  absl::StatusOr<TorrentInfo> parsed = TorrentInfo::Parse(bencode::Encode(tv));
  if (!parsed.ok()) {
    if (verbose_) {
      std::fprintf(stderr, "Parse: %s\n", parsed.status().ToString().c_str());
    }
    return false;
  }
  full_ = std::make_shared<const TorrentInfo>(*std::move(parsed));
  space_ = metainfo::testing::PieceSpace(files, c.piece_length, c.version);
  space_.resize(full_->total_size(), '\0');
  return true;
}

ClientOptions Harness::OptionsFor(const SetupChoices& c) {
  ClientOptions options = SimClient::DefaultOptions();
  if (c.small_limits) {
    options.session_limits.send_high_water = 24 * 1024;
    options.session_limits.send_buffer_max = 64 * 1024;
    options.session_limits.max_queued_requests = 8;
    options.session_limits.max_queued_metadata_requests = 2;
    options.session_limits.max_outstanding_hash_requests = 2;
    options.session_limits.max_queued_hash_requests = 4;
    options.session_limits.max_unsolicited = 2;
    options.session_limits.max_pending_haves = 4;
    options.disk_queue_bytes = 32 * 1024;
    options.max_connections_per_torrent = 4;
    options.upload_slots = 2;
  }
  if (c.encryption) options.encryption = protocol::EncryptionPolicy::kEnabled;
  options.file_backend = &disk_;
  return options;
}

void Harness::StartClient() {
  sim_ = std::make_unique<SimClient>(options_);
  WatchEvents();
}

// WriteExistingData puts pieces on disk before the torrent is added: all of
// them for a seed, the chosen few (some corrupt) for a leecher; with
// resume data for kResume. False if there is no storage for them.
bool Harness::WriteExistingData(const SetupChoices& c) {
  storage::Bitfield good(full_->num_pieces());
  storage::Bitfield corrupt(full_->num_pieces());
  if (c.mode == StartMode::kSeed) good.SetAll();
  if (c.mode == StartMode::kLeecher || c.mode == StartMode::kResume) {
    for (uint32_t p = 0; p < full_->num_pieces() && p < 5; ++p) {
      if (!(c.pieces_on_disk & (1u << p))) continue;
      (c.odd_pieces_corrupt && (p & 1) ? corrupt : good).Set(p);
    }
  }
  if (good.Count() + corrupt.Count() == 0) return true;
  auto storage = storage::PieceStorage::Create(*full_, kSavePath, &disk_);
  if (!storage.ok()) return false;
  for (uint32_t p = 0; p < full_->num_pieces(); ++p) {
    if (!good.Get(p) && !corrupt.Get(p)) continue;
    std::string data = BlockBytes(p, 0, static_cast<uint32_t>(PieceSize(p)));
    if (corrupt.Get(p)) data[0] ^= 0x55;
    (void)(*storage)->WriteBlock(p, 0, AsBytes(data));
  }
  if (c.mode == StartMode::kResume) {
    SaveResumeWithCorruptPartials(*full_, **storage, good, corrupt,
                                  AddressOf(c.resume_peer), disk_);
  }
  return true;
}

TorrentParams Harness::ParamsOnDisk() {
  TorrentParams params;
  params.save_path = kSavePath;
  params.backend = &disk_;
  return params;
}

bool Harness::AddTorrent(const SetupChoices& c) {
  TorrentParams params = ParamsOnDisk();
  if (c.mode == StartMode::kMagnet) {
    metainfo::MagnetLink link;
    if (full_->has_v1() &&
        !(c.version == Version::kHybrid && c.magnet_v2_only)) {
      link.info_hash_v1 = full_->info_hash_v1();
    }
    if (full_->has_v2() && (!link.info_hash_v1 || c.magnet_adds_v2)) {
      link.info_hash_v2 = full_->info_hash_v2();
    }
    link.display_name = "t";
    params.magnet = metainfo::BuildMagnet(link);
  } else {
    params.info = full_;
  }
  if (c.mode == StartMode::kResume || c.resume_path) {
    params.resume_path = kResumePath;
  }
  absl::StatusOr<Torrent*> t = sim_->AddTorrent(std::move(params));
  if (!t.ok()) {
    if (verbose_) {
      std::fprintf(stderr, "AddTorrent: %s\n", t.status().ToString().c_str());
    }
    return false;
  }
  t_ = *t;
  return true;
}

void Harness::WatchEvents() {
  if (!events_wanted_) return;
  // Every event wanted (packet_*, file_*, ...): owned values only.
  sim_->on_event = [this](const Event& e) {
    Check(e.type != EventType::kPieceHashPass || e.index < full_->num_pieces(),
          "piece_hash_pass names a piece");
  };
}

void Harness::Restart(uint8_t arg) {
  // The client goes away (stopping the torrent, which saves resume data,
  // unless it is stopped already; disk work still queued is lost, as in a
  // crash, unless it ran first) and a new one adds the torrent again from
  // its metainfo and resume data.
  if (arg & 1) sim_->RunPending();
  if (arg & 2) (void)t_->Stop();
  slots_.clear();
  t_ = nullptr;
  sim_.reset();
  outgoing_seen_ = 0;
  connections_made_ = 0;
  StartClient();
  TorrentParams params = ParamsOnDisk();
  params.info = full_;
  params.resume_path = kResumePath;
  absl::StatusOr<Torrent*> t = sim_->AddTorrent(std::move(params));
  Check(t.ok(), "the torrent is added again");
  t_ = *t;
}

// FileOnDisk picks a file of the torrent on the in-memory disk (pads never
// exist); nullopt if there is none.
std::optional<std::string> Harness::FileOnDisk(uint8_t sel) const {
  std::vector<std::string> paths;
  for (const std::string& p : disk_.Paths()) {
    if (p.rfind(std::string(kSavePath) + "/", 0) == 0) paths.push_back(p);
  }
  if (paths.empty()) return std::nullopt;
  return paths[sel % paths.size()];
}

void Harness::TorrentControl(uint8_t arg) {
  switch (arg & 15) {
    case 0:
      (void)t_->Pause();
      break;
    case 1:
      (void)t_->Start();
      break;
    case 2:
      // Super-seeding (BEP 16) on or off; it acts once every piece is here.
      t_->SetSuperSeeding(arg & 0x10);
      break;
    case 3:
      (void)t_->Stop();
      break;
    case 4:
      (void)t_->SaveResumeData(kResumePath);
      break;
    case 5:
      t_->SetRateLimits((arg >> 4) * 4096, (arg >> 4) * 8192);
      break;
    case 6:
      t_->SetRateLimits(0, 0);
      break;
    case 7:
      t_->AddPeer(AddressOf(arg >> 4), PeerSet::Source::kPex);
      break;
    case 8:
      // The disk fills up: writes that grow files fail.
      disk_.set_capacity(disk_.TotalBytes() + (arg >> 4) * 4096);
      break;
    case 9:
      disk_.set_capacity(std::nullopt);
      break;
    case 10:
      if (std::optional<std::string> p = FileOnDisk(arg >> 4)) {
        disk_.DenyWrites(*p, !(arg & 0x80));
      }
      break;
    case 11:
      // The user removes or truncates a file underneath: what the torrent
      // has is no longer on disk until it checks again.
      if (std::optional<std::string> p = FileOnDisk(arg >> 4)) {
        if (arg & 0x80) {
          (void)disk_.Remove(*p);
        } else if (std::optional<std::string> data = disk_.Contents(*p)) {
          (void)disk_.Resize(*p, static_cast<int64_t>(data->size() / 2));
        }
        tampered_ = true;
      }
      break;
    case 12:
    case 13:
      if (t_->HashCheck().ok()) tampered_ = false;
      break;
    case 14:
      (void)t_->SetFilePriority(arg >> 4, 1);
      break;
    case 15:
      (void)t_->SetFilePriority(arg >> 4, 0);
      break;
  }
}

}  // namespace bt::client::torrent_fuzz
