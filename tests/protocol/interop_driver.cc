#include "tests/protocol/interop_driver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "base/random.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "protocol/message.h"

namespace bt::protocol::testing {
namespace {

absl::Status Errno(const char* what) {
  return absl::UnavailableError(
      absl::StrFormat("%s: %s", what, std::strerror(errno)));
}

int RemainingMs(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(
    const std::vector<std::string>& argv) {
  int to_child[2], from_child[2];
  if (pipe2(to_child, O_CLOEXEC) != 0) return Errno("pipe");
  if (pipe2(from_child, O_CLOEXEC) != 0) return Errno("pipe");
  pid_t pid = fork();
  if (pid < 0) return Errno("fork");
  if (pid == 0) {
    setpgid(0, 0);
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  setpgid(pid, pid);
  close(to_child[0]);
  close(from_child[1]);
  auto p = std::unique_ptr<Subprocess>(new Subprocess);
  p->pid_ = pid;
  p->in_ = to_child[1];
  p->out_ = from_child[0];
  return p;
}

Subprocess::~Subprocess() {
  if (in_ >= 0) close(in_);
  if (out_ >= 0) close(out_);
  if (pid_ > 0) {
    // Give it a moment to exit on stdin EOF, then ask, then make sure.
    for (int i = 0; i < 20; ++i) {
      if (i == 10) kill(-pid_, SIGTERM);
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      usleep(50 * 1000);
    }
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

absl::StatusOr<std::string> Subprocess::ReadLine(absl::Time deadline) {
  while (true) {
    size_t nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    pollfd p{out_, POLLIN, 0};
    int r = poll(&p, 1, RemainingMs(deadline));
    if (r == 0) return absl::DeadlineExceededError("no line from peer program");
    if (r < 0 && errno != EINTR) return Errno("poll");
    char buf[4096];
    ssize_t n = read(out_, buf, sizeof buf);
    if (n == 0) return absl::UnavailableError("peer program closed stdout");
    if (n < 0 && errno != EINTR) return Errno("read");
    if (n > 0) buffered_.append(buf, n);
  }
}

absl::Status Subprocess::WriteLine(const std::string& line) {
  std::string s = line + "\n";
  if (write(in_, s.data(), s.size()) != static_cast<ssize_t>(s.size())) {
    return Errno("write to peer program");
  }
  return absl::OkStatus();
}

std::optional<std::string> Field(const std::string& line,
                                 const std::string& key) {
  std::string needle = key + "=";
  size_t pos = 0;
  while ((pos = line.find(needle, pos)) != std::string::npos) {
    if (pos == 0 || line[pos - 1] == ' ') {
      size_t start = pos + needle.size();
      size_t end = line.find(' ', start);
      return line.substr(start, end == std::string::npos ? end : end - start);
    }
    pos += needle.size();
  }
  return std::nullopt;
}

absl::StatusOr<TorrentFacts> ParseReady(const std::string& line) {
  TorrentFacts t;
  auto get = [&](const char* key) -> absl::StatusOr<std::string> {
    std::optional<std::string> v = Field(line, key);
    if (!v) return absl::InvalidArgumentError(absl::StrFormat("no %s", key));
    return *v;
  };
  ASSIGN_OR_RETURN(std::string ih, get("info_hash"));
  ASSIGN_OR_RETURN(t.info_hash, Sha1Hash::FromHex(ih));
  ASSIGN_OR_RETURN(std::string ph, get("piece0_hash"));
  ASSIGN_OR_RETURN(t.piece0_hash, Sha1Hash::FromHex(ph));
  ASSIGN_OR_RETURN(std::string pl, get("piece_length"));
  ASSIGN_OR_RETURN(std::string np, get("num_pieces"));
  ASSIGN_OR_RETURN(std::string ts, get("total_size"));
  t.piece_length = static_cast<uint32_t>(std::stoul(pl));
  t.num_pieces = static_cast<uint32_t>(std::stoul(np));
  t.total_size = std::stoull(ts);
  return t;
}

absl::StatusOr<int> ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    absl::Status s = Errno("connect");
    close(fd);
    return s;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

absl::StatusOr<int> ConnectLoopbackRetrying(int port, absl::Time deadline) {
  while (true) {
    absl::StatusOr<int> fd = ConnectLoopback(port);
    if (fd.ok() || absl::Now() > deadline) return fd;
    usleep(50 * 1000);
  }
}

absl::StatusOr<int> ListenLoopback(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      listen(fd, 4) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    absl::Status s = Errno("listen");
    close(fd);
    return s;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

absl::StatusOr<int> Accept(int listen_fd, absl::Time deadline) {
  pollfd p{listen_fd, POLLIN, 0};
  int r = poll(&p, 1, RemainingMs(deadline));
  if (r <= 0) return absl::DeadlineExceededError("no incoming connection");
  int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return Errno("accept");
  return fd;
}

PeerWire::PeerWire(int fd, const TorrentFacts& torrent, absl::Time deadline)
    : fd_(fd), torrent_(torrent), deadline_(deadline), parser_([&] {
        ParserOptions o;
        o.expect_handshake = true;
        o.num_pieces = torrent.num_pieces;
        return o;
      }()) {
  skeys_.Add(torrent.info_hash);
}

PeerWire::~PeerWire() { close(fd_); }

Handshake PeerWire::OurHandshake() const {
  Handshake hs;
  hs.reserved.Set(ReservedBit::kExtension).Set(ReservedBit::kFast);
  hs.info_hash = torrent_.info_hash;
  std::string prefix = "-BK0001-";
  for (size_t i = 0; i < prefix.size(); ++i) {
    hs.peer_id[i] = static_cast<uint8_t>(prefix[i]);
  }
  RandomBytes(hs.peer_id.mutable_span().subspan(prefix.size()));
  return hs;
}

absl::Status PeerWire::SendRaw(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("send");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status PeerWire::SendAll(std::string bytes) {
  if (mse_ && mse_->done()) mse_->Encrypt(&bytes);
  return SendRaw(bytes);
}

absl::StatusOr<std::string> PeerWire::ReadSome() {
  pollfd p{fd_, POLLIN, 0};
  int r = poll(&p, 1, RemainingMs(deadline_));
  if (r == 0) {
    return absl::DeadlineExceededError(
        absl::StrFormat("timed out waiting for the peer; got: %s", log_));
  }
  if (r < 0) return Errno("poll");
  std::string buf(64 * 1024, '\0');
  ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
  if (n == 0) {
    return absl::UnavailableError(
        absl::StrFormat("peer closed the connection; got: %s", log_));
  }
  if (n < 0) return Errno("recv");
  buf.resize(static_cast<size_t>(n));
  return buf;
}

absl::Status PeerWire::RunMse(std::string first_out) {
  RETURN_IF_ERROR(SendRaw(first_out));
  while (!mse_->done()) {
    ASSIGN_OR_RETURN(std::string in, ReadSome());
    std::string out;
    RETURN_IF_ERROR(mse_->Receive(in, &out));
    RETURN_IF_ERROR(SendRaw(out));
    RETURN_IF_ERROR(mse_->CheckDeadline(absl::Now()));
  }
  chunk_ = mse_->TakeReceivedPayload();
  parser_.Feed(chunk_);
  return absl::OkStatus();
}

absl::Status PeerWire::InitiatePlain() {
  std::string hs;
  AppendHandshake(OurHandshake(), &hs);
  return SendRaw(hs);
}

absl::Status PeerWire::InitiateMse(const MseOptions& options) {
  std::string hs;
  AppendHandshake(OurHandshake(), &hs);
  auto initiator = std::make_unique<MseInitiator>(torrent_.info_hash, hs,
                                                  options, absl::Now());
  std::string out;
  RETURN_IF_ERROR(initiator->Start(&out));
  mse_ = std::move(initiator);
  return RunMse(out);
}

absl::Status PeerWire::Respond(const MseOptions& options) {
  mse_ = std::make_unique<MseResponder>(&skeys_, options, absl::Now());
  RETURN_IF_ERROR(RunMse(""));
  std::string hs;
  AppendHandshake(OurHandshake(), &hs);
  return SendAll(hs);
}

absl::StatusOr<Message> PeerWire::NextMessage() {
  while (true) {
    ASSIGN_OR_RETURN(std::optional<Message> m, parser_.Next());
    if (m) {
      log_ += std::string(MessageName(*m)) + "; ";
      return *m;
    }
    ASSIGN_OR_RETURN(chunk_, ReadSome());
    if (mse_) mse_->Decrypt(&chunk_);
    parser_.Feed(chunk_);
  }
}

absl::Status PeerWire::AwaitTheirHandshake() {
  if (theirs_) return absl::OkStatus();
  ASSIGN_OR_RETURN(Message first, NextMessage());
  auto* hs = std::get_if<Handshake>(&first);
  if (!hs) return absl::InvalidArgumentError("no handshake from the peer");
  theirs_ = *hs;
  return absl::OkStatus();
}

absl::Status PeerWire::Send(const Message& m) {
  RETURN_IF_ERROR(AwaitTheirHandshake());
  std::string out;
  AppendMessage(m, &out);
  return SendAll(out);
}

absl::Status PeerWire::AwaitUnchoke() {
  RETURN_IF_ERROR(AwaitTheirHandshake());
  std::string out;
  AppendMessage(Interested{}, &out);
  RETURN_IF_ERROR(SendAll(out));
  while (true) {
    ASSIGN_OR_RETURN(Message m, NextMessage());
    if (std::holds_alternative<Unchoke>(m)) return absl::OkStatus();
  }
}

absl::StatusOr<std::string> PeerWire::RequestHashes(const HashRange& range) {
  RETURN_IF_ERROR(AwaitTheirHandshake());
  std::string out;
  AppendMessage(HashRequest{range}, &out);
  RETURN_IF_ERROR(SendAll(out));
  while (true) {
    ASSIGN_OR_RETURN(Message m, NextMessage());
    if (auto* h = std::get_if<Hashes>(&m); h && h->range == range) {
      return std::string(h->hashes);
    }
    if (auto* r = std::get_if<HashReject>(&m); r && r->range == range) {
      return absl::UnavailableError("the peer rejected the hash request");
    }
  }
}

absl::Status PeerWire::DownloadPiece(uint32_t piece, const Sha1Hash& expected) {
  // Say nothing more until the peer's handshake is in: some clients (aria2)
  // drop a connection whose first read holds more than a handshake.
  ASSIGN_OR_RETURN(Message first, NextMessage());
  auto* hs = std::get_if<Handshake>(&first);
  if (!hs) return absl::InvalidArgumentError("no handshake from the peer");
  if (hs->info_hash != torrent_.info_hash) {
    return absl::InvalidArgumentError("peer answered another info-hash");
  }
  theirs_ = *hs;

  std::string out;
  ExtensionHandshake ext;
  ext.m["ut_metadata"] = 1;
  ext.m["ut_pex"] = 2;
  ext.v = "btkit interop";
  ext.reqq = 64;
  std::string payload;
  AppendExtensionHandshake(ext, &payload);
  AppendExtended(0, payload, &out);
  AppendMessage(Interested{}, &out);
  RETURN_IF_ERROR(SendAll(out));

  const uint64_t start = uint64_t{piece} * torrent_.piece_length;
  const uint32_t size = static_cast<uint32_t>(
      std::min<uint64_t>(torrent_.piece_length, torrent_.total_size - start));
  std::string data(size, '\0');
  std::vector<bool> got((size + kBlockSize - 1) / kBlockSize, false);
  size_t missing = got.size();
  bool requested = false;
  while (missing > 0) {
    ASSIGN_OR_RETURN(Message m, NextMessage());
    if (auto* e = std::get_if<Extended>(&m)) {
      if (e->id == 0) {
        ASSIGN_OR_RETURN(their_ext_, ParseExtensionHandshake(e->payload));
      }
    } else if (std::holds_alternative<Bitfield>(m) ||
               std::holds_alternative<HaveAll>(m)) {
      saw_have_ = true;
    } else if (std::holds_alternative<Unchoke>(m) && !requested) {
      std::string req;
      for (uint32_t begin = 0; begin < size; begin += kBlockSize) {
        AppendRequest(piece, begin, std::min(kBlockSize, size - begin), &req);
      }
      RETURN_IF_ERROR(SendAll(req));
      requested = true;
    } else if (auto* p = std::get_if<Piece>(&m)) {
      if (p->piece != piece || p->begin % kBlockSize != 0 ||
          p->begin + p->data.size() > size) {
        return absl::InvalidArgumentError("unexpected block");
      }
      size_t i = p->begin / kBlockSize;
      if (!got[i]) {
        std::copy(p->data.begin(), p->data.end(), data.begin() + p->begin);
        got[i] = true;
        --missing;
      }
    } else if (std::holds_alternative<Reject>(m)) {
      return absl::FailedPreconditionError("peer rejected a request");
    }
  }
  if (Sha1(AsBytes(data)) != expected) {
    return absl::DataLossError("piece does not match its SHA-1");
  }
  return absl::OkStatus();
}

}  // namespace bt::protocol::testing
