#include "tests/client/session/session_harness.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bencode/encoder.h"
#include "gtest/gtest.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::client::session_testing {

using metainfo::TorrentInfo;

namespace {

constexpr uint32_t kContentSeed = 7;

std::shared_ptr<const TorrentInfo> ParseOrDie(const std::string& bytes) {
  absl::StatusOr<TorrentInfo> info = TorrentInfo::Parse(bytes);
  EXPECT_TRUE(info.ok()) << info.status();
  if (!info.ok()) return nullptr;
  return std::make_shared<const TorrentInfo>(*std::move(info));
}

}  // namespace

// --- torrents -------------------------------------------------------------

std::shared_ptr<const TorrentInfo> MakeInfo(const InfoSpec& spec) {
  using metainfo::testing::MemFile;
  using metainfo::testing::Version;
  bencode::Value t = metainfo::testing::MakeTorrent(
      "content.bin",
      {MemFile{{"content.bin"},
               metainfo::testing::Pattern(spec.total_size, kContentSeed), ""}},
      spec.piece_length, Version::kV1, /*single=*/true);
  if (spec.is_private) t.dict()["info"].dict()["private"] = 1;
  return ParseOrDie(bencode::Encode(t));
}

std::shared_ptr<const TorrentInfo> MakeSyntheticInfo(uint32_t num_pieces,
                                                     int64_t piece_length) {
  bencode::Value::Dict info;
  info["name"] = "synthetic.bin";
  info["length"] = piece_length * int64_t{num_pieces};
  info["piece length"] = piece_length;
  std::string pieces(size_t{num_pieces} * 20, '\0');
  for (size_t i = 0; i < pieces.size(); ++i) {
    pieces[i] = static_cast<char>(i * 131 + i / 20);
  }
  info["pieces"] = std::move(pieces);
  bencode::Value::Dict top;
  top["info"] = std::move(info);
  return ParseOrDie(bencode::Encode(bencode::Value(std::move(top))));
}

std::string Content(int64_t offset, size_t length) {
  // Pattern is a stream: the content is its first total_size bytes.
  std::string all =
      metainfo::testing::Pattern(static_cast<size_t>(offset) + length,
                                 kContentSeed);
  return all.substr(static_cast<size_t>(offset));
}

FakeTorrent::FakeTorrent(std::shared_ptr<const TorrentInfo> info)
    : info_(std::move(info)),
      info_hash_(info_->WireInfoHash()),
      known_(true),
      have_(info_->num_pieces()) {}

std::unique_ptr<FakeTorrent> FakeTorrent::Magnet(
    std::shared_ptr<const TorrentInfo> eventual) {
  std::unique_ptr<FakeTorrent> t(new FakeTorrent());
  t->info_hash_ = eventual->WireInfoHash();
  t->info_ = std::move(eventual);
  return t;
}

void FakeTorrent::LearnMetadata() {
  known_ = true;
  have_ = storage::Bitfield(info_->num_pieces());
}

// --- messages and events --------------------------------------------------

std::vector<std::string> Names(const std::vector<SentMessage>& messages) {
  std::vector<std::string> out;
  for (const SentMessage& m : messages) out.emplace_back(m.name());
  return out;
}

std::string EventName(const SessionEvent& event) {
  struct Namer {
    std::string operator()(const PeerHandshakeDone&) {
      return "PeerHandshakeDone";
    }
    std::string operator()(const PeerExtensionsArrived&) {
      return "PeerExtensionsArrived";
    }
    std::string operator()(const PeerHaveSetKnown&) {
      return "PeerHaveSetKnown";
    }
    std::string operator()(const PeerHaveArrived& e) {
      return absl::StrCat("PeerHaveArrived ", e.piece);
    }
    std::string operator()(const PeerChokeChanged& e) {
      return absl::StrCat("PeerChokeChanged ", e.choked);
    }
    std::string operator()(const AllowedFastArrived& e) {
      return absl::StrCat("AllowedFastArrived ", e.piece);
    }
    std::string operator()(const PeerInterestChanged& e) {
      return absl::StrCat("PeerInterestChanged ", e.interested);
    }
    std::string operator()(const BlockArrived& e) {
      return absl::StrCat("BlockArrived ", e.block.piece, ":", e.block.block,
                          e.in_flight ? "" : " late");
    }
    std::string operator()(const RequestsReturned& e) {
      std::string s = "RequestsReturned";
      for (const BlockRef& b : e.blocks) {
        absl::StrAppend(&s, " ", b.piece, ":", b.block);
      }
      return s;
    }
    std::string operator()(const MetadataSizeOffered& e) {
      return absl::StrCat("MetadataSizeOffered ", e.size);
    }
    std::string operator()(const MetadataPieceArrived& e) {
      return absl::StrCat("MetadataPieceArrived ", e.piece);
    }
    std::string operator()(const MetadataPieceRejected& e) {
      return absl::StrCat("MetadataPieceRejected ", e.piece);
    }
    std::string operator()(const HashRequestArrived& e) {
      return absl::StrCat("HashRequestArrived ", e.range.index);
    }
    std::string operator()(const HashesArrived& e) {
      return absl::StrCat("HashesArrived ", e.range.index);
    }
    std::string operator()(const HashRequestRejected& e) {
      return absl::StrCat("HashRequestRejected ", e.range.index);
    }
    std::string operator()(const PexPeersArrived& e) {
      return absl::StrCat("PexPeersArrived ", e.added.size());
    }
    std::string operator()(const DhtPortArrived& e) {
      return absl::StrCat("DhtPortArrived ", e.port);
    }
    std::string operator()(const Event& e) {
      return absl::StrCat(std::string(client::EventName(e.type)), " ", e.index);
    }
  };
  return std::visit(Namer{}, event);
}

