// ut_metadata (BEP 9): request, data and reject messages for fetching the
// info dictionary from peers in 16 KiB pieces. A data message carries the
// raw piece right after its bencoded dictionary.
//
//   std::string payload;
//   bt::protocol::AppendMetadataMessage(
//       {bt::protocol::MetadataMessageType::kRequest, /*piece=*/0}, &payload);
//   bt::protocol::AppendExtended(their_ut_metadata_id, payload, &out);
//   ...
//   ASSIGN_OR_RETURN(bt::protocol::MetadataMessage m,
//                    bt::protocol::ParseMetadataMessage(extended.payload));
//   if (m.type == bt::protocol::MetadataMessageType::kData) Store(m.data);
#ifndef PROTOCOL_UT_METADATA_H_
#define PROTOCOL_UT_METADATA_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bt::protocol {

// The metadata is exchanged in pieces of this size (the last may be less).
inline constexpr uint32_t kMetadataPieceSize = 16 * 1024;

enum class MetadataMessageType : uint8_t {
  kRequest = 0,
  kData = 1,
  kReject = 2,
};

struct MetadataMessage {
  MetadataMessageType type = MetadataMessageType::kRequest;
  uint32_t piece = 0;
  // total_size: data messages only, the whole metadata's size.
  uint64_t total_size = 0;
  // data: data messages only, a view of the piece bytes in the parsed
  // payload (which must outlive it).
  std::string_view data;

  friend bool operator==(const MetadataMessage&,
                         const MetadataMessage&) = default;
};

// ParseMetadataMessage parses a ut_metadata payload (after the extended
// id). Checks: a bencoded dict with integer msg_type and piece; data
// messages have 0 < total_size <= max_metadata_size, a piece inside it, and
// exactly kMetadataPieceSize data bytes (fewer only for the last piece);
// request and reject carry nothing after the dict. Errors are
// kInvalidArgument naming the rule and byte offset, kResourceExhausted for
// total_size above the limit, and kUnimplemented for a msg_type other than
// 0..2 (BEP 9: such messages must be ignored, not treated as errors).
absl::StatusOr<MetadataMessage> ParseMetadataMessage(
    std::string_view payload, uint64_t max_metadata_size = 32 << 20);

// AppendMetadataMessage appends the payload for `m` (dict, then data for a
// data message) to `*out`.
void AppendMetadataMessage(const MetadataMessage& m, std::string* out);

// MetadataPieceCount is the number of pieces of metadata of `total_size`.
inline uint32_t MetadataPieceCount(uint64_t total_size) {
  return static_cast<uint32_t>((total_size + kMetadataPieceSize - 1) /
                               kMetadataPieceSize);
}

}  // namespace bt::protocol

#endif  // PROTOCOL_UT_METADATA_H_
