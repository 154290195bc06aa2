// Zero-copy bencode decoder. Decode() validates the whole input in one pass
// without recursion and produces a Document: a flat array of tokens plus a
// view of the caller's buffer. Nodes are cheap handles into a Document;
// strings are views into the input (no copies).
//
//   ASSIGN_OR_RETURN(bt::bencode::Document doc, bt::bencode::Decode(bytes));
//   bt::bencode::Node root = doc.root();
//   ASSIGN_OR_RETURN(bt::bencode::Node info, root.GetDict("info"));
//   std::string_view info_bytes = info.raw();   // exact bytes, for hashing
//   ASSIGN_OR_RETURN(int64_t piece_length, info.GetInt("piece length"));
//
// Strict by default: canonical integers only, string lengths checked against
// the remaining input, dictionary keys strings, sorted and unique, nothing
// after the top-level value, limits on input size, depth and token count.
// Every error is kInvalidArgument (malformed) or kResourceExhausted (limit
// hit) and its message names the problem and the byte offset.
#ifndef BENCODE_DECODER_H_
#define BENCODE_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bt::bencode {

enum class Type : uint8_t { kInt, kString, kList, kDict };

// TypeName returns "integer", "string", "list" or "dict".
const char* TypeName(Type t);

struct DecodeOptions {
  // Inputs longer than this are refused before any parsing. At most 4 GiB - 1.
  size_t max_input_size = size_t{64} << 20;
  // Containers nested deeper than this are refused.
  uint32_t max_depth = 100;
  // Inputs with more values than this are refused.
  uint32_t max_tokens = 8'000'000;
  // Accept dictionaries whose keys are not in sorted order (real .torrent
  // files sometimes have them). Duplicate keys are still refused.
  bool allow_unsorted_keys = false;
  // Accept bytes after the top-level value and ignore them (mainstream
  // clients load .torrent files with such trailing bytes). The document's
  // root then covers only the value; Node::raw() of the root excludes them.
  bool allow_trailing_data = false;
};

namespace internal {
// One decoded value. The value's type is the input byte at `offset`
// ('i', 'l', 'd' or a digit).
struct Token {
  uint32_t offset;  // byte offset of the value's first byte in the input
  uint32_t next;    // index of the token after this value (skips children)
  uint32_t a;       // string: data offset; container: end offset; int: low 32
  uint32_t b;       // string: length; container: child count; int: high 32
};
}  // namespace internal

class Document;
class ListRange;
class DictRange;

// Node is a handle to one decoded value. It is valid while its Document is
// alive and unchanged; string views it returns point into the input buffer,
// which must outlive them.
class Node {
 public:
  Node() = default;

  Type type() const;
  bool is_int() const { return type() == Type::kInt; }
  bool is_string() const { return type() == Type::kString; }
  bool is_list() const { return type() == Type::kList; }
  bool is_dict() const { return type() == Type::kDict; }

  // raw returns the exact encoded bytes of this value in the input.
  std::string_view raw() const;
  // offset returns the byte offset of this value in the input.
  size_t offset() const { return token().offset; }

  // int_value / string_value require the matching type (unchecked).
  int64_t int_value() const {
    return static_cast<int64_t>(uint64_t{token().b} << 32 | token().a);
  }
  std::string_view string_value() const;

  // AsInt / AsString / AsList / AsDict check the type; the error names the
  // expected and actual type and the byte offset.
  absl::StatusOr<int64_t> AsInt() const;
  absl::StatusOr<std::string_view> AsString() const;
  absl::StatusOr<Node> AsList() const;
  absl::StatusOr<Node> AsDict() const;

  // size is the number of list elements or dict pairs (0 for scalars).
  size_t size() const { return is_int() || is_string() ? 0 : token().b; }

  // items iterates a list's elements (nothing for other types).
  ListRange items() const;
  // pairs iterates a dict's (key, value) pairs in input order (nothing for
  // other types).
  DictRange pairs() const;

