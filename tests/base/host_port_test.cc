#include "base/host_port.h"

#include <string>

#include "gtest/gtest.h"

namespace bt {
namespace {

TEST(ParseHostPortTest, NamesAddressesAndBracketedV6) {
  absl::StatusOr<HostPort> name = ParseHostPort("router.example:6881");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->host, "router.example");
  EXPECT_EQ(name->port, 6881);
  absl::StatusOr<HostPort> v6 = ParseHostPort("[::1]:65535");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 65535);
}

TEST(ParseHostPortTest, RefusesMissingPartsAndBadPorts) {
  for (const char* bad : {"", "host", ":1", "host:", "host:0", "host:65536",
                          "host:x", "[]:1", "host:-1"}) {
    absl::StatusOr<HostPort> r = ParseHostPort(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find(std::string("'") + bad + "'"),
              std::string::npos)
        << r.status();
  }
}

TEST(HostPortTest, ToStringRoundTrips) {
  for (const char* text :
       {"router.example:6881", "[::1]:1", "10.0.0.1:65535"}) {
    absl::StatusOr<HostPort> hp = ParseHostPort(text);
    ASSERT_TRUE(hp.ok()) << hp.status();
    EXPECT_EQ(hp->ToString(), text);
  }
}

TEST(ParseHostPortListTest, ReadsEntriesInOrderAndEmptyAsNone) {
  absl::StatusOr<std::vector<HostPort>> list =
      ParseHostPortList("a.example:1,[::1]:2,127.0.0.1:3");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(*list, (std::vector<HostPort>{
                       {"a.example", 1}, {"::1", 2}, {"127.0.0.1", 3}}));
  absl::StatusOr<std::vector<HostPort>> none = ParseHostPortList("");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

TEST(ParseHostPortListTest, NamesTheBadEntry) {
  absl::StatusOr<std::vector<HostPort>> r = ParseHostPortList("a:1,b:0");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "entry 2: 'b:0' is not HOST:PORT with a port of 1 to 65535");
  EXPECT_FALSE(ParseHostPortList("a:1,").ok());
  EXPECT_FALSE(ParseHostPortList(",a:1").ok());
}

}  // namespace
}  // namespace bt
