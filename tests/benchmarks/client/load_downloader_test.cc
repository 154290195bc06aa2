// LoadDownloader against a scripted seeder in memory: a whole download with
// a short last piece, a corrupted piece, a choke in the middle, and the
// peers it refuses.
#include "benchmarks/client/load_downloader.h"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/hash.h"
#include "base/sha.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/message.h"
#include "protocol/message_parser.h"

namespace bt::benchmarks {
namespace {

using Clock = LoadDownloader::Clock;
using protocol::Message;

constexpr int64_t kPieceLength = 32 * 1024;
// Three pieces; the last is one full block and 100 bytes.
constexpr int64_t kTotal = 2 * kPieceLength + 16 * 1024 + 100;

std::string Payload() {
  std::string data(kTotal, '\0');
  for (int64_t i = 0; i < kTotal; ++i)
    data[i] = static_cast<char>(i * 7 + i / 251);
  return data;
}

LoadTarget Target(const std::string& data) {
  LoadTarget t;
  t.info_hash = Sha1(AsBytes("info"));
  t.total_size = kTotal;
  t.piece_length = kPieceLength;
  for (int64_t at = 0; at < kTotal; at += kPieceLength) {
    t.piece_hashes.push_back(
        Sha1(AsBytes(std::string_view(data).substr(at, kPieceLength))));
  }
  return t;
}

// Seeder answers the downloader's messages from `data`: the handshake,
// a full bitfield and an unchoke, then every request.
const std::string kAllPieces("\xe0", 1);  // three pieces, all present

class Seeder {
 public:
  explicit Seeder(std::string data)
      : data_(std::move(data)),
        parser_(protocol::ParserOptions{.expect_handshake = true}) {}

  // Takes what the downloader sent; returns the requests seen in it.
  std::vector<protocol::Request> Take(const std::string& sent) {
    std::vector<protocol::Request> requests;
    parser_.Feed(sent);
    while (true) {
      absl::StatusOr<std::optional<Message>> m = parser_.Next();
      EXPECT_TRUE(m.ok()) << m.status();
      if (!m.ok() || !*m) break;
      if (std::holds_alternative<protocol::Handshake>(**m))
        got_handshake = true;
      if (std::holds_alternative<protocol::Interested>(**m)) interested = true;
      if (auto* r = std::get_if<protocol::Request>(&**m))
        requests.push_back(*r);
    }
    return requests;
  }

  std::string Greeting(const Sha1Hash& info_hash, std::string_view bits) {
    std::string out;
    protocol::AppendHandshake({.info_hash = info_hash}, &out);
    protocol::AppendBitfield(bits, &out);
    protocol::AppendMessage(protocol::Unchoke{}, &out);
    return out;
  }

  // Connect starts `d`, answers with a greeting (all pieces, unchoked) and
  // returns the requests `d` sent for it.
  std::vector<protocol::Request> Connect(LoadDownloader& d,
                                         const LoadTarget& target) {
    std::string out;
    d.Start(&out);
    Take(out);
    out.clear();
    absl::Status s = d.OnReceived(Greeting(target.info_hash, kAllPieces),
                                  Clock::now(), &out);
    EXPECT_TRUE(s.ok()) << s;
    return Take(out);
  }

  std::string Serve(const protocol::Request& r) {
    std::string out;
    protocol::AppendPiece(r.piece, r.begin,
                          std::string_view(data_).substr(
                              r.piece * kPieceLength + r.begin, r.length),
                          &out);
    return out;
  }

  bool got_handshake = false;
  bool interested = false;

