// Fuzzes the bencode decoder: whatever decodes strictly must re-encode to the
// same bytes; whatever decodes leniently must re-encode to canonical bytes
// that decode strictly to an equal value. Navigation and JSON rendering must
// not crash on anything that decodes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bencode/decoder.h"
#include "bencode/encoder.h"
#include "bencode/json.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void Walk(const bt::bencode::Node& node) {
  for (bt::bencode::Node item : node.items()) Walk(item);
  for (auto [key, value] : node.pairs()) {
    Check(node.Find(key).has_value());
    Walk(value);
  }
  (void)node.raw();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  bt::bencode::DecodeOptions options;
  options.max_depth = 64;
  auto strict = bt::bencode::Decode(input, options);
  if (strict.ok()) {
    Walk(strict->root());
    Check(strict->root().raw() == input);
    Check(bt::bencode::Encode(strict->root()) == input);
    Check(bt::bencode::Encode(bt::bencode::Value::FromNode(strict->root())) ==
          input);
    (void)bt::bencode::ToJson(strict->root());
  }
  options.allow_unsorted_keys = true;
  auto lenient = bt::bencode::Decode(input, options);
  Check(lenient.ok() || !strict.ok());
  if (lenient.ok()) {
    std::string canonical = bt::bencode::Encode(lenient->root());
    auto again = bt::bencode::Decode(canonical);
    Check(again.ok());
    Check(bt::bencode::Value::FromNode(again->root()) ==
          bt::bencode::Value::FromNode(lenient->root()));
  }
  return 0;
}
