// ByteReader: a bounds-checked cursor over untrusted bytes (the BoringSSL CBS
// idea). Every Read* either succeeds and advances, or fails and leaves the
// cursor where it was; nothing reads past the end.
//
//   bt::ByteReader r(packet);
//   uint32_t action, transaction;
//   if (!r.ReadU32(&action) || !r.ReadU32(&transaction))
//     return r.Truncated("udp tracker header");
//   if (!r.empty()) return r.Trailing("udp tracker header");
#ifndef BASE_BYTE_READER_H_
#define BASE_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "base/big_endian.h"
#include "base/bytes.h"

namespace bt {

class ByteReader {
 public:
  // `data` must outlive the reader and every view it returns.
  explicit ByteReader(ByteSpan data) : data_(data) {}
  explicit ByteReader(std::string_view data) : data_(AsBytes(data)) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }
  // Rest returns the unread bytes without consuming them.
  ByteSpan Rest() const { return data_.subspan(pos_); }

  bool ReadU8(uint8_t* out) {
    if (remaining() < 1) return false;
    *out = data_[pos_++];
    return true;
  }
  bool ReadU16(uint16_t* out) { return ReadFixed(out, 2, LoadBigEndian16); }
  bool ReadU32(uint32_t* out) { return ReadFixed(out, 4, LoadBigEndian32); }
  bool ReadU64(uint64_t* out) { return ReadFixed(out, 8, LoadBigEndian64); }

  // ReadBytes views the next `n` bytes.
  bool ReadBytes(size_t n, ByteSpan* out) {
    if (remaining() < n) return false;
    *out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  // CopyBytes copies the next `n` bytes into `out` (which has room for n).
  bool CopyBytes(size_t n, uint8_t* out) {
    if (remaining() < n) return false;
    for (size_t i = 0; i < n; ++i) out[i] = data_[pos_ + i];
    pos_ += n;
    return true;
  }
  bool Skip(size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }

  // Truncated is the error for a read that ran out of input while parsing
  // `what`; it names the byte offset reached.
  absl::Status Truncated(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: truncated at byte %d of %d", what, pos_, data_.size()));
  }
  // Trailing is the error for bytes left over after a complete `what`.
  absl::Status Trailing(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %d unexpected trailing bytes at byte %d", what, remaining(), pos_));
  }

 private:
  template <typename T, typename Load>
  bool ReadFixed(T* out, size_t n, Load load) {
    if (remaining() < n) return false;
    *out = load(data_.data() + pos_);
    pos_ += n;
    return true;
  }

  ByteSpan data_;
  size_t pos_ = 0;
};

}  // namespace bt

#endif  // BASE_BYTE_READER_H_
