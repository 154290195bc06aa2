#include "tests/client/testing/remote_peer.h"

#include <algorithm>
#include <utility>

#include "bencode/encoder.h"
#include "gtest/gtest.h"
#include "metainfo/magnet.h"

namespace bt::client::testing {

using metainfo::TorrentInfo;
using session_testing::ReadSent;
using session_testing::ScriptedPeer;

Endpoint Addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  return Endpoint::V4({a, b, c, d}, port);
}

PeerId PeerIdOf(int n) {
  PeerId id;
  const std::string s = "-RP0001-" +
                        std::string(12 - std::to_string(n).size(), '0') +
                        std::to_string(n);
  std::copy(s.begin(), s.end(), id.data());
  return id;
}

// --- torrents -------------------------------------------------------------

TorrentParams TestTorrent::Params() const {
  TorrentParams p;
  p.info = info;
  p.save_path = "/dl";
  return p;
}

std::string TestTorrent::Magnet() const {
  metainfo::MagnetLink link;
  link.info_hash_v1 = info->info_hash_v1();
  link.info_hash_v2 = info->info_hash_v2();
  return metainfo::BuildMagnet(link);
}

void TestTorrent::PutOnDisk(storage::MemoryFileBackend& disk) const {
  for (const metainfo::FileEntry& f : info->files()) {
    if (f.pad() || f.symlink()) continue;
    disk.SetContents("/dl/" + f.PathString(),
                     content.substr(static_cast<size_t>(f.offset),
                                    static_cast<size_t>(f.size)));
  }
}

std::string TestTorrent::Block(uint32_t piece, uint32_t begin,
                               uint32_t length) const {
  const size_t at = static_cast<size_t>(piece) * info->piece_length() + begin;
  if (at >= content.size()) return "";
  return content.substr(at, length);
}

TestTorrent MakeTestTorrent(
    const std::vector<metainfo::testing::MemFile>& files, int64_t piece_length,
    metainfo::testing::Version version, const std::string& name) {
  const bool single = files.size() == 1 && files[0].path.size() == 1 &&
                      files[0].path[0] == name;
  const std::string bytes = bencode::Encode(metainfo::testing::MakeTorrent(
      name, files, piece_length, version, single));
  absl::StatusOr<TorrentInfo> info = TorrentInfo::Parse(bytes);
  EXPECT_TRUE(info.ok()) << info.status();
  TestTorrent t;
  if (!info.ok()) return t;
  t.info = std::make_shared<const TorrentInfo>(*std::move(info));
  t.content = metainfo::testing::PieceSpace(files, piece_length, version);
  return t;
}

TestTorrent MakeSingleFile(int64_t size, int64_t piece_length) {
  return MakeTestTorrent(
      {{{"single.bin"}, metainfo::testing::Pattern(size, 7), ""}}, piece_length,
      metainfo::testing::Version::kV1, "single.bin");
}

// --- the peer ---------------------------------------------------------------

namespace {

protocol::ParserOptions OurStreamParserOptions() {
  protocol::ParserOptions o;
  o.expect_handshake = true;
  o.max_message_length = 4 << 20;
  return o;
}

}  // namespace

RemotePeer::RemotePeer(SimClient& sim, SimPeer* transport,
                       const Sha1Hash& info_hash, PeerId id)
    : extensions(ScriptedPeer::Extensions()),
      sim_(&sim),
      transport_(transport),
      info_hash_(info_hash),
      id_(id),
      parser_(
          std::make_unique<protocol::MessageParser>(OurStreamParserOptions())) {
  reserved.Set(protocol::ReservedBit::kExtension)
      .Set(protocol::ReservedBit::kFast);
}

RemotePeer RemotePeer::ConnectIn(SimClient& sim, const Torrent& torrent,
                                 const Endpoint& from, bool with_extensions,
                                 PeerId id) {
  RemotePeer peer(sim, sim.Incoming(from), torrent.info_hash(), id);
  peer.SendHandshake();
  if (with_extensions) peer.SendExtensionHandshake();
  return peer;
}

