// Renders a decoded bencode value as JSON, for people and for tools that
// speak JSON. Strings that are valid UTF-8 become JSON strings; other
// strings become {"hex": "..."} objects, shortened unless `full_binary`.
//
//   std::string json = bt::bencode::ToJson(doc.root(), {.indent = 2});
#ifndef BENCODE_JSON_H_
#define BENCODE_JSON_H_

#include <string>

#include "bencode/decoder.h"

namespace bt::bencode {

struct JsonOptions {
  // Spaces per nesting level; 0 renders everything on one line.
  int indent = 2;
  // Render binary strings in full; otherwise only their first 32 bytes, with
  // a "bytes" field giving the full length.
  bool full_binary = false;
};

std::string ToJson(const Node& node, const JsonOptions& options = {});

}  // namespace bt::bencode

#endif  // BENCODE_JSON_H_
