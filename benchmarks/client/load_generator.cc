// load_generator: many BitTorrent downloaders in one process against one
// seeder, for the "many peers" benchmark (many_peers_benchmark.py).
//
//   load_generator --torrent T.torrent --peer 127.0.0.1:PORT
//                  [--downloaders 200] [--pipeline 32] [--timeout 300]
//
// Each downloader is its own TCP connection with its own peer id
// (LoadDownloader: plain BEP 3, interested, a pipeline of block requests
// while unchoked, every piece checked against its SHA-1) and downloads the
// whole torrent, starting at a piece of its own so they spread over it.
// All connect at once; a downloader closes its connection when complete.
// Prints aggregate throughput (verified bytes / time until the last one
// completes), per-downloader rate (payload / its completion time) min,
// mean and max, fairness (min / mean), request -> block latency p50 and
// p99, hash failures and connection errors, and last a line
// "json: {...}" with the same numbers for scripts. Exit status 0 when every
// downloader completed without a hash failure, 1 otherwise, 2 on usage or
// setup errors.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "base/file_util.h"
#include "base/status_macros.h"
#include "benchmarks/client/load_downloader.h"
#include "client/net/event_loop.h"
#include "metainfo/peer_id.h"
#include "metainfo/torrent_info.h"

namespace bt::benchmarks {
namespace {

using client::EventLoop;

struct Flags {
  std::string torrent;
  sockaddr_in peer{};
  int downloaders = 200;
  int pipeline = 32;
  double timeout_seconds = 300;
};

// One downloader's connection and what it measured.
struct Conn {
  int fd = -1;
  std::unique_ptr<LoadDownloader> d;
  std::string out;
  size_t out_pos = 0;
  bool connected = false;
  bool done = false;
  bool closed = false;
  double connect_seconds = 0;
  double done_seconds = 0;
  std::string error;  // non-empty: the connection failed
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    absl::string_view name = argv[i];
    if (i + 1 >= argc) {
      return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
    }
    absl::string_view value = argv[++i];
    bool ok = true;
    if (name == "--torrent") {
      f.torrent = std::string(value);
    } else if (name == "--peer") {
      size_t colon = value.rfind(':');
      int port = 0;
      std::string host(value.substr(0, colon));
      ok = colon != absl::string_view::npos &&
           absl::SimpleAtoi(value.substr(colon + 1), &port) &&
           inet_pton(AF_INET, host.c_str(), &f.peer.sin_addr) == 1;
      f.peer.sin_family = AF_INET;
      f.peer.sin_port = htons(port);
    } else if (name == "--downloaders") {
      ok = absl::SimpleAtoi(value, &f.downloaders) && f.downloaders > 0;
    } else if (name == "--pipeline") {
      ok = absl::SimpleAtoi(value, &f.pipeline) && f.pipeline > 0;
    } else if (name == "--timeout") {
      ok = absl::SimpleAtod(value, &f.timeout_seconds);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name));
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad value for ", name, ": ", value));
    }
  }
  if (f.torrent.empty() || f.peer.sin_port == 0) {
    return absl::InvalidArgumentError("--torrent and --peer are required");
  }
  return f;
}

// Generator drives every connection on one EventLoop.
class Generator {
 public:
  Generator(const Flags& flags, const LoadTarget* target, EventLoop* loop)
      : flags_(flags),
        target_(target),
        loop_(loop),
        conns_(flags.downloaders) {}

  // Run connects every downloader and runs until all are complete or
  // failed, or the timeout passes (the rest then fail).
  absl::Status Run() {
    start_ = EventLoop::Now();
    for (int i = 0; i < flags_.downloaders; ++i) {
      Connect(i);
    }
    const auto deadline =
        start_ + std::chrono::duration_cast<EventLoop::Duration>(
                     std::chrono::duration<double>(flags_.timeout_seconds));
    auto next_keepalive = start_ + std::chrono::seconds(30);
    while (running_ > 0) {
      RETURN_IF_ERROR(loop_->RunOnce(0.2).status());
      const auto now = EventLoop::Now();
      if (now >= deadline) {
        for (int i = 0; i < flags_.downloaders; ++i) {
          if (conns_[i].fd >= 0) Fail(i, "timed out");
        }
      } else if (now >= next_keepalive) {
        next_keepalive = now + std::chrono::seconds(30);
        for (int i = 0; i < flags_.downloaders; ++i) {
          if (conns_[i].fd >= 0 && conns_[i].connected) {
            protocol::AppendKeepAlive(&conns_[i].out);
            Flush(i);
          }
        }
      }
    }
    return absl::OkStatus();
  }

