// Fuzzes MessageParser: the input (after a 2-byte options header) is parsed
// once whole and once in small chunks; both must yield the same messages,
// each re-encoding to exactly the bytes it came from, and the same error.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/message.h"
#include "protocol/message_parser.h"

namespace {

using bt::protocol::Message;
using bt::protocol::MessageParser;
using bt::protocol::ParserOptions;

std::vector<std::string> Run(std::string_view input, const ParserOptions& o,
                             size_t chunk, std::string* error) {
  MessageParser parser(o);
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < input.size()) {
    size_t n = std::min(chunk, input.size() - pos);
    std::string piece(input.substr(pos, n));
    pos += n;
    parser.Feed(piece);
    while (true) {
      auto m = parser.Next();
      if (!m.ok()) {
        *error = std::string(m.status().ToString());
        return out;
      }
      if (!*m) break;
      std::string enc;
      bt::protocol::AppendMessage(**m, &enc);
      out.push_back(std::move(enc));
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  ParserOptions o;
  o.expect_handshake = data[0] & 1;
  o.fast_extension = data[0] & 2;
  o.allow_unknown_messages = data[0] & 4;
  if (data[0] & 8) o.num_pieces = data[1];
  o.max_message_length = (data[0] & 16) ? 64 : (1 << 20);
  o.max_block_length = (data[0] & 32) ? 16 : 16384;
  size_t chunk = 1 + (data[0] >> 6);
  std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

  std::string error_whole, error_chunked;
  std::vector<std::string> whole = Run(input, o, input.size(), &error_whole);
  std::vector<std::string> chunked = Run(input, o, chunk, &error_chunked);
  if (whole != chunked || error_whole != error_chunked) std::abort();
  std::string concat;
  for (const std::string& m : whole) concat += m;
  if (input.substr(0, concat.size()) != concat) std::abort();
  return 0;
}
