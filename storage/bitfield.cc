#include "storage/bitfield.h"

#include <bit>

#include "absl/strings/str_format.h"

namespace bt::storage {

Bitfield::Bitfield(size_t size, bool value)
    : size_(size), bytes_((size + 7) / 8, 0) {
  if (value) SetAll();
}

absl::StatusOr<Bitfield> Bitfield::FromBytes(std::string_view bytes,
                                             size_t size) {
  if (bytes.size() != (size + 7) / 8) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bitfield of %d bits has %d bytes, expected %d", size,
                        bytes.size(), (size + 7) / 8));
  }
  Bitfield b;
  b.size_ = size;
  b.bytes_.assign(bytes.begin(), bytes.end());
  if (size % 8 != 0) {
    uint8_t spare = static_cast<uint8_t>(0xff >> (size % 8));
    if (b.bytes_.back() & spare) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "bitfield of %d bits has spare bits set in its last byte", size));
    }
  }
  return b;
}

void Bitfield::SetAll() {
  for (uint8_t& b : bytes_) b = 0xff;
  if (size_ % 8 != 0) {
    bytes_.back() = static_cast<uint8_t>(0xff << (8 - size_ % 8));
  }
}

void Bitfield::ClearAll() {
  for (uint8_t& b : bytes_) b = 0;
}

size_t Bitfield::Count() const {
  size_t n = 0;
  for (uint8_t b : bytes_) n += std::popcount(b);
  return n;
}

std::string Bitfield::ToBytes() const {
  return std::string(bytes_.begin(), bytes_.end());
}

void Bitfield::Or(const Bitfield& other) {
  for (size_t i = 0; i < bytes_.size() && i < other.bytes_.size(); ++i) {
    bytes_[i] |= other.bytes_[i];
  }
}

void Bitfield::AndNot(const Bitfield& other) {
  for (size_t i = 0; i < bytes_.size() && i < other.bytes_.size(); ++i) {
    bytes_[i] &= static_cast<uint8_t>(~other.bytes_[i]);
  }
}

}  // namespace bt::storage
