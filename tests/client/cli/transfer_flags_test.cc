// The flags `bt download` and `bt seed` share reach the ClientOptions a
// new client starts with: limits, the DHT switch and its routers.
#include "client/cli/transfer_flags.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace bt::client::cli {
namespace {

using Args = std::vector<std::string>;

// Parse parses `args` as bt seed's flags into `*a`; returns the error text.
std::string Parse(const Args& args, TransferArgs* a) {
  FlagSet flags("bt seed");
  DeclareTransferFlags(flags, *a);
  absl::Status s = flags.Parse(args);
  return s.ok() ? "" : std::string(s.message());
}

TEST(TransferFlagsTest, DefaultsAreTheLibrarysWithTheWellKnownRouters) {
  TransferArgs a;
  ASSERT_EQ(Parse({}, &a), "");
  const ClientOptions options = TransferClientOptions(a);
  const ClientOptions library;
  EXPECT_TRUE(options.enable_dht);
  EXPECT_EQ(options.dht_bootstrap, DefaultDhtRouters());
  EXPECT_EQ(options.dht_bootstrap.size(), 4u);
  EXPECT_EQ(options.upload_rate_limit, 0);
  EXPECT_EQ(options.download_rate_limit, 0);
  EXPECT_EQ(options.max_connections, library.max_connections);
  EXPECT_EQ(options.max_connections_per_torrent,
            library.max_connections_per_torrent);
  EXPECT_EQ(options.upload_slots, library.upload_slots);
  EXPECT_EQ(options.local_ports, library.local_ports);
}

TEST(TransferFlagsTest, LimitsReachTheOptions) {
  TransferArgs a;
  ASSERT_EQ(Parse({"--upload-rate", "65536", "--download-rate=1048576",
                   "--max-connections", "30", "--max-connections-per-torrent",
                   "10", "--upload-slots", "2", "--port", "6881"},
                  &a),
            "");
  const ClientOptions options = TransferClientOptions(a);
  EXPECT_EQ(options.upload_rate_limit, 65536);
  EXPECT_EQ(options.download_rate_limit, 1048576);
  EXPECT_EQ(options.max_connections, 30);
  EXPECT_EQ(options.max_connections_per_torrent, 10);
  EXPECT_EQ(options.upload_slots, 2);
  EXPECT_EQ(options.local_ports, std::vector<uint16_t>{6881});
}

TEST(TransferFlagsTest, NoDhtTurnsTheNodeOff) {
  TransferArgs a;
  ASSERT_EQ(Parse({"--no-dht"}, &a), "");
  EXPECT_FALSE(TransferClientOptions(a).enable_dht);
}

TEST(TransferFlagsTest, LsdIsOnUnlessNoLsd) {
  TransferArgs on, off;
  ASSERT_EQ(Parse({}, &on), "");
  EXPECT_TRUE(TransferClientOptions(on).enable_lsd);
  ASSERT_EQ(Parse({"--no-lsd"}, &off), "");
  EXPECT_FALSE(TransferClientOptions(off).enable_lsd);
}

TEST(TransferFlagsTest, DhtBootstrapReplacesTheRoutersOrEmptiesThem) {
  TransferArgs a;
  ASSERT_EQ(
      Parse({"--dht-bootstrap", "127.0.0.1:6881,[::1]:7,r.example:9"}, &a), "");
  EXPECT_EQ(TransferClientOptions(a).dht_bootstrap,
            (std::vector<HostPort>{
                {"127.0.0.1", 6881}, {"::1", 7}, {"r.example", 9}}));
  TransferArgs none;
  ASSERT_EQ(Parse({"--dht-bootstrap="}, &none), "");
  EXPECT_TRUE(TransferClientOptions(none).dht_bootstrap.empty());
  EXPECT_TRUE(TransferClientOptions(none).enable_dht);
  // The last one given wins, like other single-valued flags.
  TransferArgs last;
  ASSERT_EQ(Parse({"--dht-bootstrap", "a.example:1", "--dht-bootstrap",
                   "b.example:2"},
                  &last),
            "");
  EXPECT_EQ(TransferClientOptions(last).dht_bootstrap,
            (std::vector<HostPort>{{"b.example", 2}}));
}

TEST(TransferFlagsTest, ParseBindAddressReadsBothFamiliesWithOrWithoutPort) {
  EXPECT_EQ(*ParseBindAddress("0.0.0.0"), (BindAddress{"0.0.0.0", {}}));
  EXPECT_EQ(*ParseBindAddress("::"), (BindAddress{"::", {}}));
  EXPECT_EQ(*ParseBindAddress("::1"), (BindAddress{"::1", {}}));
  EXPECT_EQ(*ParseBindAddress("[::1]"), (BindAddress{"::1", {}}));
  EXPECT_EQ(*ParseBindAddress("[0:0::1]"), (BindAddress{"::1", {}}));
  EXPECT_EQ(*ParseBindAddress("127.0.0.1:6881"),
            (BindAddress{"127.0.0.1", 6881}));
  EXPECT_EQ(*ParseBindAddress("[::]:0"), (BindAddress{"::", 0}));
  for (const char* bad : {"", "[]", "[127.0.0.1]", "1.2.3.4:", "1.2.3.4:65536",
                          "::1:6881x", "[::1]:", "host.example", "[::1]x"}) {
    EXPECT_EQ(ParseBindAddress(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

// By default both families; --bind replaces them, in order, and its port
// (the same on each) becomes the one to listen on.
TEST(TransferFlagsTest, BindReplacesTheLocalAddressesAndMayCarryThePort) {
  TransferArgs none;
  ASSERT_EQ(Parse({}, &none), "");
  EXPECT_EQ(TransferClientOptions(none).local_hosts,
            (std::vector<std::string>{"0.0.0.0", "::"}));
  TransferArgs one;
  ASSERT_EQ(Parse({"--bind", "127.0.0.1"}, &one), "");
  EXPECT_EQ(TransferClientOptions(one).local_hosts,
            std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(TransferClientOptions(one).local_ports,
            ClientOptions().local_ports);
  TransferArgs two;
  ASSERT_EQ(
      Parse({"--bind", "[::1]:6881", "--bind=127.0.0.1", "--port", "6881"},
            &two),
      "");
  const ClientOptions options = TransferClientOptions(two);
  EXPECT_EQ(options.local_hosts,
            (std::vector<std::string>{"::1", "127.0.0.1"}));
  EXPECT_EQ(options.local_ports, std::vector<uint16_t>{6881});
}

TEST(TransferFlagsTest, BadValuesNameTheFlagAndTheText) {
  const struct {
    Args args;
    const char* error;
  } cases[] = {
      {{"--upload-rate", "-1"}, "--upload-rate must be at least 0, got '-1'"},
      {{"--download-rate", "fast"},
       "--download-rate needs a number, got 'fast'"},
      {{"--max-connections", "0"},
       "--max-connections must be at least 1, got '0'"},
      {{"--max-connections-per-torrent", "-5"},
       "--max-connections-per-torrent must be at least 1, got '-5'"},
      {{"--upload-slots", "0"}, "--upload-slots must be at least 1, got '0'"},
      {{"--no-dht=yes"}, "--no-dht takes no value, got 'yes'"},
      {{"--dht-bootstrap", "a.example:1,b.example"},
       "--dht-bootstrap: entry 2: 'b.example' is not HOST:PORT with a port "
       "of 1 to 65535"},
      {{"--dht-bootstrap", "a.example:1,"},
       "--dht-bootstrap: entry 2: '' is not HOST:PORT with a port of 1 to "
       "65535"},
      {{"--dht-bootstrap"}, "--dht-bootstrap needs a value (ROUTERS)"},
      {{"--bind", "localhost"},
       "--bind: \"localhost\" is not ADDR or ADDR:PORT (an IPv4 address, or "
       "an IPv6 one in brackets when a port follows)"},
      {{"--bind", "127.0.0.1:1", "--bind", "[::1]:2"},
       "--bind: port 2 differs from port 1: the client listens on one port "
       "number on every address"},
      {{"--port", "7", "--bind", "[::]:8"},
       "--bind: port 8 differs from port 7: the client listens on one port "
       "number on every address"},
  };
  for (const auto& c : cases) {
    TransferArgs a;
    EXPECT_EQ(Parse(c.args, &a), c.error) << c.args[0];
  }
}

}  // namespace
}  // namespace bt::client::cli
