// Test-only trackers on loopback: FakeHttpTracker, an HTTP server on an
// EventLoop that answers each announce with what the test says (a reply,
// silence, or an endless body), and BindLoopback, the socket under it.
//
//   FakeHttpTracker tracker(loop, [&](int n) { return Http200(body); },
//                           /*v6=*/true);
//   params.trackers = {{tracker.url()}};   // http://[::1]:PORT/announce
//   ... run the loop ...
//   EXPECT_EQ(tracker.requests(), 1);
//
// The tracker must be destroyed before `loop`.
#ifndef TESTS_CLIENT_TESTING_FAKE_HTTP_TRACKER_H_
#define TESTS_CLIENT_TESTING_FAKE_HTTP_TRACKER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "client/net/event_loop.h"

namespace bt::client::testing {

// BindLoopback binds a non-blocking socket of `type` (SOCK_STREAM: also
// listening) to 127.0.0.1 or ::1 on a free port, stored in `*port`.
int BindLoopback(int type, uint16_t* port, bool v6 = false);

// FakeHttpTracker answers every request with `respond(request_count)`;
// an empty optional means "never answer" (silence). After writing the
// reply it closes, unless `stream_forever` keeps sending body bytes.
class FakeHttpTracker {
 public:
  struct Reply {
    std::string bytes;
    bool silent = false;
    bool stream_forever = false;  // keep writing 'x' until the client closes
  };
  FakeHttpTracker(EventLoop* loop, std::function<Reply(int)> respond,
                  bool v6 = false);
  ~FakeHttpTracker();
  uint16_t port() const { return port_; }
  // url: "http://127.0.0.1:PORT/announce" or "http://[::1]:PORT/...".
  std::string url(const std::string& path = "/announce") const;
  int requests() const { return requests_; }
  const std::string& last_request() const { return last_request_; }
  size_t bytes_streamed() const { return streamed_; }

 private:
  struct Conn {
    std::string in;
    std::string out;
    bool answered = false;
    bool stream = false;
  };
  void Accept();
  void Close(int fd);
  void OnConn(int fd, uint32_t ready);

  EventLoop* loop_;
  std::function<Reply(int)> respond_;
  bool v6_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::map<int, Conn> conns_;
  int requests_ = 0;
  std::string last_request_;
  size_t streamed_ = 0;
};

// Http200 is a 200 reply carrying `body`.
FakeHttpTracker::Reply Http200(const std::string& body);

}  // namespace bt::client::testing

#endif  // TESTS_CLIENT_TESTING_FAKE_HTTP_TRACKER_H_
