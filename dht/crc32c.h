// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum BEP 42
// ties DHT node ids to IP addresses with. Table-driven software version.
//
//   uint32_t crc = bt::dht::Crc32c(bytes);   // Crc32c("123456789") == 0xE3069283
#ifndef DHT_CRC32C_H_
#define DHT_CRC32C_H_

#include <cstdint>

#include "base/bytes.h"

namespace bt::dht {

// Crc32c returns the CRC32C of `data`, continuing from `crc` (0 to start).
uint32_t Crc32c(ByteSpan data, uint32_t crc = 0);

}  // namespace bt::dht

#endif  // DHT_CRC32C_H_
