// Parses the same metainfo inputs with btkit and with libtorrent in one run
// and prints a table of CPU time per parse and the ratio:
//   - .torrent files of 1, 1000 and 50000 files, each v1, v2 and hybrid
//     (v2 and hybrid with real piece layers): TorrentInfo::Parse against
//     lt::torrent_info(span, ec, from_span). btkit hashes every piece layer
//     up to its file's pieces root here; libtorrent only checks the layers'
//     lengths (it verifies them when the torrent is added to a session), so
//     the v2 rows carry work libtorrent leaves for later;
//   - the same torrents' bare info dictionaries (BEP 9 metadata, no piece
//     layers, so the same work on both sides): TorrentInfo::ParseInfoDict
//     against lt::bdecode + torrent_info::parse_info_section;
//   - magnet URIs (btih, btmh, hybrid, with trackers, x.pe peers, and a
//     BEP 53 so= list): ParseMagnet against lt::parse_magnet_uri;
//   - compact peer lists (IPv4 and IPv6, 50 and 1000 peers): btkit's
//     parser against a memcpy of the input (libtorrent's equivalent is not
//     public API), the floor any parser has to pay.
//
//   bazel run //benchmarks/metainfo:parse_benchmark -- --benchmark_min_time=0.2
//
// The torrents are generated at start-up with TorrentBuilder from
// synthetic contents (a few seconds of hashing); both parsers must accept
// each input and agree on its info-hashes before anything is timed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "benchmarks/common/ratio_reporter.h"
#include "libtorrent/add_torrent_params.hpp"
#include "libtorrent/bdecode.hpp"
#include "libtorrent/error_code.hpp"
#include "libtorrent/magnet_uri.hpp"
#include "libtorrent/torrent_info.hpp"
#include "metainfo/compact.h"
#include "metainfo/magnet.h"
#include "metainfo/torrent_creator.h"
#include "metainfo/torrent_info.h"