void RemotePeer::Accept(bool with_extensions) {
  transport_->CompleteConnect();
  sim_->RunPending();
  SendHandshake();
  if (with_extensions) SendExtensionHandshake();
}

void RemotePeer::SendBytes(std::string_view bytes) {
  transport_->Deliver(bytes);
  sim_->RunPending();
}

void RemotePeer::SendHandshake() {
  protocol::Handshake hs;
  hs.reserved = reserved;
  hs.info_hash = info_hash_;
  hs.peer_id = id_;
  std::string out;
  protocol::AppendHandshake(hs, &out);
  SendBytes(out);
}

void RemotePeer::SendExtensionHandshake() {
  std::string payload;
  protocol::AppendExtensionHandshake(extensions, &payload);
  Send(protocol::Extended{0, payload});
}

void RemotePeer::Send(const protocol::Message& m) {
  SendBytes(ScriptedPeer::Wire(m));
}

void RemotePeer::SendMetadata(const protocol::MetadataMessage& m) {
  EXPECT_TRUE(ours_.has_value()) << "our extension handshake was not read";
  const uint8_t id = ours_ ? ours_->IdOf("ut_metadata") : 0;
  std::string payload;
  protocol::AppendMetadataMessage(m, &payload);
  Send(protocol::Extended{id, payload});
}

std::vector<SentMessage> RemotePeer::Read() {
  const std::string bytes = transport_->TakeWritten();
  parser_->Feed(bytes);
  std::vector<SentMessage> out = ReadSent(*parser_, "our client", &ours_);
  all_.insert(all_.end(), out.begin(), out.end());
  return out;
}

int RemotePeer::Serve(const std::vector<SentMessage>& messages,
                      const TestTorrent& torrent) {
  std::string out;
  int served = 0;
  for (const SentMessage& m : messages) {
    const auto* r = m.As<protocol::Request>();
    if (!r) continue;
    const std::string block = torrent.Block(r->piece, r->begin, r->length);
    protocol::AppendMessage(protocol::Piece{r->piece, r->begin, block}, &out);
    ++served;
  }
  if (!out.empty()) SendBytes(out);
  return served;
}

std::vector<uint32_t> RemotePeer::MetadataRequests(
    const std::vector<SentMessage>& messages) const {
  std::vector<uint32_t> out;
  const uint8_t id = extensions.IdOf("ut_metadata");
  for (const SentMessage& m : messages) {
    const auto* x = m.As<protocol::Extended>();
    if (!x || x->id == 0 || x->id != id) continue;
    absl::StatusOr<protocol::MetadataMessage> mm =
        protocol::ParseMetadataMessage(x->payload);
    EXPECT_TRUE(mm.ok()) << mm.status();
    if (mm.ok() && mm->type == protocol::MetadataMessageType::kRequest) {
      out.push_back(mm->piece);
    }
  }
  return out;
}

int RemotePeer::ServeMetadata(const std::vector<SentMessage>& messages,
                              const std::string& info, uint64_t total_size) {
  int served = 0;
  for (uint32_t piece : MetadataRequests(messages)) {
    protocol::MetadataMessage m;
    const size_t at = size_t{piece} * protocol::kMetadataPieceSize;
    if (at >= info.size()) {
      m.type = protocol::MetadataMessageType::kReject;
      m.piece = piece;
    } else {
      m.type = protocol::MetadataMessageType::kData;
      m.piece = piece;
      m.total_size = total_size ? total_size : info.size();
      m.data = std::string_view(info).substr(at, protocol::kMetadataPieceSize);
    }
    SendMetadata(m);
    ++served;
  }
  return served;
}

int RemotePeer::ServeUntilQuiet(const TestTorrent& torrent, int rounds) {
  int served = 0;
  for (int i = 0; i < rounds && !closed(); ++i) {
    const int n = Serve(Read(), torrent);
    if (n == 0) break;
    served += n;
  }
  return served;
}

}  // namespace bt::client::testing
