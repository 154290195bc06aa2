#include "tests/testing/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace bt::testing {

int ConnectLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string ReadToEnd(int fd) {
  std::string in;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) in.append(buf, n);
  return in;
}

HttpReply ParseHttpReply(const std::string& raw) {
  HttpReply reply;
  size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return reply;
  reply.status = std::atoi(raw.c_str() + 9);
  size_t line = raw.find("\r\n") + 2;
  while (line < end) {
    size_t next = raw.find("\r\n", line);
    std::string header = raw.substr(line, next - line);
    size_t colon = header.find(':');
    if (colon != std::string::npos) {
      reply.headers[absl::AsciiStrToLower(header.substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(header.substr(colon + 1)));
    }
    line = next + 2;
  }
  reply.body = raw.substr(end + 4);
  return reply;
}

HttpReply HttpExchange(uint16_t port, const std::string& request) {
  int fd = ConnectLoopback(port);
  EXPECT_GE(fd, 0) << "connect to port " << port;
  if (fd < 0) return {};
  WriteAll(fd, request);
  HttpReply reply = ParseHttpReply(ReadToEnd(fd));
  close(fd);
  return reply;
}

std::string HttpRequest(const std::string& method, const std::string& path,
                        const std::string& extra_headers,
                        const std::string& body) {
  std::string request = absl::StrCat(method, " ", path,
                                     " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                     "Connection: close\r\n",
                                     extra_headers);
  if (method == "POST") {
    absl::StrAppend(&request, "Content-Length: ", body.size(), "\r\n");
  }
  return absl::StrCat(request, "\r\n", body);
}

absl::StatusOr<std::string> HttpGet(uint16_t port, const std::string& target) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrFormat("connect to %d failed", port));
  }
  const bool sent = WriteAll(
      fd, absl::StrFormat("GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n",
                          target, port));
  std::string reply = sent ? ReadToEnd(fd) : "";
  close(fd);
  if (!sent) return absl::UnavailableError("send failed");
  if (reply.empty()) return absl::UnavailableError("empty response");
  return reply;
}

}  // namespace bt::testing
