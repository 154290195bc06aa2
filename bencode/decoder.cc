#include "bencode/decoder.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace bt::bencode {
namespace {

using internal::Token;

constexpr uint32_t kNoKey = std::numeric_limits<uint32_t>::max();

// One open container while decoding.
struct Frame {
  uint32_t token;     // the container's token index
  uint32_t last_key;  // token index of the previous key, or kNoKey
  bool is_dict;
  bool expect_value;  // dict: a key was read, its value comes next
  bool unsorted;      // dict: keys seen out of order (lenient mode only)
};

absl::Status Malformed(std::string_view problem, size_t pos) {
  return absl::InvalidArgumentError(
      absl::StrFormat("bencode: %s at byte %d", problem, pos));
}

std::string Shown(std::string_view key) {
  return absl::CEscape(std::string(key.substr(0, 64)));
}

// CompareKeys orders byte strings as bencode requires (raw bytes, shorter
// prefix first).
int CompareKeys(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  int c = n ? std::memcmp(a.data(), b.data(), n) : 0;
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

std::string_view KeyOf(std::string_view input, const Token& t) {
  return input.substr(t.a, t.b);
}

// CheckUniqueKeys refuses a lenient (unsorted) dict with duplicate keys.
absl::Status CheckUniqueKeys(std::string_view input,
                             const std::vector<Token>& tokens,
                             uint32_t dict) {
  std::vector<std::string_view> keys;
  keys.reserve(tokens[dict].b);
  for (uint32_t k = dict + 1; k < tokens[dict].next;
       k = tokens[k + 1].next) {
    keys.push_back(KeyOf(input, tokens[k]));
  }
  std::sort(keys.begin(), keys.end());
  auto dup = std::adjacent_find(keys.begin(), keys.end());
  if (dup != keys.end()) {
    return Malformed(absl::StrFormat("duplicate dict key \"%s\" in dict",
                                     Shown(*dup)),
                     tokens[dict].offset);
  }
  return absl::OkStatus();
}

}  // namespace

namespace {
absl::Status DecodeTokens(std::string_view input, const DecodeOptions& options,
                          std::vector<Token>& tokens);
}  // namespace

const char* TypeName(Type t) {
  switch (t) {
    case Type::kInt:
      return "integer";
    case Type::kString:
      return "string";
    case Type::kList:
      return "list";
    case Type::kDict:
      return "dict";
  }
  return "?";
}

absl::StatusOr<Document> Decode(std::string_view input,
                                const DecodeOptions& options) {
  Document doc;
  if (absl::Status s = Decode(input, &doc, options); !s.ok()) return s;
  return doc;
}

absl::Status Decode(std::string_view input, Document* doc,
                    const DecodeOptions& options) {
  doc->tokens_.clear();
  doc->input_ = {};
  absl::Status status = DecodeTokens(input, options, doc->tokens_);
  if (status.ok()) {
    doc->input_ = input;
  } else {
    doc->tokens_.clear();
  }
  return status;
}

namespace {

// DecodeTokens validates `input` and appends its tokens to `tokens`. One
// pass, no recursion: open containers live on an explicit stack.
absl::Status DecodeTokens(std::string_view input, const DecodeOptions& options,
                          std::vector<Token>& tokens) {
  const size_t n = input.size();
  if (n > options.max_input_size ||
      n >= std::numeric_limits<uint32_t>::max()) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "bencode: input of %d bytes exceeds the limit of %d bytes", n,
        std::min<size_t>(options.max_input_size,
                         std::numeric_limits<uint32_t>::max() - 1)));
  }
  if (n == 0) return Malformed("empty input", 0);

  // The stack lives in a local array unless the depth limit is unusual.
  constexpr uint32_t kLocalDepth = 128;
  Frame local_frames[kLocalDepth];
  std::unique_ptr<Frame[]> heap_frames;
  Frame* frames = local_frames;
  if (options.max_depth > kLocalDepth) {
    heap_frames = std::make_unique<Frame[]>(options.max_depth);
    frames = heap_frames.get();
  }
  uint32_t depth = 0;
  Frame* top = nullptr;  // frames[depth - 1], or null at top level

  const char* const data = input.data();
  const uint32_t max_tokens = options.max_tokens;
  const bool allow_unsorted = options.allow_unsorted_keys;
  size_t pos = 0;

  while (true) {
    if (pos >= n) [[unlikely]] {
      if (!top) return Malformed("unexpected end of input", pos);
      const Token& open = tokens[top->token];
      return Malformed(
          absl::StrFormat("unexpected end of input inside the %s that starts "
                          "at byte %d",
                          top->is_dict ? "dict" : "list", open.offset),
          pos);
    }
    const char c = data[pos];

    if (c == 'e') {
      if (!top) [[unlikely]] return Malformed("unexpected 'e'", pos);
      if (top->expect_value) [[unlikely]] {
        return Malformed("dict key without a value before 'e'", pos);
      }
      Token& t = tokens[top->token];
      t.a = static_cast<uint32_t>(pos + 1);
      t.next = static_cast<uint32_t>(tokens.size());
      ++pos;
      if (top->unsorted) {
        RETURN_IF_ERROR(CheckUniqueKeys(input, tokens, top->token));
      }
      if (--depth == 0) break;
      top = &frames[depth - 1];
      continue;
    }

    const bool is_key = top && top->is_dict && !top->expect_value;
    if (tokens.size() >= max_tokens) [[unlikely]] {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "bencode: more than %d values at byte %d", max_tokens, pos));
    }
    const uint32_t index = static_cast<uint32_t>(tokens.size());
    if (top && !top->expect_value) {
      ++tokens[top->token].b;  // a list element, or a dict pair's key
    }
    tokens.push_back(Token{static_cast<uint32_t>(pos), index + 1, 0, 0});

    if (static_cast<unsigned>(c - '0') <= 9) {
      // String: <length>:<bytes>, length without leading zeros.
      size_t len = static_cast<size_t>(c - '0');
      size_t p = pos + 1;
      if (c == '0' && p < n && static_cast<unsigned>(data[p] - '0') <= 9)
          [[unlikely]] {
        return Malformed("string length with a leading zero", pos);
      }
      while (p < n && static_cast<unsigned>(data[p] - '0') <= 9) {
        len = len * 10 + static_cast<size_t>(data[p] - '0');
        if (len > n) [[unlikely]] {
          return Malformed("string length exceeds the input size", pos);
        }
        ++p;
      }
      if (p >= n) [[unlikely]] {
        return Malformed("unexpected end of input in string length", p);
      }
      if (data[p] != ':') [[unlikely]] {
        return Malformed(
            absl::StrFormat("expected ':' after string length, found '%s'",
                            absl::CEscape(std::string(1, data[p]))),
            p);
      }
      ++p;
      if (len > n - p) [[unlikely]] {
        return Malformed(
            absl::StrFormat("string of length %d runs past the end of input "
                            "(%d bytes left)",
                            len, n - p),
            pos);
      }
      Token& t = tokens.back();
      t.a = static_cast<uint32_t>(p);
      t.b = static_cast<uint32_t>(len);
      pos = p + len;
      if (is_key) {
        // Keys must be strictly increasing (or, leniently, merely unique).
        if (top->last_key != kNoKey) {
          const Token& prev = tokens[top->last_key];
          int cmp = CompareKeys(std::string_view(data + prev.a, prev.b),
                                std::string_view(data + p, len));
          if (cmp >= 0) [[unlikely]] {
            std::string shown = Shown(std::string_view(data + p, len));
            if (cmp == 0) {
              return Malformed(
                  absl::StrFormat("duplicate dict key \"%s\"", shown),
                  t.offset);
            }
            if (!allow_unsorted) {
              return Malformed(
                  absl::StrFormat("dict key \"%s\" is out of sorted order",
                                  shown),
                  t.offset);
            }
            top->unsorted = true;
          }
        }
        top->last_key = index;
        top->expect_value = true;
        continue;
      }
    } else if (is_key) [[unlikely]] {
      return Malformed(absl::StrFormat("dict key must be a string, found '%s'",
                                       absl::CEscape(std::string(1, c))),
                       pos);
    } else if (c == 'i') {
      size_t p = pos + 1;
      bool negative = false;
      if (p < n && data[p] == '-') {
        negative = true;
        ++p;
      }
      const size_t digits_start = p;
      uint64_t v = 0;
      // 2^63 for negatives (INT64_MIN), 2^63 - 1 otherwise.
      const uint64_t limit =
          uint64_t{std::numeric_limits<int64_t>::max()} + (negative ? 1 : 0);
      while (p < n && static_cast<unsigned>(data[p] - '0') <= 9) {
        uint64_t d = static_cast<uint64_t>(data[p] - '0');
        if (v > (limit - d) / 10) [[unlikely]] {
          return Malformed("integer overflows 64 bits", pos);
        }
        v = v * 10 + d;
        ++p;
      }
      if (p >= n) [[unlikely]] {
        return Malformed("unexpected end of input in integer", p);
      }
      if (p == digits_start) [[unlikely]] {
        return Malformed(negative ? "integer '-' without digits"
                                  : "integer without digits",
                         pos);
      }
      if (data[p] != 'e') [[unlikely]] {
        return Malformed(
            absl::StrFormat("expected 'e' to end the integer, found '%s'",
                            absl::CEscape(std::string(1, data[p]))),
            p);
      }
      if (data[digits_start] == '0' && p - digits_start > 1) [[unlikely]] {
        return Malformed("integer with a leading zero", pos);
      }
      if (negative && v == 0) [[unlikely]] {
        return Malformed("integer '-0'", pos);
      }
      const uint64_t bits = negative ? 0 - v : v;
      Token& t = tokens.back();
      t.a = static_cast<uint32_t>(bits);
      t.b = static_cast<uint32_t>(bits >> 32);
      pos = p + 1;
    } else if (c == 'l' || c == 'd') {
      if (depth >= options.max_depth) [[unlikely]] {
        return absl::ResourceExhaustedError(absl::StrFormat(
            "bencode: nesting deeper than %d at byte %d", options.max_depth,
            pos));
      }
      if (top) top->expect_value = false;
      top = &frames[depth++];
      *top = Frame{index, kNoKey, c == 'd', false, false};
      ++pos;
      continue;
    } else [[unlikely]] {
      return Malformed(absl::StrFormat("unexpected character '%s'",
                                       absl::CEscape(std::string(1, c))),
                       pos);
    }

    // A scalar value was read.
    if (!top) break;  // the top-level value is a scalar
    top->expect_value = false;
  }

  if (pos != n && !options.allow_trailing_data) {
    return Malformed(
        absl::StrFormat("%d bytes of trailing data after the top-level value",
                        n - pos),
        pos);
  }
  return absl::OkStatus();
}

}  // namespace

