#include "daemon/json_args.h"

#include <algorithm>

namespace bt::daemon {
namespace {

// CheckShape counts nesting and values of `text` outside strings, so a
// hostile body is refused before the parser allocates for it.
absl::Status CheckShape(std::string_view text) {
  int depth = 0;
  size_t values = 1;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > kMaxJsonDepth) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "JSON nested deeper than ", kMaxJsonDepth, " levels"));
        }
        break;
      case ']':
      case '}':
        --depth;
        break;
      case ',':
      case ':':
        if (++values > kMaxJsonValues) {
          return absl::ResourceExhaustedError(
              absl::StrCat("JSON holds more than ", kMaxJsonValues, " values"));
        }
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

std::string Key(std::string_view key) { return "'" + std::string(key) + "'"; }

}  // namespace

absl::StatusOr<Json> ParseJson(std::string_view text) {
  if (absl::Status s = CheckShape(text); !s.ok()) return s;
  Json j = Json::parse(text.begin(), text.end(), nullptr,
                       /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Find where it went wrong with the SAX interface, which reports the
    // byte offset without throwing.
    struct Sax : nlohmann::json_sax<Json> {
      size_t where = 0;
      bool null() override { return true; }
      bool boolean(bool) override { return true; }
      bool number_integer(number_integer_t) override { return true; }
      bool number_unsigned(number_unsigned_t) override { return true; }
      bool number_float(number_float_t, const string_t&) override {
        return true;
      }
      bool string(string_t&) override { return true; }
      bool binary(binary_t&) override { return true; }
      bool start_object(std::size_t) override { return true; }
      bool key(string_t&) override { return true; }
      bool end_object() override { return true; }
      bool start_array(std::size_t) override { return true; }
      bool end_array() override { return true; }
      bool parse_error(std::size_t position, const std::string&,
                       const nlohmann::detail::exception&) override {
        where = position;
        return false;
      }
    } sax;
    Json::sax_parse(text.begin(), text.end(), &sax,
                    nlohmann::detail::input_format_t::json, false);
    return absl::InvalidArgumentError(
        absl::StrCat("malformed JSON at byte ", sax.where));
  }
  return j;
}

const Json* JsonArgs::Value(std::string_view key) const {
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

bool JsonArgs::Has(std::string_view key) const { return Value(key) != nullptr; }

absl::Status JsonArgs::Bool(std::string_view key, bool* out) const {
  const Json* v = Value(key);
  if (v == nullptr) return absl::OkStatus();
  // Transmission's clients send booleans, and sometimes 0 or 1.
  if (v->is_boolean()) {
    *out = v->get<bool>();
  } else if (v->is_number_integer() &&
             (v->get<int64_t>() == 0 || v->get<int64_t>() == 1)) {
    *out = v->get<int64_t>() == 1;
  } else {
    return absl::InvalidArgumentError(Key(key) + " must be a boolean");
  }
  return absl::OkStatus();
}

absl::Status JsonArgs::String(std::string_view key, std::string* out) const {
  const Json* v = Value(key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_string()) {
    return absl::InvalidArgumentError(Key(key) + " must be a string");
  }
  *out = v->get<std::string>();
  return absl::OkStatus();
}

absl::Status JsonArgs::Int64(std::string_view key, int64_t* out, int64_t min,
                             int64_t max) const {
  const Json* v = Value(key);
  if (v == nullptr) return absl::OkStatus();
  int64_t n = 0;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() &&
        v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      n = INT64_MAX;
    } else {
      n = v->get<int64_t>();
    }
  } else if (v->is_number_float() && v->get<double>() >= -9e18 &&
             v->get<double>() <= 9e18) {
    n = static_cast<int64_t>(v->get<double>());
  } else {
    return absl::InvalidArgumentError(Key(key) + " must be an integer");
  }
  if (n < min || n > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(Key(key), " must lie in [", min, ", ", max, "]"));
  }
  *out = n;
  return absl::OkStatus();
}

absl::Status JsonArgs::Number(std::string_view key, double* out) const {
  const Json* v = Value(key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_number()) {
    return absl::InvalidArgumentError(Key(key) + " must be a number");
  }
  *out = v->get<double>();
  return absl::OkStatus();
}

absl::Status JsonArgs::OneOf(
    std::string_view key, std::string* out,
    std::initializer_list<std::string_view> allowed) const {
  std::string v;
  if (absl::Status s = String(key, &v); !s.ok() || !Has(key)) return s;
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Key(key), " cannot be '", v, "'"));
  }
  *out = std::move(v);
  return absl::OkStatus();
}

absl::Status JsonArgs::Indices(std::string_view key, std::vector<size_t>* out,
                               size_t max) const {
  const Json* v = Value(key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_array()) {
    return absl::InvalidArgumentError(Key(key) + " must be an array");
  }
  out->clear();
  for (const Json& e : *v) {
    if (!e.is_number_integer() || e.get<int64_t>() < 0 ||
        static_cast<uint64_t>(e.get<int64_t>()) >= max) {
      return absl::InvalidArgumentError(
          absl::StrCat(Key(key), " must list file indices below ", max));
    }
    out->push_back(static_cast<size_t>(e.get<int64_t>()));
  }
  return absl::OkStatus();
}

}  // namespace bt::daemon
