// wire_dump: prints the peer-wire messages of one captured TCP connection,
// per direction, built on btkit's protocol layer alone.
//
//   make_capture > c.cap && wire_dump c.cap
//   > @0 handshake info_hash=abab... peer_id=4141... reserved=0000000000100004
//   [fast extension] < @0 handshake ... > @68 extended id=0 payload=24 bytes
//
// Capture format: the file is a sequence of chunks, each
//
//   direction  1 byte: '>' initiator to responder, '<' responder to initiator
//   length     4 bytes, big-endian, at most 16 MiB
//   bytes      `length` bytes of that direction's TCP payload
//
// The chunks of one direction, in file order, are that direction's byte
// stream; each stream starts with the 68-byte handshake (plain, not MSE).
// Chunks may cut messages anywhere. Each printed line is the direction, the
// message's offset in its stream, its name and its fields.
//
// Exit status 1 if the capture is malformed, a stream breaks a peer-wire
// rule (the parser's message, naming the offset, is printed for that
// direction) or ends inside a message.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "base/file_util.h"
#include "base/hash.h"
#include "base/overloaded.h"
#include "protocol/handshake.h"
#include "protocol/message.h"
#include "protocol/message_parser.h"

namespace {

namespace proto = bt::protocol;

constexpr size_t kMaxCaptureSize = size_t{256} << 20;
constexpr uint32_t kMaxChunkLength = uint32_t{16} << 20;

std::string Range(uint32_t piece, uint32_t begin, uint32_t length) {
  return "piece=" + std::to_string(piece) + " begin=" + std::to_string(begin) +
         " length=" + std::to_string(length);
}

std::string ReservedHex(const proto::ReservedBits& r) {
  std::string bytes(r.bytes().begin(), r.bytes().end());
  return absl::BytesToHexString(bytes);
}

std::string HashRangeFields(const proto::HashRange& r) {
  return "root=" + r.pieces_root.ToHex() +
         " base=" + std::to_string(r.base_layer) +
         " index=" + std::to_string(r.index) +
         " length=" + std::to_string(r.length) +
         " proof_layers=" + std::to_string(r.proof_layers);
}

// Fields renders a message's fields (empty for messages without any).
std::string Fields(const proto::Message& m) {
  return std::visit(
      bt::Overloaded{
          [](const proto::Handshake& h) {
            std::string s = "info_hash=" + h.info_hash.ToHex() +
                            " peer_id=" + h.peer_id.ToHex() +
                            " reserved=" + ReservedHex(h.reserved);
            std::string bits;
            if (h.reserved.Has(proto::ReservedBit::kFast)) bits += " fast";
            if (h.reserved.Has(proto::ReservedBit::kExtension)) {
              bits += " extension";
            }
            if (h.reserved.Has(proto::ReservedBit::kDht)) bits += " dht";
            if (h.reserved.Has(proto::ReservedBit::kV2Upgrade)) bits += " v2";
            if (!bits.empty()) s += " [" + bits.substr(1) + "]";
            return s;
          },
          [](const proto::Have& h) {
            return "piece=" + std::to_string(h.piece);
          },
          [](const proto::Bitfield& b) {
            return "bits=" + absl::BytesToHexString(absl::string_view(
                                 b.bits.data(), b.bits.size()));
          },
          [](const proto::Request& r) {
            return Range(r.piece, r.begin, r.length);
          },
          [](const proto::Piece& p) {
            return Range(p.piece, p.begin, p.data.size());
          },
          [](const proto::Cancel& c) {
            return Range(c.piece, c.begin, c.length);
          },
          [](const proto::Reject& r) {
            return Range(r.piece, r.begin, r.length);
          },
          [](const proto::Port& p) { return "port=" + std::to_string(p.port); },
          [](const proto::Suggest& s) {
            return "piece=" + std::to_string(s.piece);
          },
          [](const proto::AllowedFast& a) {
            return "piece=" + std::to_string(a.piece);
          },
          [](const proto::Extended& e) {
            return "id=" + std::to_string(e.id) +
                   " payload=" + std::to_string(e.payload.size()) + " bytes";
          },
          [](const proto::HashRequest& r) { return HashRangeFields(r.range); },
          [](const proto::Hashes& h) {
            return HashRangeFields(h.range) +
                   " hashes=" + std::to_string(h.hashes.size() / 32);
          },
          [](const proto::HashReject& r) { return HashRangeFields(r.range); },
          [](const proto::UnknownMessage& u) {
            return "id=" + std::to_string(u.id) +
                   " payload=" + std::to_string(u.payload.size()) + " bytes";
          },
          [](const auto&) { return std::string(); },
      },
      m);
}

// Direction is one side's stream: its parser and whether it broke.
struct Direction {
  char tag;
  proto::MessageParser parser;
  bool failed = false;
};

// Drain prints every complete message `d` holds; on a parser error it
// prints the error and marks `d` failed.
void Drain(Direction& d) {
  while (!d.failed) {
    uint64_t offset = d.parser.stream_offset();
    absl::StatusOr<std::optional<proto::Message>> m = d.parser.Next();
    if (!m.ok()) {
      std::printf("%c error: %s\n", d.tag, m.status().ToString().c_str());
      d.failed = true;
      return;
    }
    if (!m->has_value()) return;
    std::string fields = Fields(**m);
    std::printf("%c @%llu %s%s%s\n", d.tag,
                static_cast<unsigned long long>(offset),
                std::string(proto::MessageName(**m)).c_str(),
                fields.empty() ? "" : " ", fields.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: wire_dump CAPTURE\n");
    return 2;
  }
  absl::StatusOr<std::string> capture =
      bt::ReadFileToString(argv[1], kMaxCaptureSize);
  if (!capture.ok()) {
    std::fprintf(stderr, "wire_dump: %s\n",
                 capture.status().ToString().c_str());
    return 1;
  }
  proto::ParserOptions options;
  options.expect_handshake = true;
  Direction out{'>', proto::MessageParser(options)};
  Direction in{'<', proto::MessageParser(options)};

  std::string_view rest = *capture;
  while (!rest.empty()) {
    size_t at = capture->size() - rest.size();
    if (rest.size() < 5 || (rest[0] != '>' && rest[0] != '<')) {
      std::fprintf(stderr, "wire_dump: %s: bad chunk header at byte %zu\n",
                   argv[1], at);
      return 1;
    }
    uint32_t length = 0;
    for (int i = 1; i <= 4; ++i) {
      length = (length << 8) | static_cast<uint8_t>(rest[i]);
    }
    if (length > kMaxChunkLength || length > rest.size() - 5) {
      std::fprintf(stderr,
                   "wire_dump: %s: chunk at byte %zu: length %u exceeds %s\n",
                   argv[1], at, length,
                   length > kMaxChunkLength ? "16 MiB" : "the file");
      return 1;
    }
    Direction& d = rest[0] == '>' ? out : in;
    if (!d.failed) {
      d.parser.Feed(rest.substr(5, length));
      Drain(d);
    }
    rest.remove_prefix(5 + length);
  }

  int status = 0;
  for (Direction* d : {&out, &in}) {
    if (d->failed) {
      status = 1;
    } else if (d->parser.handshake_pending() ||
               d->parser.buffered_bytes() > 0) {
      std::printf("%c error: stream ends inside a message at byte %llu\n",
                  d->tag,
                  static_cast<unsigned long long>(d->parser.stream_offset()));
      status = 1;
    }
  }
  return status;
}