// --- Node -----------------------------------------------------------------

const internal::Token& Node::token() const { return doc_->tokens_[index_]; }

Type Node::type() const {
  switch (doc_->input_[token().offset]) {
    case 'i':
      return Type::kInt;
    case 'l':
      return Type::kList;
    case 'd':
      return Type::kDict;
    default:
      return Type::kString;
  }
}

std::string_view Node::raw() const {
  const Token& t = token();
  std::string_view in = doc_->input_;
  switch (type()) {
    case Type::kString:
      return in.substr(t.offset, t.a + t.b - t.offset);
    case Type::kList:
    case Type::kDict:
      return in.substr(t.offset, t.a - t.offset);
    case Type::kInt:
      return in.substr(t.offset, in.find('e', t.offset) + 1 - t.offset);
  }
  return {};
}

std::string_view Node::string_value() const {
  const Token& t = token();
  return doc_->input_.substr(t.a, t.b);
}

absl::Status Node::TypeError(std::string_view what, Type expected) const {
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: expected %s, got %s at byte %d", what,
                      TypeName(expected), TypeName(type()), offset()));
}

absl::StatusOr<int64_t> Node::AsInt() const {
  if (!is_int()) return TypeError("bencode", Type::kInt);
  return int_value();
}

absl::StatusOr<std::string_view> Node::AsString() const {
  if (!is_string()) return TypeError("bencode", Type::kString);
  return string_value();
}