std::vector<std::string> EventNames(const std::vector<SessionEvent>& events) {
  std::vector<std::string> out;
  for (const SessionEvent& e : events) out.push_back(EventName(e));
  return out;
}

// --- scripted peer --------------------------------------------------------

namespace {

protocol::ParserOptions SessionOutputParserOptions() {
  protocol::ParserOptions o;
  o.expect_handshake = true;
  o.max_message_length = 4 << 20;
  return o;
}

}  // namespace

ScriptedPeer::ScriptedPeer(PeerSession* session, const absl::Time* now)
    : id(TheirId()),
      session_(session),
      now_(now),
      parser_(SessionOutputParserOptions()) {
  reserved.Set(protocol::ReservedBit::kExtension)
      .Set(protocol::ReservedBit::kFast);
}

void ScriptedPeer::SendBytes(std::string_view bytes) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t n = bytes.size() - pos;
    if (split_ == Split::kBytes) {
      n = 1;
    } else if (split_ == Split::kRandom) {
      n = std::min<size_t>(n, std::uniform_int_distribution<size_t>(1, 64)(rng_));
    }
    // A fresh heap buffer per call, freed after it unless a view keeps it:
    // any other view kept past Receive is a use-after-free ASan reports.
    std::shared_ptr<char[]> buffer(new char[n]);
    std::copy_n(bytes.data() + pos, n, buffer.get());
    session_->Receive(absl::MakeSpan(buffer.get(), n), *now_,
                      keep_buffers_ ? buffer : nullptr);
    pos += n;
  }
}

std::string ScriptedPeer::HandshakeWire() const {
  protocol::Handshake hs;
  hs.reserved = reserved;
  hs.info_hash = info_hash;
  hs.peer_id = id;
  std::string out;
  protocol::AppendHandshake(hs, &out);
  return out;
}

void ScriptedPeer::SendHandshake() { SendBytes(HandshakeWire()); }

std::string ScriptedPeer::Wire(const protocol::Message& m) {
  std::string out;
  protocol::AppendMessage(m, &out);
  return out;
}

void ScriptedPeer::Send(const protocol::Message& m) { SendBytes(Wire(m)); }

protocol::ExtensionHandshake ScriptedPeer::Extensions() {
  protocol::ExtensionHandshake hs;
  hs.m["ut_metadata"] = 3;
  hs.m["ut_pex"] = 4;
  hs.reqq = 250;
  hs.v = "scripted";
  return hs;
}

void ScriptedPeer::SendExtensionHandshake(
    const protocol::ExtensionHandshake& hs) {
  std::string payload;
  protocol::AppendExtensionHandshake(hs, &payload);
  Send(protocol::Extended{0, payload});
}

uint8_t ScriptedPeer::SessionExtensionId(std::string_view name) const {
  EXPECT_TRUE(session_extensions_.has_value())
      << "the session's extension handshake was not read";
  return session_extensions_ ? session_extensions_->IdOf(name) : 0;
}

void ScriptedPeer::SendMetadataMessage(const protocol::MetadataMessage& m) {
  std::string payload;
  protocol::AppendMetadataMessage(m, &payload);
  Send(protocol::Extended{SessionExtensionId("ut_metadata"), payload});
}

void ScriptedPeer::SendPex(std::string_view payload) {
  Send(protocol::Extended{SessionExtensionId("ut_pex"), payload});
}

