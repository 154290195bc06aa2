// Bitfield: one bit per piece (or per block), in BEP 3 order: bit 0 is the
// high bit of the first byte. Storage uses it for have-sets, hash-check
// results, pieces to re-check, and the block maps of partial pieces.
//
//   bt::storage::Bitfield have(torrent.num_pieces());
//   have.Set(7);
//   std::string wire = have.ToBytes();      // ceil(n / 8) bytes
//   ASSIGN_OR_RETURN(auto back, bt::storage::Bitfield::FromBytes(wire, n));
#ifndef STORAGE_BITFIELD_H_
#define STORAGE_BITFIELD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace bt::storage {

class Bitfield {
 public:
  Bitfield() = default;
  // Bitfield makes `size` bits, all `value`.
  explicit Bitfield(size_t size, bool value = false);

  // FromBytes reads `size` bits from `bytes` (BEP 3 order). Errors
  // (kInvalidArgument): `bytes` is not exactly ceil(size / 8) long, or a
  // spare bit past `size` in the last byte is set.
  static absl::StatusOr<Bitfield> FromBytes(std::string_view bytes,
                                            size_t size);

  size_t size() const { return size_; }
  // Get/Set/Clear require i < size().
  bool Get(size_t i) const { return bytes_[i >> 3] & (0x80 >> (i & 7)); }
  void Set(size_t i) { bytes_[i >> 3] |= static_cast<uint8_t>(0x80 >> (i & 7)); }
  void Clear(size_t i) {
    bytes_[i >> 3] &= static_cast<uint8_t>(~(0x80 >> (i & 7)));
  }
  void Assign(size_t i, bool v) { v ? Set(i) : Clear(i); }
  // SetAll / ClearAll change every bit.
  void SetAll();
  void ClearAll();

  // Count is the number of set bits.
  size_t Count() const;
  bool All() const { return Count() == size_; }
  bool None() const { return Count() == 0; }

  // ToBytes returns ceil(size / 8) bytes, spare bits zero.
  std::string ToBytes() const;

  // Or / AndNot combine with a bitfield of the same size (no-op on a size
  // mismatch is a bug: both require other.size() == size()).
  void Or(const Bitfield& other);
  void AndNot(const Bitfield& other);

  friend bool operator==(const Bitfield&, const Bitfield&) = default;

 private:
  size_t size_ = 0;
  std::vector<uint8_t> bytes_;
};

}  // namespace bt::storage

#endif  // STORAGE_BITFIELD_H_
