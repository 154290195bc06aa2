// JSON for the daemon's RPC: a bounded, exception-free parse, and
// JsonArgs, typed reads of a request's "arguments" object that turn a
// wrong type or an out-of-range number into a status naming the key.
//
//   ASSIGN_OR_RETURN(Json request, ParseJson(body));
//   JsonArgs args(request["arguments"]);
//   int64_t limit = 0;
//   RETURN_IF_ERROR(args.Int("speed-limit-down", &limit, 0, kMaxSpeed));
//   // absent: `limit` unchanged; "abc": kInvalidArgument
//   // "'speed-limit-down' must be an integer"
#ifndef DAEMON_JSON_ARGS_H_
#define DAEMON_JSON_ARGS_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace bt::daemon {

using Json = nlohmann::json;

// Limits on what a request may hold: nesting, values, and numbers given
// as speeds (kB/s) or peer counts.
inline constexpr int kMaxJsonDepth = 16;
inline constexpr size_t kMaxJsonValues = 200000;
inline constexpr int64_t kMaxSpeed = int64_t{1} << 40;
inline constexpr int64_t kMaxPeers = 100000;

// ParseJson parses `text` without exceptions. Errors: kInvalidArgument
// for malformed JSON (with the byte offset), kResourceExhausted for
// nesting deeper than kMaxJsonDepth or more than kMaxJsonValues values
// (checked before anything is built).
absl::StatusOr<Json> ParseJson(std::string_view text);

class JsonArgs {
 public:
  // `object` must outlive this; a non-object reads as empty.
  explicit JsonArgs(const Json& object) : object_(object) {}

  bool Has(std::string_view key) const;
  // Each read leaves `*out` alone when the key is absent, and fails with
  // kInvalidArgument naming the key when its value has the wrong type or
  // lies outside [min, max].
  absl::Status Bool(std::string_view key, bool* out) const;
  absl::Status String(std::string_view key, std::string* out) const;
  template <typename T>
  absl::Status Int(std::string_view key, T* out, int64_t min,
                   int64_t max) const {
    int64_t v = 0;
    absl::Status s = Int64(key, &v, min, max);
    if (s.ok() && Has(key)) *out = static_cast<T>(v);
    return s;
  }
  absl::Status Number(std::string_view key, double* out) const;
  // OneOf reads a string that must be one of `allowed`.
  absl::Status OneOf(std::string_view key, std::string* out,
                     std::initializer_list<std::string_view> allowed) const;
  // Indices reads an array of integers in [0, max).
  absl::Status Indices(std::string_view key, std::vector<size_t>* out,
                       size_t max) const;
  // Value: the raw value, or null when absent.
  const Json* Value(std::string_view key) const;

 private:
  absl::Status Int64(std::string_view key, int64_t* out, int64_t min,
                     int64_t max) const;
  const Json& object_;
};

}  // namespace bt::daemon

#endif  // DAEMON_JSON_ARGS_H_
