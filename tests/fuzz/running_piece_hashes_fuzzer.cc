// Fuzz target for RunningPieceHashes, the running SHA-1 of pieces being
// written, whose blocks may be held and hashed two pieces side by side
// (Sha1Hasher::UpdateBoth). Each 4-byte step is an operation on one of four
// pieces: add a block (kept or not, at the prefix's end, at 0, or
// elsewhere), take, forget, or hash what is held. A model keeps the bytes
// each piece's prefix should hold; every Take must hand over exactly their
// SHA-1. Kept blocks live only as long as the keeper the hashes hold, so a
// use of a released block is caught by the sanitizers. Held bytes never
// exceed the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/sha.h"
#include "storage/running_piece_hashes.h"

namespace {

constexpr int kPieces = 4;
constexpr size_t kMaxHeld = 8 * 1024;

std::string BlockBytes(uint8_t seed, size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(seed + i * 31);
  return s;
}

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bt::storage::RunningPieceHashes running(/*max_pieces=*/3, kMaxHeld);
  std::optional<std::string> model[kPieces];
  size_t tracked = 0;
  for (size_t at = 0; at + 4 <= size; at += 4) {
    const uint8_t op = data[at] % 8;
    const uint32_t piece = data[at + 1] % kPieces;
    // Block sizes from 1 byte to 4 KiB, mostly whole 64-byte blocks.
    const size_t length = data[at + 2] & 1 ? size_t{data[at + 2]} * 16 + 1
                                           : (size_t{data[at + 2]} + 1) * 16;
    std::optional<std::string>& m = model[piece];
    const int64_t end = m ? static_cast<int64_t>(m->size()) : 0;
    if (op < 5) {
      // Where: the prefix's end (mostly), the start, or elsewhere.
      const int64_t begin = op < 3 ? end : op == 3 ? 0 : data[at + 3] * 64;
      const std::string bytes =
          BlockBytes(data[at + 3], std::min<size_t>(length, 4096));
      auto kept = std::make_shared<const std::string>(bytes);
      const bool keep = data[at] & 8;
      running.Add(piece, begin, bt::AsBytes(*kept), keep ? kept : nullptr);
      kept.reset();  // a kept block lives on in `running` only
      if (begin == 0) {
        if (m || tracked < 3) {
          if (!m) ++tracked;
          m = bytes;
        }
      } else if (m && begin == end) {
        *m += bytes;
      } else if (m && begin < end) {
        m.reset();
        --tracked;
      }
    } else if (op == 5) {
      bt::storage::RunningPieceHashes::Prefix p = running.Take(piece);
      Check(p.length == (m ? end : 0));
      if (m) {
        Check(p.hasher.Final() == bt::Sha1(bt::AsBytes(*m)));
        m.reset();
        --tracked;
      }
    } else if (op == 6) {
      running.Forget(piece);
      if (m) {
        m.reset();
        --tracked;
      }
    } else {
      running.HashHeld();
      Check(running.held_bytes() == 0);
    }
    Check(running.held_bytes() <= kMaxHeld);
    Check(running.pieces() == tracked);
  }
  return 0;
}