std::vector<SentMessage> ReadSent(
    protocol::MessageParser& parser, std::string_view sender,
    std::optional<protocol::ExtensionHandshake>* extensions) {
  std::vector<SentMessage> out;
  while (true) {
    absl::StatusOr<std::optional<protocol::Message>> m = parser.Next();
    EXPECT_TRUE(m.ok()) << sender << " sent a malformed stream: "
                        << m.status();
    if (!m.ok() || !*m) break;
    // Own the message: encode it again and parse the copy.
    auto wire = std::make_shared<std::string>();
    SentMessage sent;
    if (const auto* hs = std::get_if<protocol::Handshake>(&**m)) {
      protocol::AppendHandshake(*hs, wire.get());
      sent.message = *hs;
    } else {
      protocol::AppendMessage(**m, wire.get());
      protocol::ParserOptions o;
      o.max_message_length = 4 << 20;
      protocol::MessageParser copy(o);
      copy.Feed(*wire);
      absl::StatusOr<std::optional<protocol::Message>> again = copy.Next();
      EXPECT_TRUE(again.ok() && again->has_value());
      if (!again.ok() || !*again) break;
      sent.message = **again;
    }
    sent.wire = std::move(wire);
    if (const auto* x = sent.As<protocol::Extended>(); x && x->id == 0) {
      absl::StatusOr<protocol::ExtensionHandshake> hs =
          protocol::ParseExtensionHandshake(x->payload);
      EXPECT_TRUE(hs.ok()) << hs.status();
      if (hs.ok()) *extensions = *std::move(hs);
    }
    out.push_back(std::move(sent));
  }
  return out;
}

std::vector<SentMessage> ScriptedPeer::Read() {
  // What the session sends, bytes and file chunks in their order (a file
  // chunk's bytes read here as sendfile would send them).
  std::string bytes;
  while (true) {
    const std::string_view out = session_->PendingOutput();
    if (!out.empty()) {
      bytes.append(out);
      session_->ConsumeOutput(out.size(), *now_);
      continue;
    }
    const PeerSession::FileChunk* f = session_->PendingFile();
    if (!f) break;
    std::string chunk(static_cast<size_t>(f->length), '\0');
    const ssize_t n = pread(f->file->fd(), chunk.data(), chunk.size(), f->offset);
    EXPECT_EQ(n, f->length) << "a file chunk the file does not hold";
    if (n <= 0) break;
    chunk.resize(static_cast<size_t>(n));
    bytes.append(chunk);
    session_->ConsumeFile(chunk.size(), *now_);
  }
  parser_.Feed(bytes);
  return ReadSent(parser_, "the session", &session_extensions_);
}

// --- rig ------------------------------------------------------------------

PeerId OurId() {
  PeerId id;
  std::string_view s = "-BK0001-ourselves000";
  std::copy(s.begin(), s.end(), id.data());
  return id;
}

PeerId TheirId() {
  PeerId id;
  std::string_view s = "-XX0001-scriptedpeer";
  std::copy(s.begin(), s.end(), id.data());
  return id;
}

Endpoint PeerAddress() { return Endpoint::V4({10, 1, 2, 3}, 51413); }

PeerSessionOptions DefaultOptions() {
  PeerSessionOptions o;
  o.address = PeerAddress();
  o.peer_id = OurId();
  o.listen_port = 6881;
  o.encrypt = false;
  return o;
}

Rig::Rig(std::shared_ptr<const TorrentInfo> info, PeerSessionOptions opts)
    : Rig(std::make_unique<FakeTorrent>(std::move(info)), std::move(opts)) {}

Rig::Rig(std::unique_ptr<FakeTorrent> t, PeerSessionOptions opts)
    : torrent(std::move(t)), options(std::move(opts)), peer(nullptr, &now) {
  if (options.incoming && !options.find_torrent) {
    FakeTorrent* mine = torrent.get();
    options.find_torrent = [mine](const Sha1Hash& ih) -> SessionTorrent* {
      return ih == mine->info_hash() ? mine : nullptr;
    };
  }
  session = std::make_unique<PeerSession>(options, torrent.get(), now);
  peer.set_session(session.get());
  peer.info_hash = torrent->info_hash();
}

void Rig::Start() { session->Start(now); }

std::vector<SentMessage> Rig::Connect(bool extensions) {
  Start();
  peer.SendHandshake();
  if (extensions) peer.SendExtensionHandshake(ScriptedPeer::Extensions());
  return peer.Read();
}

void Rig::Advance(absl::Duration d) {
  now += d;
  session->Tick(now);
}

void Pump(PeerSession& a, PeerSession& b, absl::Time now, size_t chunk,
          int rounds) {
  for (int i = 0; i < rounds; ++i) {
    bool moved = false;
    for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      if (from->closed() || to->closed()) return;
      std::string bytes(from->PendingOutput());
      if (bytes.empty()) continue;
      from->ConsumeOutput(bytes.size(), now);
      moved = true;
      for (size_t pos = 0; pos < bytes.size(); pos += chunk) {
        std::string piece = bytes.substr(pos, chunk);
        to->Receive(absl::MakeSpan(piece.data(), piece.size()), now);
      }
    }
    if (!moved) return;
  }
}

}  // namespace bt::client::session_testing