  const std::vector<Conn>& conns() const { return conns_; }

 private:
  double Elapsed() const {
    return std::chrono::duration<double>(EventLoop::Now() - start_).count();
  }

  void Connect(int i) {
    Conn& c = conns_[i];
    ++running_;
    LoadDownloaderOptions options;
    options.peer_id = metainfo::GeneratePeerId("-LG0001-");
    options.pipeline = flags_.pipeline;
    options.first_piece =
        static_cast<uint64_t>(i) * target_->num_pieces() / flags_.downloaders;
    c.d = std::make_unique<LoadDownloader>(target_, options);
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      return Fail(i, absl::StrCat("socket: ", strerror(errno)));
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c.fd, reinterpret_cast<const sockaddr*>(&flags_.peer),
                sizeof flags_.peer) != 0 &&
        errno != EINPROGRESS) {
      return Fail(i, absl::StrCat("connect: ", strerror(errno)));
    }
    absl::Status s =
        loop_->Watch(c.fd, EventLoop::kWritable,
                     [this, i](uint32_t ready) { OnReady(i, ready); });
    if (!s.ok()) Fail(i, s.ToString());
  }

  void OnReady(int i, uint32_t ready) {
    Conn& c = conns_[i];
    if (!c.connected) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return Fail(i, absl::StrCat("connect: ", strerror(err)));
      c.connected = true;
      c.connect_seconds = Elapsed();
      c.d->Start(&c.out);
      return Flush(i);
    }
    if (ready &
        (EventLoop::kReadable | EventLoop::kHangup | EventLoop::kError)) {
      // A few reads per wakeup, so that one busy connection cannot hold
      // the loop.
      for (int reads = 0; reads < 4 && c.fd >= 0; ++reads) {
        ssize_t n = read(c.fd, buf_.data(), buf_.size());
        if (n == 0) return Fail(i, "the seeder closed the connection");
        if (n < 0) {
          if (errno == EAGAIN || errno == EINTR) break;
          return Fail(i, absl::StrCat("read: ", strerror(errno)));
        }
        absl::Status s = c.d->OnReceived(std::string_view(buf_.data(), n),
                                         EventLoop::Now(), &c.out);
        if (!s.ok()) return Fail(i, s.ToString());
        if (c.d->complete()) return Finish(i);
        if (static_cast<size_t>(n) < buf_.size()) break;
      }
    }
    Flush(i);
  }

  void Flush(int i) {
    Conn& c = conns_[i];
    while (c.out_pos < c.out.size()) {
      ssize_t n =
          write(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        return Fail(i, absl::StrCat("write: ", strerror(errno)));
      }
      c.out_pos += n;
    }
    if (c.out_pos == c.out.size()) {
      c.out.clear();
      c.out_pos = 0;
    }
    uint32_t interest = EventLoop::kReadable;
    if (!c.out.empty()) interest |= EventLoop::kWritable;
    (void)loop_->SetInterest(c.fd, interest);
  }

  void Finish(int i) {
    conns_[i].done = true;
    conns_[i].done_seconds = Elapsed();
    Close(i);
  }

  void Fail(int i, std::string error) {
    conns_[i].error = std::move(error);
    Close(i);
  }

  void Close(int i) {
    Conn& c = conns_[i];
    if (c.closed) return;
    c.closed = true;
    if (c.fd >= 0) {
      loop_->Unwatch(c.fd);
      close(c.fd);
      c.fd = -1;
    }
    --running_;
  }

  const Flags& flags_;
  const LoadTarget* target_;
  EventLoop* loop_;
  std::vector<Conn> conns_;
  std::vector<char> buf_ = std::vector<char>(256 << 10);
  EventLoop::TimePoint start_;
  int running_ = 0;
};

double Percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

