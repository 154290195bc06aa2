#include "protocol/extension_handshake.h"

#include <limits>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"

namespace bt::protocol {
namespace {

absl::Status Bad(std::string_view key, std::string_view what,
                 const bencode::Node& node) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "extension handshake: \"%s\" %s (byte %d)", key, what, node.offset()));
}

absl::StatusOr<int64_t> IntIn(std::string_view key, const bencode::Node& node,
                              int64_t lo, int64_t hi) {
  if (!node.is_int()) return Bad(key, "is not an integer", node);
  int64_t v = node.int_value();
  if (v < lo || v > hi) {
    return Bad(key, absl::StrFormat("%d is not in %d..%d", v, lo, hi), node);
  }
  return v;
}

absl::StatusOr<Endpoint> Address(std::string_view key,
                                 const bencode::Node& node, size_t want) {
  if (!node.is_string()) return Bad(key, "is not a string", node);
  std::string_view s = node.string_value();
  if ((want && s.size() != want) ||
      (!want && s.size() != 4 && s.size() != 16)) {
    return Bad(key,
               absl::StrFormat("is %d bytes, expected %s", s.size(),
                               want == 4    ? "4"
                               : want == 16 ? "16"
                                            : "4 or 16"),
               node);
  }
  Endpoint e;
  Endpoint::FromBytes(AsBytes(s), 0, &e);
  return e;
}

std::string AddressBytes(const Endpoint& e) {
  return std::string(AsChars(e.address_bytes()));
}

}  // namespace

absl::StatusOr<ExtensionHandshake> ParseExtensionHandshake(
    std::string_view payload, const ExtensionLimits& limits) {
  bencode::DecodeOptions options;
  options.allow_unsorted_keys = true;
  options.max_depth = 32;
  absl::StatusOr<bencode::Document> doc = bencode::Decode(payload, options);
  if (!doc.ok()) {
    return absl::Status(
        doc.status().code(),
        absl::StrFormat("extension handshake: %s", doc.status().message()));
  }
  bencode::Node root = doc->root();
  if (!root.is_dict()) {
    return absl::InvalidArgumentError(
        "extension handshake: payload is not a dictionary");
  }
  ExtensionHandshake hs;
  for (auto [key, value] : root.pairs()) {
    if (key == "m") {
      if (!value.is_dict()) return Bad(key, "is not a dictionary", value);
      if (value.size() > limits.max_extensions) {
        return absl::ResourceExhaustedError(absl::StrFormat(
            "extension handshake: %d extensions in \"m\", limit %d",
            value.size(), limits.max_extensions));
      }
      for (auto [name, id] : value.pairs()) {
        ASSIGN_OR_RETURN(int64_t v,
                         IntIn(absl::StrFormat("m.%s", name), id, 0, 255));
        hs.m[std::string(name)] = static_cast<uint8_t>(v);
      }
    } else if (key == "p") {
      ASSIGN_OR_RETURN(int64_t v, IntIn(key, value, 0, 65535));
      hs.p = static_cast<uint16_t>(v);
    } else if (key == "v") {
      if (!value.is_string()) return Bad(key, "is not a string", value);
      hs.v = std::string(value.string_value());
    } else if (key == "yourip") {
      ASSIGN_OR_RETURN(hs.yourip, Address(key, value, 0));
    } else if (key == "ipv4") {
      ASSIGN_OR_RETURN(hs.ipv4, Address(key, value, 4));
    } else if (key == "ipv6") {
      ASSIGN_OR_RETURN(hs.ipv6, Address(key, value, 16));
    } else if (key == "reqq") {
      ASSIGN_OR_RETURN(int64_t v, IntIn(key, value, 0, INT32_MAX));
      hs.reqq = static_cast<uint32_t>(v);
    } else if (key == "metadata_size") {
      ASSIGN_OR_RETURN(int64_t v, IntIn(key, value, 0, INT64_MAX));
      if (static_cast<uint64_t>(v) > limits.max_metadata_size) {
        return absl::ResourceExhaustedError(absl::StrFormat(
            "extension handshake: metadata_size %d exceeds the limit %d", v,
            limits.max_metadata_size));
      }
      hs.metadata_size = static_cast<uint64_t>(v);
    } else if (key == "upload_only") {
      ASSIGN_OR_RETURN(int64_t v, IntIn(key, value, INT64_MIN, INT64_MAX));
      hs.upload_only = v != 0;
    } else {
      hs.unknown[std::string(key)] = bencode::Value::FromNode(value);
    }
  }
  return hs;
}

void AppendExtensionHandshake(const ExtensionHandshake& hs, std::string* out) {
  bencode::Value::Dict d = hs.unknown;
  bencode::Value::Dict m;
  for (const auto& [name, id] : hs.m) m[name] = int64_t{id};
  d["m"] = std::move(m);
  if (hs.p) d["p"] = int64_t{*hs.p};
  if (hs.v) d["v"] = *hs.v;
  if (hs.yourip) d["yourip"] = AddressBytes(*hs.yourip);
  if (hs.ipv4) d["ipv4"] = AddressBytes(*hs.ipv4);
  if (hs.ipv6) d["ipv6"] = AddressBytes(*hs.ipv6);
  if (hs.reqq) d["reqq"] = int64_t{*hs.reqq};
  if (hs.metadata_size) {
    d["metadata_size"] = static_cast<int64_t>(*hs.metadata_size);
  }
  if (hs.upload_only) d["upload_only"] = int64_t{*hs.upload_only ? 1 : 0};
  bencode::EncodeTo(bencode::Value(std::move(d)), out);
}

}  // namespace bt::protocol
