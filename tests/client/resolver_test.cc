#include "client/net/resolver.h"

#include <optional>

#include "gtest/gtest.h"

namespace bt::client {
namespace {

absl::StatusOr<std::vector<Endpoint>> Wait(EventLoop* loop, Resolver& r,
                                           const std::string& host) {
  std::optional<absl::StatusOr<std::vector<Endpoint>>> result;
  bool inside = true;
  r.Resolve(host, 80, [&](absl::StatusOr<std::vector<Endpoint>> v) {
    EXPECT_FALSE(inside) << "callback ran inside Resolve";
    result = std::move(v);
  });
  inside = false;
  auto start = EventLoop::Now();
  while (!result && EventLoop::Now() - start < std::chrono::seconds(20)) {
    EXPECT_TRUE(loop->RunOnce(1).ok());
  }
  if (!result) return absl::DeadlineExceededError("no answer");
  return *result;
}

TEST(ResolverTest, LiteralsAndNamesAnswerOnTheLoop) {
  auto loop = std::move(*EventLoop::Create());
  Resolver r(loop.get());
  absl::StatusOr<std::vector<Endpoint>> v = Wait(loop.get(), r, "127.0.0.1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)[0].ToString(), "127.0.0.1:80");
  v = Wait(loop.get(), r, "localhost");  // through the worker thread
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_FALSE(v->empty());
  v = Wait(loop.get(), r, "name.invalid");
  EXPECT_FALSE(v.ok());
}

TEST(ResolverTest, CancelledLookupsNeverCallBackAndDestructionIsClean) {
  auto loop = std::move(*EventLoop::Create());
  bool called = false;
  {
    Resolver r(loop.get());
    uint64_t id = r.Resolve("localhost", 1, [&](auto) { called = true; });
    r.Cancel(id);
    uint64_t lit = r.Resolve("::1", 1, [&](auto) { called = true; });
    r.Cancel(lit);
    r.Resolve("localhost", 2, [&](auto) { called = true; });
  }  // destroyed with a lookup possibly in flight
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(loop->RunOnce(0.05).ok());
  EXPECT_FALSE(called);
}

TEST(ResolverTest, NamesGoThroughTheGivenLookupAndLiteralsDoNot) {
  auto loop = std::move(*EventLoop::Create());
  std::vector<std::string> asked;  // written on the worker thread only
  Resolver r(loop.get(), [&](const std::string& host, uint16_t port)
                             -> absl::StatusOr<std::vector<Endpoint>> {
    asked.push_back(host);
    if (host == "gone.example") return absl::NotFoundError("no such name");
    return std::vector<Endpoint>{Endpoint::V4({127, 0, 0, 9}, port)};
  });
  absl::StatusOr<std::vector<Endpoint>> v =
      Wait(loop.get(), r, "router.example");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, std::vector<Endpoint>{Endpoint::V4({127, 0, 0, 9}, 80)});
  EXPECT_EQ(Wait(loop.get(), r, "gone.example").status().code(),
            absl::StatusCode::kNotFound);
  v = Wait(loop.get(), r, "127.0.0.1");
  ASSERT_TRUE(v.ok()) << v.status();
  // Each answer was delivered after its lookup ran: `asked` is settled.
  EXPECT_EQ(asked, (std::vector<std::string>{"router.example", "gone.example"}));
}

}  // namespace
}  // namespace bt::client