 private:
  std::string data_;
  protocol::MessageParser parser_;
};

TEST(LoadDownloaderTest, DownloadsAndVerifiesEveryPiece) {
  const std::string data = Payload();
  LoadTarget target = Target(data);
  LoadDownloader d(&target, {.pipeline = 2, .first_piece = 1});
  Seeder seeder(data);
  std::string out;
  d.Start(&out);
  EXPECT_TRUE(seeder.Take(out).empty());
  EXPECT_TRUE(seeder.got_handshake);
  EXPECT_TRUE(seeder.interested);
  out.clear();
  ASSERT_TRUE(d.OnReceived(seeder.Greeting(target.info_hash, kAllPieces),
                           Clock::now(), &out)
                  .ok());
  std::vector<protocol::Request> queue = seeder.Take(out);
  ASSERT_EQ(queue.size(), 2u);    // the pipeline's depth
  EXPECT_EQ(queue[0].piece, 1u);  // first_piece first
  int served = 0;
  while (!queue.empty()) {
    protocol::Request r = queue.front();
    queue.erase(queue.begin());
    out.clear();
    ASSERT_TRUE(d.OnReceived(seeder.Serve(r), Clock::now(), &out).ok());
    ++served;
    for (const protocol::Request& next : seeder.Take(out))
      queue.push_back(next);
    EXPECT_LE(queue.size(), 2u);
  }
  EXPECT_EQ(served, 6);  // 2 + 2 + 2 blocks, the last one 100 bytes
  EXPECT_TRUE(d.complete());
  EXPECT_EQ(d.verified_bytes(), kTotal);
  EXPECT_EQ(d.hash_failures(), 0u);
  EXPECT_EQ(d.latencies_us().size(), 6u);
}

TEST(LoadDownloaderTest, CountsACorruptPiece) {
  const std::string data = Payload();
  LoadTarget target = Target(data);
  std::string corrupt = data;
  corrupt[kPieceLength + 5] ^= 1;  // in piece 1
  LoadDownloader d(&target, {.pipeline = 8});
  Seeder seeder(corrupt);
  std::vector<protocol::Request> requests = seeder.Connect(d, target);
  ASSERT_EQ(requests.size(), 6u);
  // Served last block first: blocks are hashed in order all the same.
  std::string replies;
  for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
    replies += seeder.Serve(*it);
  }
  std::string out;
  ASSERT_TRUE(d.OnReceived(replies, Clock::now(), &out).ok());
  EXPECT_TRUE(d.complete());
  EXPECT_EQ(d.hash_failures(), 1u);
  EXPECT_EQ(d.verified_bytes(), kTotal - kPieceLength);
}

TEST(LoadDownloaderTest, ChokeDropsRequestsThatAreAskedAgainAfterUnchoke) {
  const std::string data = Payload();
  LoadTarget target = Target(data);
  LoadDownloader d(&target, {.pipeline = 4});
  Seeder seeder(data);
  std::string out;
  std::vector<protocol::Request> first = seeder.Connect(d, target);
  ASSERT_EQ(first.size(), 4u);
  // One block arrives, then a choke: the other three are dropped.
  std::string in = seeder.Serve(first[0]);
  protocol::AppendMessage(protocol::Choke{}, &in);
  out.clear();
  ASSERT_TRUE(d.OnReceived(in, Clock::now(), &out).ok());
  EXPECT_TRUE(seeder.Take(out).empty());
  EXPECT_EQ(d.chokes(), 1u);
  in.clear();
  protocol::AppendMessage(protocol::Unchoke{}, &in);
  out.clear();
  ASSERT_TRUE(d.OnReceived(in, Clock::now(), &out).ok());
  std::vector<protocol::Request> again = seeder.Take(out);
  ASSERT_EQ(again.size(), 4u);
  EXPECT_EQ(again[0], first[1]);
  std::string replies;
  for (const protocol::Request& r : again) replies += seeder.Serve(r);
  out.clear();
  ASSERT_TRUE(d.OnReceived(replies, Clock::now(), &out).ok());
  for (const protocol::Request& r : seeder.Take(out)) {
    std::string more;
    ASSERT_TRUE(d.OnReceived(seeder.Serve(r), Clock::now(), &more).ok());
  }
  EXPECT_TRUE(d.complete());
  EXPECT_EQ(d.verified_bytes(), kTotal);
  EXPECT_EQ(d.duplicate_blocks(), 0u);
}

TEST(LoadDownloaderTest, RefusesAnotherTorrentAndANonSeed) {
  const std::string data = Payload();
  LoadTarget target = Target(data);
  Seeder seeder(data);
  std::string out;
  LoadDownloader other(&target, {});
  EXPECT_EQ(other
                .OnReceived(seeder.Greeting(Sha1(AsBytes("x")), kAllPieces),
                            Clock::now(), &out)
                .code(),
            absl::StatusCode::kFailedPrecondition);
  LoadDownloader partial(&target, {});
  EXPECT_EQ(
      partial
          .OnReceived(seeder.Greeting(target.info_hash, std::string("\xc0", 1)),
                      Clock::now(), &out)
          .code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace bt::benchmarks