namespace {

using bt::metainfo::TorrentVersion;

constexpr int64_t kPieceLength = 16 * 1024;  // the smallest v2 allows
constexpr int kMaxPieces = 1 << 22;           // btkit's ParseOptions default

struct Input {
  std::string name;
  std::string bytes;
};

// Synthetic file sizes: `count` files, where for many files most are
// smaller than a piece (no piece layer) and every 25th spans three pieces
// (a layer of three hashes); a single file spans 1024 pieces.
std::vector<bt::metainfo::InputFile> MakeFiles(int count) {
  std::vector<bt::metainfo::InputFile> files;
  if (count == 1) {
    files.push_back({.path = {"payload.bin"}, .size = 1024 * kPieceLength});
    return files;
  }
  for (int i = 0; i < count; ++i) {
    int64_t size = count <= 1000 ? 2 * kPieceLength + (i * 7919) % kPieceLength
                   : i % 25 == 0 ? 2 * kPieceLength + 1 + i % 1000
                                 : 100 + (i * 7919) % 3000;
    files.push_back({.path = {absl::StrCat("d", i / 1000),
                              absl::StrCat("f", i, ".dat")},
                     .size = size});
  }
  return files;
}

std::string MakeTorrent(int count, TorrentVersion version) {
  bt::metainfo::CreateOptions options;
  options.version = version;
  options.piece_length = kPieceLength;
  options.trackers = {{"http://tracker.example/announce"},
                      {"udp://tracker.example:6969/announce"}};
  options.threads = 2;
  auto builder = bt::metainfo::TorrentBuilder::Create(
      "bench", MakeFiles(count), /*single_file=*/count == 1, options);
  if (!builder.ok()) {
    std::fprintf(stderr, "TorrentBuilder::Create: %s\n",
                 builder.status().ToString().c_str());
    std::exit(1);
  }
  // Contents: a byte derived from file and offset; the hash work is the
  // same whatever the bytes are.
  absl::Status hashed = builder->HashAll(
      [](size_t file, int64_t offset, bt::MutableByteSpan out) {
        std::memset(out.data(), static_cast<int>(file * 31 + offset / 4096),
                    out.size());
        return absl::OkStatus();
      });
  if (!hashed.ok()) {
    std::fprintf(stderr, "HashAll: %s\n", hashed.ToString().c_str());
    std::exit(1);
  }
  return builder->Encode();
}

// Checks both parsers accept `bytes` and agree on its info-hashes, so the
// timed loops compare the same work on a valid input.
bool Agree(const Input& in) {
  auto ours = bt::metainfo::TorrentInfo::Parse(in.bytes);
  lt::error_code ec;
  lt::torrent_info theirs(lt::span<char const>(in.bytes.data(),
                                               in.bytes.size()),
                          ec, lt::from_span);
  if (!ours.ok() || ec) {
    std::fprintf(stderr, "%s (%zu bytes): btkit %s, libtorrent %s\n",
                 in.name.c_str(), in.bytes.size(),
                 ours.status().ToString().c_str(), ec.message().c_str());
    return false;
  }
  const lt::info_hash_t& ih = theirs.info_hashes();
  bool same = true;
  if (ours->has_v1()) {
    same &= ih.has_v1() && ours->info_hash_v1()->ToString() == ih.v1.to_string();
  }
  if (ours->has_v2()) {
    same &= ih.has_v2() && ours->info_hash_v2()->ToString() == ih.v2.to_string();
    same &= ours->has_piece_layers();
  }
  same &= ours->num_pieces() == static_cast<uint32_t>(theirs.num_pieces());
  if (!same) std::fprintf(stderr, "%s: the parsers disagree\n", in.name.c_str());
  return same;
}

void BtkitTorrent(benchmark::State& state, const Input* in) {
  for (auto _ : state) {
    auto t = bt::metainfo::TorrentInfo::Parse(in->bytes);
    if (!t.ok()) {
      state.SkipWithError("btkit rejected the torrent");
      return;
    }
    benchmark::DoNotOptimize(t);
  }
  state.SetBytesProcessed(state.iterations() * in->bytes.size());
}

void LibtorrentTorrent(benchmark::State& state, const Input* in) {
  for (auto _ : state) {
    lt::error_code ec;
    lt::torrent_info t(lt::span<char const>(in->bytes.data(), in->bytes.size()),
                       ec, lt::from_span);
    if (ec) {
      state.SkipWithError("libtorrent rejected the torrent");
      return;
    }
    benchmark::DoNotOptimize(t);
  }
  state.SetBytesProcessed(state.iterations() * in->bytes.size());
}

void BtkitInfoDict(benchmark::State& state, const Input* in) {
  for (auto _ : state) {
    auto t = bt::metainfo::TorrentInfo::ParseInfoDict(in->bytes);
    if (!t.ok()) {
      state.SkipWithError("btkit rejected the info dictionary");
      return;
    }
    benchmark::DoNotOptimize(t);
  }
  state.SetBytesProcessed(state.iterations() * in->bytes.size());
}

void LibtorrentInfoDict(benchmark::State& state, const Input* in) {
  for (auto _ : state) {
    lt::error_code ec;
    lt::bdecode_node node = lt::bdecode(
        lt::span<char const>(in->bytes.data(), in->bytes.size()), ec);
    lt::torrent_info t{lt::info_hash_t()};
    if (ec || !t.parse_info_section(node, ec, kMaxPieces)) {
      state.SkipWithError("libtorrent rejected the info dictionary");
      return;
    }
    benchmark::DoNotOptimize(t);
  }
  state.SetBytesProcessed(state.iterations() * in->bytes.size());
}

std::vector<Input> MakeMagnets() {
  const std::string v1 = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
  const std::string v2 =
      "1220caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e";
  const std::string rest =
      "&dn=Some+Linux+distribution+dvd.iso"
      "&tr=http%3A%2F%2Ftracker.example.org%3A6969%2Fannounce"
      "&tr=udp%3A%2F%2Ftracker.example.net%3A1337%2Fannounce"
      "&tr=https%3A%2F%2Ftracker.example.com%2Fannounce"
      "&x.pe=192.0.2.10:6881&x.pe=198.51.100.7:51413"
      "&x.pe=[2001:db8::1]:6881";
  return {
      {"btih", "magnet:?xt=urn:btih:" + v1 + rest},
      {"btmh", "magnet:?xt=urn:btmh:" + v2 + rest},
      {"hybrid", "magnet:?xt=urn:btih:" + v1 + "&xt=urn:btmh:" + v2 + rest},
      {"btih-so", "magnet:?xt=urn:btih:" + v1 + rest + "&so=0,2,4-6,10-20,33"},
  };
}

void BtkitMagnet(benchmark::State& state, const Input* in) {
  for (auto _ : state) {
    auto m = bt::metainfo::ParseMagnet(in->bytes);
    if (!m.ok()) {
      state.SkipWithError("btkit rejected the magnet");
      return;
    }
    benchmark::DoNotOptimize(m);
  }
}

void LibtorrentMagnet(benchmark::State& state, const Input* in) {
  for (auto _ : state) {
    lt::error_code ec;
    lt::add_torrent_params p = lt::parse_magnet_uri(in->bytes, ec);
    if (ec) {
      state.SkipWithError("libtorrent rejected the magnet");
      return;
    }
    benchmark::DoNotOptimize(p);
  }
}

// Checks both magnet parsers see the same hashes, trackers and peers.
bool AgreeMagnet(const Input& in) {
  auto ours = bt::metainfo::ParseMagnet(in.bytes);
  lt::error_code ec;
  lt::add_torrent_params theirs = lt::parse_magnet_uri(in.bytes, ec);
  if (!ours.ok() || ec) {
    std::fprintf(stderr, "magnet %s: btkit %s, libtorrent %s\n",
                 in.name.c_str(), ours.status().ToString().c_str(),
                 ec.message().c_str());
    return false;
  }
  bool same = ours->trackers.size() == theirs.trackers.size() &&
              ours->peers.size() == theirs.peers.size() &&
              ours->info_hash_v1.has_value() == theirs.info_hashes.has_v1() &&
              ours->info_hash_v2.has_value() == theirs.info_hashes.has_v2() &&
              ours->select_only.empty() == theirs.file_priorities.empty();
  if (!same) std::fprintf(stderr, "magnet %s: parsers disagree\n", in.name.c_str());
  return same;
}

std::vector<Input> MakePeerLists() {
  std::vector<Input> lists;
  for (int n : {50, 1000}) {
    for (size_t stride : {bt::metainfo::kCompactPeer4Size,
                          bt::metainfo::kCompactPeer6Size}) {
      std::string bytes(n * stride, '\0');
      for (size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = static_cast<char>(i * 131 + 7);
      }
      lists.push_back(
          {absl::StrCat(stride == 6 ? "ipv4-" : "ipv6-", n), std::move(bytes)});
    }
  }
  return lists;
}

void BtkitPeers(benchmark::State& state, const Input* in) {
  const bool v4 = in->name.rfind("ipv4", 0) == 0;
  for (auto _ : state) {
    auto peers = v4 ? bt::metainfo::ParseCompactPeers4(in->bytes)
                    : bt::metainfo::ParseCompactPeers6(in->bytes);
    if (!peers.ok()) {
      state.SkipWithError("btkit rejected the peer list");
      return;
    }
    benchmark::DoNotOptimize(peers);
  }
}

// The floor: copying the input into a buffer of the same size.
void MemcpyFloor(benchmark::State& state, const Input* in) {
  std::string copy(in->bytes.size(), '\0');
  for (auto _ : state) {
    std::memcpy(copy.data(), in->bytes.data(), in->bytes.size());
    benchmark::DoNotOptimize(copy.data());
    benchmark::ClobberMemory();
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::vector<Input> torrents;
  for (int count : {1, 1000, 50000}) {
    for (TorrentVersion v :
         {TorrentVersion::kV1, TorrentVersion::kV2, TorrentVersion::kHybrid}) {
      std::string name = absl::StrCat(bt::metainfo::TorrentVersionName(v), "-",
                                      count == 1000    ? "1k"
                                      : count == 50000 ? "50k"
                                                       : "1",
                                      "files");
      torrents.push_back({name, MakeTorrent(count, v)});
      std::printf("%-16s %9zu bytes\n", name.c_str(),
                  torrents.back().bytes.size());
    }
  }
  std::vector<Input> info_dicts;
  for (const Input& in : torrents) {
    auto t = bt::metainfo::TorrentInfo::Parse(in.bytes);
    if (t.ok()) info_dicts.push_back({in.name, t->info_bytes()});
  }
  const std::vector<Input> magnets = MakeMagnets();
  const std::vector<Input> peer_lists = MakePeerLists();
  bool ok = true;
  for (const Input& in : torrents) ok &= Agree(in);
  for (const Input& in : magnets) ok &= AgreeMagnet(in);
  if (!ok) return 1;

  for (const Input& in : torrents) {
    benchmark::RegisterBenchmark(("torrent/btkit/" + in.name).c_str(),
                                 BtkitTorrent, &in);
    benchmark::RegisterBenchmark(("torrent/libtorrent/" + in.name).c_str(),
                                 LibtorrentTorrent, &in);
  }
  for (const Input& in : info_dicts) {
    benchmark::RegisterBenchmark(("info/btkit/" + in.name).c_str(),
                                 BtkitInfoDict, &in);
    benchmark::RegisterBenchmark(("info/libtorrent/" + in.name).c_str(),
                                 LibtorrentInfoDict, &in);
  }
  for (const Input& in : magnets) {
    benchmark::RegisterBenchmark(("magnet/btkit/" + in.name).c_str(),
                                 BtkitMagnet, &in);
    benchmark::RegisterBenchmark(("magnet/libtorrent/" + in.name).c_str(),
                                 LibtorrentMagnet, &in);
  }
  for (const Input& in : peer_lists) {
    benchmark::RegisterBenchmark(("compact/btkit/" + in.name).c_str(),
                                 BtkitPeers, &in);
    benchmark::RegisterBenchmark(("compact/memcpy/" + in.name).c_str(),
                                 MemcpyFloor, &in);
  }
  bt::benchmarks::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintTable();
  return 0;
}