  // Find looks `key` up in a dict; nullopt if absent or this is not a dict.
  std::optional<Node> Find(std::string_view key) const;

  // Get* look `key` up and check its type. Errors: kNotFound when the key is
  // absent, kInvalidArgument when this is not a dict or the value has the
  // wrong type; messages name the key and byte offset.
  absl::StatusOr<Node> Get(std::string_view key) const;
  absl::StatusOr<int64_t> GetInt(std::string_view key) const;
  absl::StatusOr<std::string_view> GetString(std::string_view key) const;
  absl::StatusOr<Node> GetList(std::string_view key) const;
  absl::StatusOr<Node> GetDict(std::string_view key) const;

  // TypeError is the error "<what>: expected <type>, got <type> at byte N".
  absl::Status TypeError(std::string_view what, Type expected) const;

  friend bool operator==(const Node& a, const Node& b) {
    return a.doc_ == b.doc_ && a.index_ == b.index_;
  }

 private:
  friend class Document;
  friend class ListRange;
  friend class DictRange;
  Node(const Document* doc, uint32_t index) : doc_(doc), index_(index) {}
  const internal::Token& token() const;

  const Document* doc_ = nullptr;
  uint32_t index_ = 0;
};

// Document owns the tokens of one decoded input. It does not own the input:
// the buffer given to Decode must outlive the Document and every view taken
// from it.
class Document {
 public:
  Document() = default;
  Document(Document&&) = default;
  Document& operator=(Document&&) = default;
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  // root is the top-level value. Requires a successful Decode.
  Node root() const { return Node(this, 0); }
  std::string_view input() const { return input_; }
  size_t token_count() const { return tokens_.size(); }

 private:
  friend class Node;
  friend class ListRange;
  friend class DictRange;
  friend absl::Status Decode(std::string_view, Document*, const DecodeOptions&);

  std::string_view input_;
  std::vector<internal::Token> tokens_;
};

// Decode parses `input` into a new Document. `input` must outlive it.
absl::StatusOr<Document> Decode(std::string_view input,
                                const DecodeOptions& options = {});

// Decode parses `input` into `*doc`, reusing its memory (for decoding many
// messages in a loop). On error `*doc` is left empty.
absl::Status Decode(std::string_view input, Document* doc,
                    const DecodeOptions& options = {});

// ListRange / DictRange iterate a container's children in input order.
class ListRange {
 public:
  class iterator {
   public:
    using value_type = Node;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::forward_iterator_tag;
    Node operator*() const { return Node(doc_, index_); }
    iterator& operator++();
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const { return index_ == o.index_; }

   private:
    friend class ListRange;
    iterator(const Document* doc, uint32_t index) : doc_(doc), index_(index) {}
    const Document* doc_;
    uint32_t index_;
  };
  iterator begin() const { return iterator(doc_, begin_); }
  iterator end() const { return iterator(doc_, end_); }

 private:
  friend class Node;
  ListRange(const Document* doc, uint32_t begin, uint32_t end)
      : doc_(doc), begin_(begin), end_(end) {}
  const Document* doc_;
  uint32_t begin_, end_;
};

class DictRange {
 public:
  class iterator {
   public:
    using value_type = std::pair<std::string_view, Node>;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::forward_iterator_tag;
    std::pair<std::string_view, Node> operator*() const;
    iterator& operator++();
    bool operator==(const iterator& o) const { return index_ == o.index_; }

   private:
    friend class DictRange;
    iterator(const Document* doc, uint32_t index) : doc_(doc), index_(index) {}
    const Document* doc_;
    uint32_t index_;  // index of the key token
  };
  iterator begin() const { return iterator(doc_, begin_); }
  iterator end() const { return iterator(doc_, end_); }

 private:
  friend class Node;
  DictRange(const Document* doc, uint32_t begin, uint32_t end)
      : doc_(doc), begin_(begin), end_(end) {}
  const Document* doc_;
  uint32_t begin_, end_;
};

}  // namespace bt::bencode

#endif  // BENCODE_DECODER_H_
