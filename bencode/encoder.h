// Canonical bencode encoding: a streaming Writer that appends to a buffer,
// and an owned Value type for building messages. Output is always canonical
// (dictionary keys sorted and unique), so decoding canonical input and
// encoding it again is byte-identical.
//
//   std::string out;
//   bt::bencode::Writer w(&out);
//   w.BeginDict().Key("port").Int(6881).Key("q").String("ping").End();
//   RETURN_IF_ERROR(w.status());
//
//   bt::bencode::Value msg = bt::bencode::Value::Dict{{"t", "aa"}, {"y", "q"}};
//   std::string bytes = bt::bencode::Encode(msg);
#ifndef BENCODE_ENCODER_H_
#define BENCODE_ENCODER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "bencode/decoder.h"

namespace bt::bencode {

// Writer appends bencoded values to `*out`. Keys of a dict must be written
// in strictly increasing byte order; a violation, an End() without an open
// container, or an unclosed container at status() time makes status() an
// error (kFailedPrecondition) naming the problem. Writing goes on regardless
// (the output is then not canonical).
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  Writer& Int(int64_t v);
  Writer& String(std::string_view s);
  Writer& BeginList();
  Writer& BeginDict();
  // Key writes a dict key; it must be greater than the previous key.
  Writer& Key(std::string_view key);
  Writer& End();
  // Raw appends an already encoded value (e.g. a decoded node's raw()).
  Writer& Raw(std::string_view encoded);
  // Node re-encodes a decoded value canonically (sorting keys of dicts that
  // were decoded with allow_unsorted_keys).
  Writer& Node(const bencode::Node& node);

  absl::Status status() const;

 private:
  struct Open {
    bool is_dict;
    bool has_key;
    std::string last_key;
  };
  void NoteKey(std::string_view key);

  std::string* out_;
  std::vector<Open> open_;
  std::string error_;
};

// Value is an owned bencode value.
class Value {
 public:
  using List = std::vector<Value>;
  using Dict = std::map<std::string, Value, std::less<>>;

  Value() : v_(int64_t{0}) {}
  Value(int64_t v) : v_(v) {}                     // NOLINT
  Value(int v) : v_(int64_t{v}) {}                // NOLINT
  Value(std::string v) : v_(std::move(v)) {}      // NOLINT
  Value(std::string_view v) : v_(std::string(v)) {}  // NOLINT
  Value(const char* v) : v_(std::string(v)) {}    // NOLINT
  Value(List v) : v_(std::move(v)) {}             // NOLINT
  Value(Dict v) : v_(std::move(v)) {}             // NOLINT

  // FromNode copies a decoded value.
  static Value FromNode(const bencode::Node& node);

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_int() const { return type() == Type::kInt; }
  bool is_string() const { return type() == Type::kString; }
  bool is_list() const { return type() == Type::kList; }
  bool is_dict() const { return type() == Type::kDict; }

  // Accessors require the matching type.
  int64_t int_value() const { return std::get<int64_t>(v_); }
  const std::string& string_value() const { return std::get<std::string>(v_); }
  const List& list() const { return std::get<List>(v_); }
  List& list() { return std::get<List>(v_); }
  const Dict& dict() const { return std::get<Dict>(v_); }
  Dict& dict() { return std::get<Dict>(v_); }

  friend bool operator==(const Value&, const Value&) = default;

 private:
  std::variant<int64_t, std::string, List, Dict> v_;
};

// EncodeTo appends the canonical encoding of `v` to `*out`.
void EncodeTo(const Value& v, std::string* out);
// Encode returns the canonical encoding of `v`.
std::string Encode(const Value& v);
// Encode returns the canonical encoding of a decoded value.
std::string Encode(const bencode::Node& node);

}  // namespace bt::bencode

#endif  // BENCODE_ENCODER_H_
