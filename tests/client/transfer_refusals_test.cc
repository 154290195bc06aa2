// What a btkit client refuses from peers over loopback: addresses its
// ip_filter blocks (by its event, both ways, or by a range before any
// event), blocks nobody asked for (never written over verified data), and
// a seeder serving corrupt data, which is banned while the download still
// completes from an honest one.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "protocol/message.h"
#include "tests/client/testing/transfer_fixture.h"
#include "tests/protocol/interop_driver.h"
#include "tests/testing/files.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;
using ::bt::testing::ReadFileOrDie;
using ::bt::testing::TransferTest;
using protocol::EncryptionPolicy;

TEST_F(TransferTest, IpFilterRefusesPeersBothWays) {
  auto seeder = NewClient(EncryptionPolicy::kEnabled);
  auto leecher = NewClient(EncryptionPolicy::kEnabled);
  std::vector<Endpoint> filtered;
  // The seeder refuses everyone: the leecher's connection is dropped.
  seeder->OnEvent(EventType::kIpFilter, [&](const Event& e) {
    filtered.push_back(e.address);
    return false;
  });
  ASSERT_TRUE(Add(seeder.get(), "seed"));
  Torrent* dl = Add(leecher.get(), "dl", {Local(*seeder)});
  int connects = 0;
  leecher->OnEvent(EventType::kPeerConnect, [&](const Event&) {
    ++connects;
    return true;
  });
  // Wait for the refusal itself (a fixed wait can end before it under
  // load), then give a refused peer time to get in anyway.
  ASSERT_TRUE(RunUntil({seeder.get(), leecher.get()},
                       [&] { return !filtered.empty(); }));
  RunUntil(
      {seeder.get(), leecher.get()}, [] { return false; }, absl::Seconds(2));
  EXPECT_EQ(filtered[0].AddressString(), "127.0.0.1");
  EXPECT_EQ(connects, 0);
  EXPECT_EQ(dl->pieces_have(), 0u);

  // An outgoing connection is refused before any socket is opened.
  auto other = NewClient(EncryptionPolicy::kEnabled);
  int asked = 0;
  other->OnEvent(EventType::kIpFilter, [&](const Event& e) {
    ++asked;
    EXPECT_EQ(e.address, Local(*seeder));
    return false;
  });
  Torrent* t = Add(other.get(), "other", {Local(*seeder)});
  ASSERT_TRUE(t);
  EXPECT_GE(asked, 1);
  EXPECT_TRUE(t->peers().empty());
}

