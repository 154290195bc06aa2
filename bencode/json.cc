#include "bencode/json.h"

#include <cstdint>
#include <string_view>

#include "absl/strings/str_format.h"

namespace bt::bencode {
namespace {

constexpr size_t kShortBinary = 32;

bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      uint8_t cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char ch : s) {
    uint8_t c = static_cast<uint8_t>(ch);
    switch (ch) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void AppendHex(std::string_view s, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (char ch : s) {
    uint8_t c = static_cast<uint8_t>(ch);
    out->push_back(kDigits[c >> 4]);
    out->push_back(kDigits[c & 15]);
  }
}

class JsonWriter {
 public:
  JsonWriter(const JsonOptions& options, std::string* out)
      : options_(options), out_(out) {}

  void Write(const Node& node, int depth) {
    switch (node.type()) {
      case Type::kInt:
        absl::StrAppendFormat(out_, "%d", node.int_value());
        return;
      case Type::kString:
        WriteString(node.string_value(), depth);
        return;
      case Type::kList: {
        if (node.size() == 0) {
          out_->append("[]");
          return;
        }
        out_->push_back('[');
        bool first = true;
        for (Node item : node.items()) {
          if (!first) out_->push_back(',');
          first = false;
          NewLine(depth + 1);
          Write(item, depth + 1);
        }
        NewLine(depth);
        out_->push_back(']');
        return;
      }
      case Type::kDict: {
        if (node.size() == 0) {
          out_->append("{}");
          return;
        }
        out_->push_back('{');
        bool first = true;
        for (auto [key, value] : node.pairs()) {
          if (!first) out_->push_back(',');
          first = false;
          NewLine(depth + 1);
          if (IsUtf8(key)) {
            AppendJsonString(key, out_);
          } else {
            std::string hex = "hex:";
            AppendHex(key, &hex);
            AppendJsonString(hex, out_);
          }
          out_->append(options_.indent > 0 ? ": " : ":");
          Write(value, depth + 1);
        }
        NewLine(depth);
        out_->push_back('}');
        return;
      }
    }
  }

 private:
  void WriteString(std::string_view s, int depth) {
    if (IsUtf8(s)) {
      AppendJsonString(s, out_);
      return;
    }
    bool shorten = !options_.full_binary && s.size() > kShortBinary;
    out_->append("{\"hex\": \"");
    AppendHex(shorten ? s.substr(0, kShortBinary) : s, out_);
    out_->push_back('"');
    if (shorten) absl::StrAppendFormat(out_, ", \"bytes\": %d", s.size());
    out_->push_back('}');
  }

  void NewLine(int depth) {
    if (options_.indent <= 0) return;
    out_->push_back('\n');
    out_->append(static_cast<size_t>(depth * options_.indent), ' ');
  }

  const JsonOptions& options_;
  std::string* out_;
};

}  // namespace

std::string ToJson(const Node& node, const JsonOptions& options) {
  std::string out;
  JsonWriter(options, &out).Write(node, 0);
  return out;
}

}  // namespace bt::bencode