absl::StatusOr<Node> Node::AsList() const {
  if (!is_list()) return TypeError("bencode", Type::kList);
  return *this;
}

absl::StatusOr<Node> Node::AsDict() const {
  if (!is_dict()) return TypeError("bencode", Type::kDict);
  return *this;
}

ListRange Node::items() const {
  if (!is_list()) return ListRange(doc_, 0, 0);
  return ListRange(doc_, index_ + 1, token().next);
}

DictRange Node::pairs() const {
  if (!is_dict()) return DictRange(doc_, 0, 0);
  return DictRange(doc_, index_ + 1, token().next);
}

std::optional<Node> Node::Find(std::string_view key) const {
  if (!is_dict()) return std::nullopt;
  const auto& tokens = doc_->tokens_;
  std::string_view in = doc_->input_;
  const uint32_t end = token().next;
  for (uint32_t k = index_ + 1; k < end; k = tokens[k + 1].next) {
    const Token& kt = tokens[k];
    if (kt.b == key.size() &&
        std::memcmp(in.data() + kt.a, key.data(), key.size()) == 0) {
      return Node(doc_, k + 1);
    }
  }
  return std::nullopt;
}

absl::StatusOr<Node> Node::Get(std::string_view key) const {
  if (!is_dict()) {
    return TypeError(absl::StrFormat("looking up key \"%s\"", Shown(key)),
                     Type::kDict);
  }
  std::optional<Node> v = Find(key);
  if (!v) {
    return absl::NotFoundError(
        absl::StrFormat("missing key \"%s\" in the dict at byte %d",
                        Shown(key), offset()));
  }
  return *v;
}

