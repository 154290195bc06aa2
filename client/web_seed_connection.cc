#include "client/web_seed_connection.h"

#include <array>

namespace bt::client {

WebSeedConnection::WebSeedConnection(EventLoop* loop, Resolver* resolver,
                                     uint64_t id, WebSeed seed, Host host,
                                     WebSeedConnectionOptions options)
    : loop_(loop),
      resolver_(resolver),
      id_(id),
      seed_(std::move(seed)),
      host_(std::move(host)),
      options_(options) {}

WebSeedConnection::~WebSeedConnection() { fetch_.reset(); }

Endpoint WebSeedConnection::BlameAddress(uint64_t id) {
  std::array<uint8_t, 16> a{};
  a[0] = 0x01;  // 0100::/64
  for (int i = 0; i < 8; ++i) a[15 - i] = static_cast<uint8_t>(id >> (8 * i));
  return Endpoint::V6(a, 0);
}

void WebSeedConnection::Pump() {
  if (fetch_ || !seed_.Ready(host_.now())) return;
  std::vector<BlockRef> picked = host_.pick(id_, seed_.MaxBlocks());
  if (picked.empty()) return;
  std::vector<BlockRef> rest = seed_.Begin(std::move(picked));
  if (!rest.empty()) host_.give_back(id_, rest);
  if (seed_.busy()) Advance();
}

void WebSeedConnection::Advance() {
  if (!seed_.RunComplete()) return SendNext();
  Liveness::Token token = liveness_.token();
  for (auto& [block, data] : seed_.TakeBlocks()) {
    host_.deliver(id_, block, std::move(data));
  }
  // The next run starts from the loop, not from inside this call stack.
  loop_->Post([this, token] {
    if (token.alive()) Pump();
  });
}

void WebSeedConnection::SendNext() {
  const WebSeedRequest* r = seed_.NextRequest();
  if (r == nullptr) return;
  HttpFetchOptions o;
  o.timeout = absl::ToChronoMilliseconds(options_.request_timeout);
  o.max_redirects = options_.max_redirects;
  o.resolver = resolver_;
  o.extra_headers = r->RangeHeader();
  // A body past the asked length is refused by the parser, so a server
  // that ignores the range costs at most this much memory.
  o.limits.max_body_bytes = static_cast<size_t>(r->length);
  Liveness::Token token = liveness_.token();
  fetch_ = HttpFetch::Start(
      loop_, r->url, std::move(o), {},
      [this, token](absl::StatusOr<tracker::HttpResponse> result) {
        if (token.alive()) OnFetched(std::move(result));
      });
}

void WebSeedConnection::OnFetched(absl::StatusOr<tracker::HttpResponse> r) {
  fetch_.reset();
  if (!r.ok()) return Failed(r.status());
  if (absl::Status s = seed_.OnResponse(*r); !s.ok()) return Failed(s);
  bytes_received_ += static_cast<int64_t>(r->body.size());
  Advance();
}

void WebSeedConnection::Failed(absl::Status status) {
  last_error_ = status;
  std::vector<BlockRef> blocks = seed_.Fail(host_.now());
  if (!blocks.empty()) host_.give_back(id_, blocks);
  if (host_.on_error) host_.on_error(id_, status);
}

void WebSeedConnection::Stop() {
  fetch_.reset();
  std::vector<BlockRef> blocks = seed_.Abandon();
  if (!blocks.empty()) host_.give_back(id_, blocks);
}

void WebSeedConnection::Drop(std::string reason) {
  fetch_.reset();
  std::vector<BlockRef> blocks = seed_.Drop(std::move(reason));
  if (!blocks.empty()) host_.give_back(id_, blocks);
}

}  // namespace bt::client
