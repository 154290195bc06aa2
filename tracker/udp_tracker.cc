#include "tracker/udp_tracker.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "base/byte_reader.h"
#include "base/byte_writer.h"
#include "base/random.h"
#include "metainfo/compact.h"

namespace bt::tracker {
namespace {

constexpr size_t kMaxErrorMessage = 1024;
constexpr size_t kAnnounceRequestSize = 98;

absl::Status Malformed(std::string_view what, const ByteReader& r,
                       std::string_view why) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "UDP tracker %s: %s at byte %d of %d", what, why, r.offset(),
      r.offset() + r.remaining()));
}

std::string Sanitize(std::string_view s) {
  std::string out(s.substr(0, kMaxErrorMessage));
  for (char& c : out) {
    if (static_cast<uint8_t>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

bool DottedIpv4(std::string_view ip, uint32_t* out) {
  absl::StatusOr<Endpoint> e = Endpoint::ParseAddress(ip, 0);
  if (!e.ok() || !e->is_v4()) return false;
  ByteSpan b = e->address_bytes();
  *out = uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
  return true;
}

}  // namespace

std::string BuildUdpConnectRequest(uint32_t transaction_id) {
  std::string out;
  ByteWriter(&out)
      .U64(kUdpProtocolId)
      .U32(static_cast<uint32_t>(UdpAction::kConnect))
      .U32(transaction_id);
  return out;
}

std::string BuildUdpAnnounceRequest(uint64_t connection_id,
                                    uint32_t transaction_id,
                                    const AnnounceRequest& r,
                                    std::string_view url_data) {
  std::string out;
  out.reserve(kAnnounceRequestSize + url_data.size() + 8);
  uint32_t ip = 0;
  if (!r.ip.empty()) DottedIpv4(r.ip, &ip);
  ByteWriter w(&out);
  w.U64(connection_id)
      .U32(static_cast<uint32_t>(UdpAction::kAnnounce))
      .U32(transaction_id)
      .Bytes(r.info_hash.span())
      .Bytes(r.peer_id.span())
      .U64(static_cast<uint64_t>(r.downloaded))
      .U64(static_cast<uint64_t>(r.left))
      .U64(static_cast<uint64_t>(r.uploaded))
      .U32(static_cast<uint32_t>(r.event))
      .U32(ip)
      .U32(r.key)
      .U32(static_cast<uint32_t>(r.numwant.value_or(-1)))
      .U16(r.port);
  if (url_data != "/") {
    while (!url_data.empty()) {
      std::string_view chunk = url_data.substr(0, 255);
      w.U8(2).U8(static_cast<uint8_t>(chunk.size())).Bytes(chunk);
      url_data.remove_prefix(chunk.size());
    }
  }
  return out;
}

std::string BuildUdpScrapeRequest(uint64_t connection_id,
                                  uint32_t transaction_id,
                                  absl::Span<const Sha1Hash> info_hashes) {
  std::string out;
  ByteWriter w(&out);
  w.U64(connection_id)
      .U32(static_cast<uint32_t>(UdpAction::kScrape))
      .U32(transaction_id);
  size_t n = std::min(info_hashes.size(), kMaxUdpScrapeHashes);
  for (size_t i = 0; i < n; ++i) w.Bytes(info_hashes[i].span());
  return out;
}

absl::StatusOr<UdpTrackerReply> ParseUdpTrackerReply(std::string_view packet,
                                                     bool ipv6) {
  ByteReader r(packet);
  uint32_t action, txid;
  if (!r.ReadU32(&action) || !r.ReadU32(&txid)) {
    return r.Truncated("UDP tracker reply header");
  }
  switch (action) {
    case 0: {
      UdpConnectReply c{txid, 0};
      if (!r.ReadU64(&c.connection_id)) return r.Truncated("UDP tracker connect reply");
      return c;  // BEP 15: do not expect exact sizes
    }
    case 1: {
      UdpAnnounceReply a;
      a.transaction_id = txid;
      if (!r.ReadU32(&a.interval) || !r.ReadU32(&a.leechers) ||
          !r.ReadU32(&a.seeders)) {
        return r.Truncated("UDP tracker announce reply");
      }
      std::string_view rest = AsChars(r.Rest());
      absl::StatusOr<std::vector<Endpoint>> peers =
          ipv6 ? metainfo::ParseCompactPeers6(rest)
               : metainfo::ParseCompactPeers4(rest);
      if (!peers.ok()) {
        return Malformed("announce reply", r, std::string(peers.status().message()));
      }
      a.peers = std::move(*peers);
      return a;
    }
    case 2: {
      UdpScrapeReply s;
      s.transaction_id = txid;
      if (r.remaining() % 12 != 0) {
        return Malformed("scrape reply", r,
                         absl::StrFormat("%d bytes of counts is not a multiple "
                                         "of 12",
                                         r.remaining()));
      }
      while (!r.empty()) {
        UdpScrapeCounts c;
        r.ReadU32(&c.seeders);
        r.ReadU32(&c.completed);
        r.ReadU32(&c.leechers);
        s.counts.push_back(c);
      }
      return s;
    }
    case 3:
      return UdpErrorReply{txid, Sanitize(AsChars(r.Rest()))};
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("UDP tracker reply: unknown action %d", action));
  }
}

absl::StatusOr<UdpTrackerRequest> ParseUdpTrackerRequest(
    std::string_view packet) {
  ByteReader r(packet);
  uint64_t cid;
  uint32_t action, txid;
  if (!r.ReadU64(&cid) || !r.ReadU32(&action) || !r.ReadU32(&txid)) {
    return r.Truncated("UDP tracker request header");
  }
  switch (action) {
    case 0:
      if (cid != kUdpProtocolId) {
        return Malformed("connect request", r, "wrong protocol id");
      }
      if (!r.empty()) return r.Trailing("UDP tracker connect request");
      return UdpConnectRequest{txid};
    case 1: {
      UdpAnnounceRequest a;
      a.connection_id = cid;
      a.transaction_id = txid;
      AnnounceRequest& q = a.request;
      uint64_t downloaded, left, uploaded;
      uint32_t event, ip, key, numwant;
      if (!r.CopyBytes(20, q.info_hash.data()) ||
          !r.CopyBytes(20, q.peer_id.data()) || !r.ReadU64(&downloaded) ||
          !r.ReadU64(&left) || !r.ReadU64(&uploaded) || !r.ReadU32(&event) ||
          !r.ReadU32(&ip) || !r.ReadU32(&key) || !r.ReadU32(&numwant) ||
          !r.ReadU16(&q.port)) {
        return r.Truncated("UDP tracker announce request");
      }
      if (event > 3) return Malformed("announce request", r, "bad event");
      q.downloaded = static_cast<int64_t>(downloaded);
      q.left = static_cast<int64_t>(left);
      q.uploaded = static_cast<int64_t>(uploaded);
      q.event = static_cast<AnnounceEvent>(event);
      if (ip != 0) {
        q.ip = absl::StrFormat("%d.%d.%d.%d", ip >> 24, (ip >> 16) & 255,
                               (ip >> 8) & 255, ip & 255);
      }
      q.key = key;
      if (static_cast<int32_t>(numwant) != -1) {
        q.numwant = static_cast<int32_t>(numwant);
      }
      // BEP 41 options.
      while (!r.empty()) {
        uint8_t type;
        r.ReadU8(&type);
        if (type == 0) break;  // EndOfOptions
        if (type == 1) continue;  // NOP
        uint8_t len;
        ByteSpan data;
        if (!r.ReadU8(&len) || !r.ReadBytes(len, &data)) {
          return r.Truncated("UDP tracker announce option");
        }
        if (type == 2) a.url_data.append(AsChars(data));
      }
      return a;
    }
    case 2: {
      UdpScrapeRequest s;
      s.connection_id = cid;
      s.transaction_id = txid;
      if (r.remaining() % 20 != 0 || r.remaining() / 20 > kMaxUdpScrapeHashes) {
        return Malformed("scrape request", r,
                         "info-hashes are not whole 20-byte hashes or too many");
      }
      while (!r.empty()) {
        Sha1Hash h;
        r.CopyBytes(20, h.data());
        s.info_hashes.push_back(h);
      }
      return s;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("UDP tracker request: unknown action %d", action));
  }
}

std::string BuildUdpConnectReply(uint32_t transaction_id,
                                 uint64_t connection_id) {
  std::string out;
  ByteWriter(&out)
      .U32(static_cast<uint32_t>(UdpAction::kConnect))
      .U32(transaction_id)
      .U64(connection_id);
  return out;
}

std::string BuildUdpAnnounceReply(const UdpAnnounceReply& a) {
  std::string out;
  ByteWriter(&out)
      .U32(static_cast<uint32_t>(UdpAction::kAnnounce))
      .U32(a.transaction_id)
      .U32(a.interval)
      .U32(a.leechers)
      .U32(a.seeders);
  for (const Endpoint& e : a.peers) metainfo::AppendCompactPeer(e, &out);
  return out;
}

std::string BuildUdpScrapeReply(const UdpScrapeReply& s) {
  std::string out;
  ByteWriter w(&out);
  w.U32(static_cast<uint32_t>(UdpAction::kScrape)).U32(s.transaction_id);
  for (const UdpScrapeCounts& c : s.counts) {
    w.U32(c.seeders).U32(c.completed).U32(c.leechers);
  }
  return out;
}

std::string BuildUdpErrorReply(uint32_t transaction_id,
                               std::string_view message) {
  std::string out;
  ByteWriter(&out)
      .U32(static_cast<uint32_t>(UdpAction::kError))
      .U32(transaction_id)
      .Bytes(message);
  return out;
}

// ---- UdpTrackerExchange ------------------------------------------------------

UdpTrackerExchange UdpTrackerExchange::Announce(AnnounceRequest request,
                                                std::string url_data,
                                                bool ipv6,
                                                UdpConnectionId* connection,
                                                UdpTrackerOptions options) {
  UdpTrackerExchange ex(Kind::kAnnounce, ipv6, connection, options);
  ex.request_ = std::move(request);
  ex.url_data_ = std::move(url_data);
  return ex;
}

UdpTrackerExchange UdpTrackerExchange::Scrape(std::vector<Sha1Hash> info_hashes,
                                              bool ipv6,
                                              UdpConnectionId* connection,
                                              UdpTrackerOptions options) {
  UdpTrackerExchange ex(Kind::kScrape, ipv6, connection, options);
  if (info_hashes.size() > kMaxUdpScrapeHashes) {
    info_hashes.resize(kMaxUdpScrapeHashes);
  }
  ex.info_hashes_ = std::move(info_hashes);
  return ex;
}

bool UdpTrackerExchange::ConnectionFresh(TimePoint now) const {
  return connection_->id.has_value() &&
         now - connection_->obtained < options_.connection_id_lifetime;
}

void UdpTrackerExchange::Start(TimePoint now) {
  if (state_ != State::kIdle) return;
  if (ConnectionFresh(now)) {
    SendRequest(now);
  } else {
    SendConnect(now);
  }
}

void UdpTrackerExchange::ArmTimer(TimePoint now) {
  int n = std::min(backoff_n_, 8);
  deadline_ = now + options_.base_timeout * (1 << n);
  ++backoff_n_;
}

void UdpTrackerExchange::SendConnect(TimePoint now) {
  if (state_ != State::kConnecting) transaction_id_ = RandomU32();
  state_ = State::kConnecting;
  outgoing_ = BuildUdpConnectRequest(transaction_id_);
  ArmTimer(now);
}

void UdpTrackerExchange::SendRequest(TimePoint now) {
  if (state_ != State::kRequesting) transaction_id_ = RandomU32();
  state_ = State::kRequesting;
  uint64_t cid = *connection_->id;
  outgoing_ = kind_ == Kind::kAnnounce
                  ? BuildUdpAnnounceRequest(cid, transaction_id_, request_,
                                            url_data_)
                  : BuildUdpScrapeRequest(cid, transaction_id_, info_hashes_);
  ArmTimer(now);
}

std::optional<std::string> UdpTrackerExchange::TakePacket() {
  std::optional<std::string> p = std::move(outgoing_);
  outgoing_.reset();
  return p;
}

void UdpTrackerExchange::Finish(absl::Status error) {
  state_ = State::kDone;
  deadline_ = TimePoint::max();
  outgoing_.reset();
  if (!error.ok()) {
    announce_result_ = error;
    scrape_result_ = error;
  }
}

void UdpTrackerExchange::OnTimeout(TimePoint now) {
  if (state_ == State::kDone || state_ == State::kIdle || now < deadline_) {
    return;
  }
  ++timeouts_;
  if (timeouts_ >= options_.max_timeouts) {
    std::string ignored;
    if (ignored_ > 0) {
      ignored = absl::StrFormat(" (ignored %d packets; last: %s)", ignored_,
                                last_ignored_reason_);
    }
    Finish(absl::UnavailableError(absl::StrFormat(
        "UDP tracker did not answer the %s %s after %d attempts%s",
        state_ == State::kConnecting ? "connect" : "request",
        kind_ == Kind::kAnnounce ? "(announce)" : "(scrape)", timeouts_,
        ignored)));
    return;
  }
  if (state_ == State::kConnecting || !ConnectionFresh(now)) {
    SendConnect(now);  // same transaction id when already connecting
  } else {
    SendRequest(now);  // retransmission, same transaction id
  }
}

void UdpTrackerExchange::OnDatagram(std::string_view packet, TimePoint now) {
  if (state_ != State::kConnecting && state_ != State::kRequesting) return;
  absl::StatusOr<UdpTrackerReply> reply = ParseUdpTrackerReply(packet, ipv6_);
  auto ignore = [&](std::string reason) {
    ++ignored_;
    last_ignored_reason_ = std::move(reason);
  };
  if (!reply.ok()) {
    // A reply that is ours but malformed ends the exchange; anything else
    // unparseable is ignored.
    ByteReader r(packet);
    uint32_t action, txid;
    if (r.ReadU32(&action) && r.ReadU32(&txid) && txid == transaction_id_) {
      Finish(reply.status());
      return;
    }
    ignore(std::string(reply.status().message()));
    return;
  }
  uint32_t txid = std::visit([](const auto& v) { return v.transaction_id; },
                             *reply);
  if (txid != transaction_id_) {
    ignore(absl::StrFormat("wrong transaction id %08x (expected %08x)", txid,
                           transaction_id_));
    return;
  }
  if (auto* err = std::get_if<UdpErrorReply>(&*reply)) {
    std::string reason = err->message.empty() ? "tracker sent an error packet"
                                              : err->message;
    if (kind_ == Kind::kAnnounce) {
      AnnounceResponse r;
      r.failure_reason = reason;
      announce_result_ = r;
    } else {
      ScrapeResponse r;
      r.failure_reason = reason;
      scrape_result_ = r;
    }
    Finish(absl::OkStatus());
    return;
  }
  if (state_ == State::kConnecting) {
    auto* c = std::get_if<UdpConnectReply>(&*reply);
    if (c == nullptr) {
      ignore("reply of the wrong action while connecting");
      return;
    }
    connection_->id = c->connection_id;
    connection_->obtained = now;
    backoff_n_ = 0;
    SendRequest(now);
    return;
  }
  if (kind_ == Kind::kAnnounce) {
    auto* a = std::get_if<UdpAnnounceReply>(&*reply);
    if (a == nullptr) {
      ignore("reply of the wrong action to an announce");
      return;
    }
    AnnounceResponse r;
    r.interval = a->interval;
    r.complete = a->seeders;
    r.incomplete = a->leechers;
    r.peers.reserve(a->peers.size());
    for (const Endpoint& e : a->peers) r.peers.push_back(TrackerPeer{e, {}});
    announce_result_ = std::move(r);
    Finish(absl::OkStatus());
    return;
  }
  auto* s = std::get_if<UdpScrapeReply>(&*reply);
  if (s == nullptr) {
    ignore("reply of the wrong action to a scrape");
    return;
  }
  if (s->counts.size() != info_hashes_.size()) {
    Finish(absl::InvalidArgumentError(absl::StrFormat(
        "UDP tracker scrape reply has %d entries for %d info-hashes",
        s->counts.size(), info_hashes_.size())));
    return;
  }
  ScrapeResponse r;
  for (size_t i = 0; i < info_hashes_.size(); ++i) {
    r.files.push_back(ScrapeEntry{info_hashes_[i], s->counts[i].seeders,
                                  s->counts[i].leechers,
                                  s->counts[i].completed});
  }
  scrape_result_ = std::move(r);
  Finish(absl::OkStatus());
}

}  // namespace bt::tracker
