// ByteWriter: appends big-endian integers and raw bytes to a caller-owned
// std::string (the BoringSSL CBB idea, without the failure cases: the
// buffer grows as needed).
//
//   std::string packet;
//   bt::ByteWriter w(&packet);
//   w.U64(connection_id).U32(kActionAnnounce).U32(transaction_id);
//   w.Bytes(info_hash.span());
#ifndef BASE_BYTE_WRITER_H_
#define BASE_BYTE_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/big_endian.h"
#include "base/bytes.h"

namespace bt {

class ByteWriter {
 public:
  // `out` must outlive the writer; bytes are appended after its contents.
  explicit ByteWriter(std::string* out) : out_(out) {}

  ByteWriter& U8(uint8_t v) {
    out_->push_back(static_cast<char>(v));
    return *this;
  }
  ByteWriter& U16(uint16_t v) { return Fixed<2>(v, StoreBigEndian16); }
  ByteWriter& U32(uint32_t v) { return Fixed<4>(v, StoreBigEndian32); }
  ByteWriter& U64(uint64_t v) { return Fixed<8>(v, StoreBigEndian64); }
  ByteWriter& Bytes(ByteSpan b) {
    out_->append(AsChars(b));
    return *this;
  }
  ByteWriter& Bytes(std::string_view s) {
    out_->append(s);
    return *this;
  }

  size_t size() const { return out_->size(); }

 private:
  template <size_t N, typename T, typename Store>
  ByteWriter& Fixed(T v, Store store) {
    uint8_t buf[N];
    store(v, buf);
    out_->append(reinterpret_cast<const char*>(buf), N);
    return *this;
  }

  std::string* out_;
};

}  // namespace bt

#endif  // BASE_BYTE_WRITER_H_