// A peer sending blocks nobody asked for, of a piece already verified,
// must not change a byte on disk.
TEST_F(TransferTest, UnaskedBlocksNeverOverwriteVerifiedData) {
  fs::copy(root_ / "seed", root_ / "dl", fs::copy_options::recursive);
  fs::resize_file(root_ / "dl/payload/dir/tiny.bin", 5);  // last piece bad
  auto leecher = NewClient(EncryptionPolicy::kEnabled);
  Torrent* dl = Add(leecher.get(), "dl");
  ASSERT_TRUE(dl);
  ASSERT_TRUE(dl->have().Get(0));
  ASSERT_FALSE(dl->complete());

  std::atomic<int> handled = 0;  // blocks the leecher has read and handled
  leecher->OnEvent(EventType::kPacketIncomingBlock, [&](const Event&) {
    ++handled;
    return true;
  });
  absl::Status sent = WithRawPeer(*leecher, [&](auto& wire) {
    const std::string garbage(kBlockSize, 'X');
    for (uint32_t begin : {0u, uint32_t{kBlockSize}}) {
      absl::Status s = wire.Send(protocol::Piece{0, begin, garbage});
      if (!s.ok()) return s;
    }
    // Stay connected until the leecher has handled one (a fixed wait may
    // end before it read it; with the Fast extension the first unasked
    // block ends the connection), then long enough for a wrong write to
    // land.
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (handled < 1 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    absl::SleepFor(absl::Milliseconds(300));
    return absl::OkStatus();
  });
  ASSERT_TRUE(sent.ok()) << sent;
  EXPECT_GE(handled, 1);
  EXPECT_TRUE(ReadFileOrDie(root_ / "dl/payload/big.bin") ==
              ReadFileOrDie(root_ / "seed/payload/big.bin"));
  EXPECT_TRUE(dl->have().Get(0));
}

TEST_F(TransferTest, IpFilterRangesBlockBeforeAnyEvent) {
  auto seeder = NewClient(EncryptionPolicy::kEnabled);
  auto leecher = NewClient(EncryptionPolicy::kEnabled);
  ASSERT_TRUE(seeder->ip_filter().AddRule("127.0.0.0/8").ok());
  int events = 0;
  seeder->OnEvent(EventType::kIpFilter, [&](const Event&) {
    ++events;
    return true;
  });
  ASSERT_TRUE(Add(seeder.get(), "seed"));
  Torrent* dl = Add(leecher.get(), "dl", {Local(*seeder)});
  RunUntil(
      {seeder.get(), leecher.get()}, [] { return false; }, absl::Seconds(2));
  EXPECT_EQ(events, 0);  // refused by the range before the event
  EXPECT_EQ(dl->pieces_have(), 0u);
  EXPECT_TRUE(dl->peers().empty());
}

TEST_F(TransferTest, CorruptSeederIsBannedAndDownloadCompletes) {
  auto good = NewClient(EncryptionPolicy::kDisabled);
  // Bans are per IP address: the liar lives at an address of its own.
  auto bad = NewClient(EncryptionPolicy::kDisabled, "127.0.0.2");
  auto leecher = NewClient(EncryptionPolicy::kDisabled);
  // Both seeders check complete data; then the bad one's file is damaged
  // in every piece, which it keeps serving as if it were good.
  fs::copy(root_ / "seed", root_ / "bad", fs::copy_options::recursive);
  ASSERT_TRUE(Add(good.get(), "seed"));
  ASSERT_TRUE(Add(bad.get(), "bad"));
  {
    std::fstream f(root_ / "bad/payload/big.bin",
                   std::ios::in | std::ios::out | std::ios::binary);
    for (int64_t off = 100; off < 3 * 1024 * 1024; off += 64 * 1024) {
      f.seekp(off);
      f.put('\x55');
      f.seekp(off + 1);
      f.put('\xaa');
    }
  }
  Torrent* dl = Add(leecher.get(), "dl", {Local(*bad), Local(*good)});
  std::vector<uint32_t> failed;
  std::vector<std::string> disconnect_reasons;
  leecher->OnEvent(EventType::kPieceHashFail, [&](const Event& e) {
    failed.push_back(e.index);
    return true;
  });
  leecher->OnEvent(EventType::kPeerDisconnect, [&](const Event& e) {
    disconnect_reasons.push_back(e.reason);
    return true;
  });
  bool completed = RunUntil({good.get(), bad.get(), leecher.get()},
                            [&] { return dl->complete(); });
  if (!completed) {
    std::string why =
        absl::StrFormat("have %d of %d; failed %d; peers:", dl->pieces_have(),
                        info_.num_pieces(), failed.size());
    for (const PeerInfo& p : dl->peers()) {
      why += absl::StrFormat(" [%s choking=%d interested=%d pieces=%d]",
                             p.address.ToString(), p.peer_choking,
                             p.am_interested, p.pieces);
    }
    for (const std::string& r : disconnect_reasons) why += " | " + r;
    FAIL() << why;
  }
  ExpectSameData("dl");
  EXPECT_FALSE(failed.empty());
  bool banned = false;
  for (const std::string& r : disconnect_reasons) {
    banned |= r.find("banned") != std::string::npos;
  }
  EXPECT_TRUE(banned);
}

}  // namespace
}  // namespace bt::client