// Report prints the summary and the json line; returns whether every
// downloader completed with no hash failure.
bool Report(const Flags& flags, const LoadTarget& target,
            const std::vector<Conn>& conns) {
  const double mib = 1 << 20;
  int complete = 0, errors = 0;
  uint64_t hash_failures = 0, chokes = 0, duplicates = 0;
  double verified = 0, last = 0, connect_max = 0;
  double min_rate = 1e300, max_rate = 0, sum_rate = 0;
  std::vector<uint32_t> latencies;
  std::string first_error;
  for (const Conn& c : conns) {
    hash_failures += c.d->hash_failures();
    chokes += c.d->chokes();
    duplicates += c.d->duplicate_blocks();
    verified += c.d->verified_bytes();
    connect_max = std::max(connect_max, c.connect_seconds);
    latencies.insert(latencies.end(), c.d->latencies_us().begin(),
                     c.d->latencies_us().end());
    if (!c.error.empty()) {
      ++errors;
      if (first_error.empty()) first_error = c.error;
      continue;
    }
    ++complete;
    last = std::max(last, c.done_seconds);
    const double rate = target.total_size / c.done_seconds;
    min_rate = std::min(min_rate, rate);
    max_rate = std::max(max_rate, rate);
    sum_rate += rate;
  }
  if (complete == 0) min_rate = 0;
  const double mean_rate = complete ? sum_rate / complete : 0;
  const double aggregate = last > 0 ? verified / last : 0;
  const double fairness = mean_rate > 0 ? min_rate / mean_rate : 0;
  const double p50 = Percentile(latencies, 0.50) / 1000;
  const double p99 = Percentile(latencies, 0.99) / 1000;
  absl::PrintF(
      "%d downloaders of %.1f MiB, pipeline %d: %d complete, %d failed%s%s\n",
      flags.downloaders, target.total_size / mib, flags.pipeline, complete,
      errors, first_error.empty() ? "" : " (first error: ", first_error);
  if (!first_error.empty()) absl::PrintF(")\n");
  absl::PrintF("aggregate %.1f MiB/s: %.1f MiB verified in %.2f s\n",
               aggregate / mib, verified / mib, last);
  absl::PrintF(
      "per downloader MiB/s: min %.2f mean %.2f max %.2f, fairness "
      "min/mean %.2f\n",
      min_rate / mib, mean_rate / mib, max_rate / mib, fairness);
  absl::PrintF(
      "request -> block ms: p50 %.1f p99 %.1f (%d blocks); slowest connect "
      "%.2f s; chokes %d, duplicate blocks %d\n",
      p50, p99, latencies.size(), connect_max, chokes, duplicates);
  absl::PrintF("hash failures %d, connection errors %d\n", hash_failures,
               errors);
  absl::PrintF(
      "json: {\"downloaders\": %d, \"complete\": %d, \"errors\": %d, "
      "\"hash_failures\": %d, \"seconds\": %.3f, \"aggregate_bps\": %.0f, "
      "\"min_bps\": %.0f, \"mean_bps\": %.0f, \"max_bps\": %.0f, "
      "\"fairness\": %.4f, \"latency_p50_ms\": %.2f, \"latency_p99_ms\": "
      "%.2f, \"connect_max_s\": %.3f, \"chokes\": %d}\n",
      flags.downloaders, complete, errors, hash_failures, last, aggregate,
      min_rate, mean_rate, max_rate, fairness, p50, p99, connect_max, chokes);
  return errors == 0 && hash_failures == 0;
}

int Main(int argc, char** argv) {
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    absl::FPrintF(stderr,
                  "load_generator: %s\nusage: load_generator --torrent FILE "
                  "--peer IPV4:PORT [--downloaders N] [--pipeline N] "
                  "[--timeout SECONDS]\n",
                  flags.status().message());
    return 2;
  }
  absl::StatusOr<std::string> bytes =
      ReadFileToString(flags->torrent, 64 << 20);
  absl::StatusOr<metainfo::TorrentInfo> info =
      bytes.ok() ? metainfo::TorrentInfo::Parse(*bytes)
                 : absl::StatusOr<metainfo::TorrentInfo>(bytes.status());
  absl::StatusOr<LoadTarget> target =
      info.ok() ? LoadTarget::FromTorrent(*info)
                : absl::StatusOr<LoadTarget>(info.status());
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  absl::Status setup = !target.ok() ? target.status() : loop.status();
  if (!setup.ok()) {
    absl::FPrintF(stderr, "load_generator: %s: %s\n", flags->torrent,
                  setup.ToString());
    return 2;
  }
  Generator generator(*flags, &*target, loop->get());
  if (absl::Status s = generator.Run(); !s.ok()) {
    absl::FPrintF(stderr, "load_generator: %s\n", s.ToString());
    return 2;
  }
  return Report(*flags, *target, generator.conns()) ? 0 : 1;
}

}  // namespace
}  // namespace bt::benchmarks

int main(int argc, char** argv) { return bt::benchmarks::Main(argc, argv); }
