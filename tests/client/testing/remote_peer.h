// RemotePeer: the far side of one SimClient connection, scripted by a test:
// it sends peer-wire messages (built with session_testing::ScriptedPeer's
// encoders) into the connection's SimPeer, runs the SimClient's pending
// work, and parses what our client sent back. Plus torrent builders whose
// content is known, so a peer can serve real blocks.
//
//   SimClient sim;
//   TestTorrent t = MakeTestTorrent({{{"a.bin"}, Pattern(100000, 1), ""}});
//   Torrent* torrent = *sim.AddTorrent(t.Params());
//   RemotePeer seed = RemotePeer::ConnectIn(sim, *torrent, Addr(10, 0, 0, 1));
//   seed.Send(protocol::HaveAll{});
//   seed.Send(protocol::Unchoke{});
//   seed.ServeUntilQuiet(t);                  // answers every request
//   EXPECT_TRUE(torrent->complete());
//
// Nothing here sleeps or reads a clock.
#ifndef TESTS_CLIENT_TESTING_REMOTE_PEER_H_
#define TESTS_CLIENT_TESTING_REMOTE_PEER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/endpoint.h"
#include "base/hash.h"
#include "client/torrent.h"
#include "metainfo/torrent_info.h"
#include "protocol/extension_handshake.h"
#include "protocol/handshake.h"
#include "protocol/message.h"
#include "protocol/message_parser.h"
#include "protocol/ut_metadata.h"
#include "storage/memory_file_backend.h"
#include "tests/client/session/session_harness.h"
#include "tests/client/testing/sim_client.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::client::testing {

using session_testing::SentMessage;

// Addr is an IPv4 endpoint.
Endpoint Addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port = 6881);
// PeerIdOf makes a distinct peer id from `n`.
PeerId PeerIdOf(int n);

// TestTorrent is a torrent and its piece space (what an honest seed
// serves).
struct TestTorrent {
  std::shared_ptr<const metainfo::TorrentInfo> info;
  std::string content;  // the piece space (pad files as zeros)
  // Params: a torrent of this info saved under "/dl".
  TorrentParams Params() const;
  // Magnet is a magnet URI naming this torrent's info-hash(es).
  std::string Magnet() const;
  // PutOnDisk writes every file's data under "/dl" on `disk` (a seed's
  // copy).
  void PutOnDisk(storage::MemoryFileBackend& disk) const;
  // Block is the content of a block (a short last block is short).
  std::string Block(uint32_t piece, uint32_t begin, uint32_t length) const;
};

// MakeTestTorrent builds a torrent of `files` (v1 unless told); one file
// whose path is its name makes a single-file torrent.
TestTorrent MakeTestTorrent(
    const std::vector<metainfo::testing::MemFile>& files,
    int64_t piece_length = 32 * 1024,
    metainfo::testing::Version version = metainfo::testing::Version::kV1,
    const std::string& name = "t");
// MakeSingleFile: a single-file v1 torrent of `size` pattern bytes.
TestTorrent MakeSingleFile(int64_t size, int64_t piece_length = 32 * 1024);

class RemotePeer {
 public:
  // ConnectIn opens an incoming connection from `from` and sends a
  // handshake for `torrent` (reserved: extension + fast) and, if
  // `extensions`, an extension handshake (ut_metadata 3, ut_pex 4, reqq
  // 250). Our client's answer is left for Read().
  static RemotePeer ConnectIn(SimClient& sim, const Torrent& torrent,
                              const Endpoint& from, bool extensions = true,
                              PeerId id = PeerIdOf(1));
  // ForOutgoing wraps a connection our client dialled (sim.outgoing()[i]);
  // nothing is sent until Accept.
  RemotePeer(SimClient& sim, SimPeer* transport, const Sha1Hash& info_hash,
             PeerId id = PeerIdOf(1));
  // Accept completes an outgoing connect and sends the handshake (and the
  // extension handshake, if `extensions`); our client's output is left for
  // Read().
  void Accept(bool extensions = true);

  protocol::ReservedBits reserved;          // default: extension + fast
  protocol::ExtensionHandshake extensions;  // sent by SendExtensionHandshake

  SimPeer* transport() const { return transport_; }
  // closed: our side closed the connection.
  bool closed() const { return transport_->closed(); }

  // Sending; each runs the SimClient's pending work afterwards.
  void SendBytes(std::string_view bytes);
  void SendHandshake();
  void SendExtensionHandshake();
  void Send(const protocol::Message& m);
  // SendMetadata sends a ut_metadata message with the id our client
  // announced (its extension handshake must have been read).
  void SendMetadata(const protocol::MetadataMessage& m);

  // Read parses what our client sent since the last Read (consuming it,
  // as a peer that reads its socket) and adds it to all_read(). Fails the
  // test on a malformed stream.
  std::vector<SentMessage> Read();
  const std::vector<SentMessage>& all_read() const { return all_; }
  // ours: our client's extension handshake, once read.
  const std::optional<protocol::ExtensionHandshake>& ours() const {
    return ours_;
  }
  // Serve answers every request in `messages` with the block from
  // `torrent`'s content, in one delivery; returns how many.
  int Serve(const std::vector<SentMessage>& messages,
            const TestTorrent& torrent);
  // MetadataRequests lists the ut_metadata pieces our client asked this
  // peer for in `messages`.
  std::vector<uint32_t> MetadataRequests(
      const std::vector<SentMessage>& messages) const;
  // ServeMetadata answers each of those requests with the piece of `info`
  // (the info dictionary's bytes; total_size `total_size`, or its size);
  // returns how many.
  int ServeMetadata(const std::vector<SentMessage>& messages,
                    const std::string& info, uint64_t total_size = 0);
  // ServeUntilQuiet reads and serves until our client asks for nothing
  // more (at most `rounds` rounds); returns the blocks served.
  int ServeUntilQuiet(const TestTorrent& torrent, int rounds = 100000);

 private:
  SimClient* sim_;
  SimPeer* transport_;
  Sha1Hash info_hash_;
  PeerId id_;
  std::unique_ptr<protocol::MessageParser> parser_;
  std::vector<SentMessage> all_;
  std::optional<protocol::ExtensionHandshake> ours_;
};

// Count returns how many messages in `messages` are of type T.
template <typename T>
int Count(const std::vector<SentMessage>& messages) {
  int n = 0;
  for (const SentMessage& m : messages) n += m.As<T>() != nullptr;
  return n;
}

}  // namespace bt::client::testing

#endif  // TESTS_CLIENT_TESTING_REMOTE_PEER_H_
