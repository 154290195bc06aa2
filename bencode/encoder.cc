#include "bencode/encoder.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "absl/strings/str_format.h"

namespace bt::bencode {
namespace {

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  buf[0] = 'i';
  char* end = std::to_chars(buf + 1, buf + sizeof buf - 1, v).ptr;
  *end++ = 'e';
  out->append(buf, end);
}

void AppendString(std::string_view s, std::string* out) {
  char buf[24];
  char* end = std::to_chars(buf, buf + sizeof buf - 1, s.size()).ptr;
  *end++ = ':';
  out->append(buf, end);
  out->append(s);
}

// AppendNode writes a decoded value canonically. Recursion depth is bounded
// by the decoder's depth limit.
void AppendNode(const Node& node, std::string* out) {
  switch (node.type()) {
    case Type::kInt:
      AppendInt(node.int_value(), out);
      return;
    case Type::kString:
      AppendString(node.string_value(), out);
      return;
    case Type::kList:
      out->push_back('l');
      for (Node item : node.items()) AppendNode(item, out);
      out->push_back('e');
      return;
    case Type::kDict: {
      std::vector<std::pair<std::string_view, Node>> pairs;
      pairs.reserve(node.size());
      bool sorted = true;
      for (auto kv : node.pairs()) {
        if (!pairs.empty() && pairs.back().first >= kv.first) sorted = false;
        pairs.push_back(kv);
      }
      if (!sorted) {
        std::sort(pairs.begin(), pairs.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
      }
      out->push_back('d');
      for (const auto& [key, value] : pairs) {
        AppendString(key, out);
        AppendNode(value, out);
      }
      out->push_back('e');
      return;
    }
  }
}

}  // namespace

// --- Writer ---------------------------------------------------------------

Writer& Writer::Int(int64_t v) {
  AppendInt(v, out_);
  return *this;
}

Writer& Writer::String(std::string_view s) {
  AppendString(s, out_);
  return *this;
}

Writer& Writer::BeginList() {
  open_.push_back(Open{false, false, {}});
  out_->push_back('l');
  return *this;
}

Writer& Writer::BeginDict() {
  open_.push_back(Open{true, false, {}});
  out_->push_back('d');
  return *this;
}

void Writer::NoteKey(std::string_view key) {
  if (!error_.empty()) return;
  if (open_.empty() || !open_.back().is_dict) {
    error_ = absl::StrFormat("key \"%s\" written outside a dict", key);
    return;
  }
  Open& d = open_.back();
  if (d.has_key && std::string_view(d.last_key) >= key) {
    error_ = absl::StrFormat("dict key \"%s\" written after \"%s\": keys must "
                             "be sorted and unique",
                             key, d.last_key);
    return;
  }
  d.has_key = true;
  d.last_key.assign(key);
}

Writer& Writer::Key(std::string_view key) {
  NoteKey(key);
  AppendString(key, out_);
  return *this;
}

Writer& Writer::End() {
  if (open_.empty()) {
    if (error_.empty()) error_ = "End() without an open list or dict";
    return *this;
  }
  open_.pop_back();
  out_->push_back('e');
  return *this;
}

Writer& Writer::Raw(std::string_view encoded) {
  out_->append(encoded);
  return *this;
}

Writer& Writer::Node(const bencode::Node& node) {
  AppendNode(node, out_);
  return *this;
}

absl::Status Writer::status() const {
  if (!error_.empty()) {
    return absl::FailedPreconditionError("bencode writer: " + error_);
  }
  if (!open_.empty()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "bencode writer: %d list/dict left open", open_.size()));
  }
  return absl::OkStatus();
}

// --- Value ----------------------------------------------------------------

Value Value::FromNode(const bencode::Node& node) {
  switch (node.type()) {
    case Type::kInt:
      return Value(node.int_value());
    case Type::kString:
      return Value(node.string_value());
    case Type::kList: {
      List list;
      list.reserve(node.size());
      for (bencode::Node item : node.items()) list.push_back(FromNode(item));
      return Value(std::move(list));
    }
    case Type::kDict: {
      Dict dict;
      for (auto [key, value] : node.pairs()) {
        dict.emplace(std::string(key), FromNode(value));
      }
      return Value(std::move(dict));
    }
  }
  return Value();
}

void EncodeTo(const Value& v, std::string* out) {
  switch (v.type()) {
    case Type::kInt:
      AppendInt(v.int_value(), out);
      return;
    case Type::kString:
      AppendString(v.string_value(), out);
      return;
    case Type::kList:
      out->push_back('l');
      for (const Value& item : v.list()) EncodeTo(item, out);
      out->push_back('e');
      return;
    case Type::kDict:
      out->push_back('d');
      for (const auto& [key, value] : v.dict()) {
        AppendString(key, out);
        EncodeTo(value, out);
      }
      out->push_back('e');
      return;
  }
}

std::string Encode(const Value& v) {
  std::string out;
  EncodeTo(v, &out);
  return out;
}

std::string Encode(const bencode::Node& node) {
  std::string out;
  AppendNode(node, &out);
  return out;
}

}  // namespace bt::bencode
