#include "tests/client/interop_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "metainfo/torrent_creator.h"
#include "metainfo/torrent_info.h"
#include "tests/testing/ports.h"

namespace bt::client::interop {

namespace fs = std::filesystem;

const char* const kPayloadFiles[3] = {"payload/video.bin",
                                      "payload/extras/notes.txt",
                                      "payload/extras/deep/image.bin"};

namespace {

void WriteRandom(const fs::path& p, size_t size, uint32_t seed) {
  fs::create_directories(p.parent_path());
  std::mt19937_64 rng(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t v = rng();
    std::memcpy(&data[i], &v, 8);
  }
  std::ofstream(p, std::ios::binary).write(data.data(), data.size());
}

std::string UrlEscape(const Sha1Hash& h) {
  std::string out;
  for (size_t i = 0; i < h.size(); ++i) absl::StrAppendFormat(&out, "%%%02X", h[i]);
  return out;
}

// ScrapeCount finds "<key>i<N>e" in a bencoded scrape body.
int ScrapeCount(const std::string& body, const std::string& key) {
  const std::string needle = absl::StrFormat("%d:%si", key.size(), key);
  size_t at = body.find(needle);
  if (at == std::string::npos) return -1;
  at += needle.size();
  size_t end = body.find('e', at);
  int n = -1;
  if (end == std::string::npos ||
      !absl::SimpleAtoi(body.substr(at, end - at), &n)) {
    return -1;
  }
  return n;
}

}  // namespace

void WritePayload(const std::string& dir) {
  // Its own bytes per test process, so its own info-hash: interop tests run
  // side by side, and a peer of another test that dials a port since
  // reused must not join this one's swarm (Transmission, for one, keeps
  // one peer per IP address, and every test's peers are on 127.0.0.1).
  static const uint32_t seed = std::random_device()();
  WriteRandom(fs::path(dir) / kPayloadFiles[0], 64 << 20, seed);
  WriteRandom(fs::path(dir) / kPayloadFiles[1], 5000, seed + 1);
  WriteRandom(fs::path(dir) / kPayloadFiles[2], 3 << 20, seed + 2);
}

absl::StatusOr<Sha1Hash> WriteTorrent(const std::string& dir,
                                      const std::string& path,
                                      const std::vector<std::string>& trackers) {
  metainfo::CreateOptions options;
  options.version = metainfo::TorrentVersion::kV1;
  options.piece_length = 256 * 1024;
  for (const std::string& t : trackers) options.trackers.push_back({t});
  absl::StatusOr<std::string> torrent =
      metainfo::CreateTorrent(dir + "/payload", options);
  if (!torrent.ok()) return torrent.status();
  absl::StatusOr<metainfo::TorrentInfo> info =
      metainfo::TorrentInfo::Parse(*torrent);
  if (!info.ok()) return info.status();
  std::ofstream(path, std::ios::binary) << *torrent;
  return *info->info_hash_v1();
}

std::vector<TransferCase> TransferCases() {
  using protocol::EncryptionPolicy;
  return {{false, EncryptionPolicy::kForced},
          {false, EncryptionPolicy::kDisabled},
          {true, EncryptionPolicy::kForced},
          {true, EncryptionPolicy::kDisabled}};
}

std::string PolicyName(protocol::EncryptionPolicy policy) {
  return std::string(protocol::EncryptionPolicyName(policy));
}

std::string TransferCaseName(const TransferCase& c, const std::string& peer) {
  return (c.btkit_seeds ? peer : std::string("Btkit")) + "Downloads_" +
         PolicyName(c.policy);
}

void WireEncryption::Watch(Client& client, Torrent* const& torrent) {
  client.OnEvent(EventType::kPeerConnect, [this, &torrent](const Event&) {
    if (torrent == nullptr) return true;
    for (const PeerInfo& p : torrent->peers()) {
      (p.encrypted ? encrypted_ : plain_) = true;
      (p.utp ? utp_ : tcp_) = true;
    }
    return true;
  });
}

void ConnectionDiary::Watch(Client& client) {
  start_ = absl::Now();
  client.OnEvent(EventType::kTrackerSuccess, [this](const Event& e) {
    std::string peers;
    for (const Endpoint& p : e.peers)
      absl::StrAppend(&peers, " ", p.ToString());
    Note(absl::StrCat("tracker answered ", e.announce_event, ", ",
                      e.peers.size(), " peers:", peers));
    return true;
  });
  client.OnEvent(EventType::kTrackerFailure, [this](const Event& e) {
    Note(absl::StrCat("tracker failed: ", e.reason));
    return true;
  });
  client.OnEvent(EventType::kPeerConnect, [this](const Event& e) {
    Note(absl::StrCat("handshake with ", e.peer.address.ToString(),
                      e.peer.incoming ? " (incoming)" : ""));
    return true;
  });
  client.OnEvent(EventType::kPeerDisconnect, [this](const Event& e) {
    Note(absl::StrCat("closed ", e.peer.address.ToString(),
                      e.peer.incoming ? " (incoming)" : "", ": ", e.reason));
    return true;
  });
}

void ConnectionDiary::Note(const std::string& line) {
  if (lines_.size() >= kMaxLines) {
    ++dropped_;
    return;
  }
  lines_.push_back(absl::StrFormat(
      "+%.1fs %s", absl::ToDoubleSeconds(absl::Now() - start_), line));
}

std::string ConnectionDiary::ToString() const {
  if (lines_.empty()) return "no tracker answer, handshake or close seen";
  std::string out = absl::StrJoin(lines_, "\n");
  if (dropped_ > 0) absl::StrAppend(&out, "\n(", dropped_, " more)");
  return out;
}

::testing::AssertionResult WireEncryption::OnlyOver(bool utp) const {
  if ((utp ? utp_ : tcp_) && !(utp ? tcp_ : utp_)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "wanted only " << (utp ? "uTP" : "TCP") << ", saw "
         << (utp_ ? "uTP " : "") << (tcp_ ? "TCP" : "")
         << (utp_ || tcp_ ? "" : "no connection");
}

::testing::AssertionResult WireEncryption::Matches(
    protocol::EncryptionPolicy policy) const {
  const bool want_encrypted = policy != protocol::EncryptionPolicy::kDisabled;
  const bool want_plain = policy != protocol::EncryptionPolicy::kForced;
  if ((encrypted_ && !want_encrypted) || (plain_ && !want_plain) ||
      (!encrypted_ && !plain_)) {
    return ::testing::AssertionFailure()
           << "policy " << PolicyName(policy) << " but connections seen: "
           << (encrypted_ ? "encrypted " : "") << (plain_ ? "plaintext" : "")
           << (encrypted_ || plain_ ? "" : "none");
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult DownloadAll(Client& client, Torrent& torrent,
                                       absl::Time deadline) {
  // The handler outlives this call: it counts into shared storage.
  auto passed = std::make_shared<int>(0);
  torrent.OnEvent(EventType::kPieceHashPass, [passed](const Event&) {
    ++*passed;
    return true;
  });
  while (!torrent.complete() && absl::Now() < deadline) {
    absl::Status s = client.DoOneLoop(0.01);
    if (!s.ok()) return ::testing::AssertionFailure() << s;
  }
  if (!torrent.complete()) {
    return ::testing::AssertionFailure()
           << torrent.pieces_have() << " of " << torrent.info().num_pieces()
           << " pieces before the deadline";
  }
  if (*passed != static_cast<int>(torrent.info().num_pieces())) {
    return ::testing::AssertionFailure()
           << *passed << " piece_hash_pass events for "
           << torrent.info().num_pieces() << " pieces";
  }
  return ::testing::AssertionSuccess();
}

int RunUntilExit(Client& client, testing::Subprocess& process,
                 absl::Time deadline) {
  while (absl::Now() < deadline) {
    if (!client.DoOneLoop(0.01).ok()) return -1;
    absl::StatusOr<int> done = process.Wait(absl::Now());
    if (done.ok()) return *done;
  }
  return -1;
}

::testing::AssertionResult SameFiles(const std::string& want_dir,
                                     const std::string& got_dir) {
  for (const char* f : kPayloadFiles) {
    const fs::path want = fs::path(want_dir) / f, got = fs::path(got_dir) / f;
    std::error_code ec;
    const auto want_size = fs::file_size(want, ec);
    const auto got_size = fs::file_size(got, ec);
    if (ec || want_size != got_size) {
      return ::testing::AssertionFailure()
             << got << ": size " << (ec ? -1 : static_cast<int64_t>(got_size))
             << ", want " << want_size;
    }
    std::ifstream a(want, std::ios::binary), b(got, std::ios::binary);
    std::string x(1 << 20, '\0'), y(1 << 20, '\0');
    for (uint64_t offset = 0; offset < want_size; offset += x.size()) {
      a.read(x.data(), x.size());
      b.read(y.data(), y.size());
      if (a.gcount() != b.gcount() ||
          std::memcmp(x.data(), y.data(), a.gcount()) != 0) {
        return ::testing::AssertionFailure()
               << got << " differs in the MiB at offset " << offset;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

absl::StatusOr<BtSeed> StartBtSeed(const std::string& torrent,
                                   const std::string& dir,
                                   const std::vector<std::string>& extra) {
  const char* bt = std::getenv("BT_BINARY");
  return ::bt::testing::StartListening([&](uint16_t port) {
    std::vector<std::string> argv = {bt ? bt : "client/cli/bt",
                                     "seed",
                                     torrent,
                                     dir,
                                     "--port",
                                     absl::StrCat(port),
                                     "--encryption",
                                     "disabled",
                                     "--dht-bootstrap=",
                                     "--no-lsd"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  });
}

absl::StatusOr<std::string> HttpGet(uint16_t port, const std::string& target) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in sin = ::bt::testing::LoopbackAddress(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrFormat("connect to %d failed", port));
  }
  const std::string request = absl::StrFormat(
      "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n", target, port);
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("send failed");
  }
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;) {
    response.append(buf, n);
  }
  close(fd);
  if (response.empty()) return absl::UnavailableError("empty response");
  return response;
}

absl::StatusOr<std::unique_ptr<Opentracker>> Opentracker::Start(
    const std::vector<Sha1Hash>& whitelist, absl::Time deadline) {
  std::unique_ptr<Opentracker> t(new Opentracker());
  t->dir_ = testing::TempDir("opentracker");
  fs::create_directories(t->dir_);
  chmod(t->dir_.c_str(), 0755);  // it may drop privileges before reading
  {
    std::ofstream wl(t->dir_ + "/whitelist");
    for (const Sha1Hash& h : whitelist) wl << h.ToHex() << "\n";
  }
  chmod((t->dir_ + "/whitelist").c_str(), 0644);
  // One port number for HTTP and UDP, both held by this opentracker (it
  // exits when it cannot bind).
  absl::StatusOr<::bt::testing::ListeningProcess> p =
      ::bt::testing::StartListening(
          [&](uint16_t port) {
            // It chroots to -d, so the whitelist path is relative to it.
            return std::vector<std::string>{kPath,
                                            "-i",
                                            "127.0.0.1",
                                            "-p",
                                            std::to_string(port),
                                            "-P",
                                            std::to_string(port),
                                            "-d",
                                            t->dir_,
                                            "-w",
                                            "whitelist"};
          },
          {.patience = std::max(deadline - absl::Now(), absl::ZeroDuration()),
           .udp_too = true});
  if (!p.ok()) return p.status();
  t->port_ = p->port;
  t->process_ = std::move(p->process);
  // It listens before it reads the whitelist, and lets "stopped" announces
  // through before that: probe with "started" until every info-hash is
  // accepted, then take the probe peer away with "stopped".
  for (const Sha1Hash& h : whitelist) {
    auto target = [&](const char* event) {
      return absl::StrFormat(
          "/announce?info_hash=%s&peer_id=-ZZ0000-probeprobepr&port=1"
          "&uploaded=0&downloaded=0&left=1&event=%s&compact=1",
          UrlEscape(h), event);
    };
    while (true) {
      absl::StatusOr<std::string> r = HttpGet(t->port_, target("started"));
      if (r.ok() && r->find("\r\n\r\nd") != std::string::npos &&
          r->find("failure reason") == std::string::npos) {
        (void)HttpGet(t->port_, target("stopped"));
        break;
      }
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(absl::StrFormat(
            "opentracker did not accept %s: %s", h.ToHex(),
            r.ok() ? *r : r.status().ToString()));
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  return t;
}

std::string Opentracker::http_url() const {
  return absl::StrFormat("http://127.0.0.1:%d/announce", port_);
}

std::string Opentracker::udp_url() const {
  return absl::StrFormat("udp://127.0.0.1:%d/announce", port_);
}

absl::StatusOr<std::pair<int, int>> Opentracker::Scrape(
    const Sha1Hash& info_hash) {
  absl::StatusOr<std::string> r = HttpGet(
      port_, absl::StrFormat("/scrape?info_hash=%s", UrlEscape(info_hash)));
  if (!r.ok()) return r.status();
  const int complete = ScrapeCount(*r, "complete");
  const int incomplete = ScrapeCount(*r, "incomplete");
  if (complete < 0 || incomplete < 0) {
    return absl::UnavailableError(absl::StrFormat("bad scrape reply: %s", *r));
  }
  return std::make_pair(complete, incomplete);
}

absl::Status Opentracker::WaitForPeers(const Sha1Hash& info_hash, int seeders,
                                       int leechers, absl::Time deadline) {
  while (true) {
    absl::StatusOr<std::pair<int, int>> s = Scrape(info_hash);
    if (s.ok() && s->first >= seeders && s->second >= leechers) {
      return absl::OkStatus();
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "tracker knows %s, want %d seeders and %d leechers",
          s.ok() ? absl::StrFormat("%d/%d", s->first, s->second)
                 : s.status().ToString(),
          seeders, leechers));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

}  // namespace bt::client::interop
