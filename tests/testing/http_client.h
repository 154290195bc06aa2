// Test-only: a small blocking HTTP/1.1 client on loopback, one request per
// connection, for tests that speak to an HTTP server byte for byte (headers
// and bodies they choose, malformed ones included).
//
//   bt::testing::HttpReply r = bt::testing::HttpExchange(
//       port, bt::testing::HttpRequest("POST", "/transmission/rpc",
//                                      "X-Transmission-Session-Id: x\r\n",
//                                      R"({"method":"session-get"})"));
//   EXPECT_EQ(r.status, 409);
#ifndef TESTS_TESTING_HTTP_CLIENT_H_
#define TESTS_TESTING_HTTP_CLIENT_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace bt::testing {

struct HttpReply {
  int status = 0;  // 0: the connection closed before a status line
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// ConnectLoopback opens a blocking TCP connection to 127.0.0.1:`port` with
// a 10 s receive timeout; -1 on failure. The caller closes it.
int ConnectLoopback(uint16_t port);

// WriteAll sends all of `data` on `fd`; false if the peer hung up first.
bool WriteAll(int fd, const std::string& data);

// ReadToEnd reads until the peer closes (or an error or the timeout).
std::string ReadToEnd(int fd);

// ParseHttpReply splits a raw response; status 0 if it has no status line
// or no end of headers.
HttpReply ParseHttpReply(const std::string& raw);

// HttpExchange sends `request` (raw bytes) on a new connection and reads
// the reply until the server closes it (requests say Connection: close).
// A failed connect records a GoogleTest failure and returns status 0.
HttpReply HttpExchange(uint16_t port, const std::string& request);

// HttpRequest makes a request with Connection: close, `extra_headers`
// (each ending in CRLF) and, for POST, `body` with its Content-Length.
std::string HttpRequest(const std::string& method, const std::string& path,
                        const std::string& extra_headers = "",
                        const std::string& body = "");

// HttpGet sends "GET `target` HTTP/1.0" to 127.0.0.1:`port` and returns
// the raw reply (headers and body). Unlike HttpExchange it records no test
// failure: kUnavailable when it cannot connect or send, or nothing comes
// back, for polling a server that may not be ready.
absl::StatusOr<std::string> HttpGet(uint16_t port, const std::string& target);

}  // namespace bt::testing

#endif  // TESTS_TESTING_HTTP_CLIENT_H_
