// TransferTest: the fixture of the transfer tests (transfer_test.cc,
// transfer_serving_test.cc, transfer_refusals_test.cc), where two or three
// real btkit Clients in one process transfer a torrent over loopback. Each
// test gets a seed's payload of three files (3 MiB + 12345 bytes, 70000 and
// 10 bytes of random data) under a fresh directory, as a v1 torrent in
// 64 KiB pieces (UseV2 makes it v2-only).
//
//   TEST_F(TransferTest, Downloads) {
//     auto seeder = NewClient(EncryptionPolicy::kEnabled);
//     auto leecher = NewClient(EncryptionPolicy::kEnabled);
//     ASSERT_TRUE(Add(seeder.get(), "seed"));
//     Torrent* dl = Add(leecher.get(), "dl", {Local(*seeder)});
//     ASSERT_TRUE(RunUntil({seeder.get(), leecher.get()},
//                          [&] { return dl->complete(); }));
//     ExpectSameData("dl");
//   }
#ifndef TESTS_CLIENT_TESTING_TRANSFER_FIXTURE_H_
#define TESTS_CLIENT_TESTING_TRANSFER_FIXTURE_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_info.h"
#include "protocol/mse.h"
#include "tests/protocol/interop_driver.h"

namespace bt::testing {

class TransferTest : public ::testing::Test {
 protected:
  // SetUp writes the seed's payload under root_/seed/payload and makes
  // info_ its v1 torrent.
  void SetUp() override;
  void TearDown() override;

  // NewClient makes a client on `host` (each loopback address is a host of
  // its own: bans and per-address limits tell them apart).
  std::unique_ptr<client::Client> NewClient(
      protocol::EncryptionPolicy policy, const std::string& host = "127.0.0.1",
      const std::function<void(client::ClientOptions&)>& tweak = nullptr);

  // Add adds info_ to `c`, saved under root_/dir, with `peers` to dial.
  client::Torrent* Add(client::Client* c, const std::string& dir,
                       std::vector<Endpoint> peers = {});

  // Local is the address `c` listens on.
  static Endpoint Local(const client::Client& c);

  // Runs the clients until `done` or `limit` passes.
  static bool RunUntil(std::vector<client::Client*> clients,
                       const std::function<bool()>& done,
                       absl::Duration limit = absl::Seconds(30));

  // UseV2 makes info_ a v2-only torrent of the seed's payload.
  void UseV2(int64_t piece_length);

  // WithRawPeer runs `client` while a peer on another thread connects to
  // it in plaintext for info_, then `talk`s with btkit's codec; returns
  // the first error of either.
  absl::Status WithRawPeer(
      client::Client& client,
      const std::function<absl::Status(protocol::testing::PeerWire&)>& talk);

  // ExpectSameData expects root_/dir's payload to equal the seed's.
  void ExpectSameData(const std::string& dir);

  std::filesystem::path root_;
  metainfo::TorrentInfo info_;
};

}  // namespace bt::testing

#endif  // TESTS_CLIENT_TESTING_TRANSFER_FIXTURE_H_