namespace {
template <typename T, typename F>
absl::StatusOr<T> GetTyped(const Node& dict, std::string_view key,
                           Type expected, F extract) {
  absl::StatusOr<Node> v = dict.Get(key);
  if (!v.ok()) return v.status();
  if (v->type() != expected) {
    return v->TypeError(absl::StrFormat("key \"%s\"", Shown(key)), expected);
  }
  return extract(*v);
}
}  // namespace

absl::StatusOr<int64_t> Node::GetInt(std::string_view key) const {
  return GetTyped<int64_t>(*this, key, Type::kInt,
                           [](const Node& n) { return n.int_value(); });
}

absl::StatusOr<std::string_view> Node::GetString(std::string_view key) const {
  return GetTyped<std::string_view>(
      *this, key, Type::kString, [](const Node& n) { return n.string_value(); });
}

absl::StatusOr<Node> Node::GetList(std::string_view key) const {
  return GetTyped<Node>(*this, key, Type::kList,
                        [](const Node& n) { return n; });
}

absl::StatusOr<Node> Node::GetDict(std::string_view key) const {
  return GetTyped<Node>(*this, key, Type::kDict,
                        [](const Node& n) { return n; });
}

// --- ranges ---------------------------------------------------------------

ListRange::iterator& ListRange::iterator::operator++() {
  index_ = doc_->tokens_[index_].next;
  return *this;
}

std::pair<std::string_view, Node> DictRange::iterator::operator*() const {
  const Token& k = doc_->tokens_[index_];
  return {doc_->input_.substr(k.a, k.b), Node(doc_, index_ + 1)};
}

DictRange::iterator& DictRange::iterator::operator++() {
  index_ = doc_->tokens_[index_ + 1].next;
  return *this;
}

}  // namespace bt::bencode
