// The `bt` tool's one flag parser. A command declares each flag and
// positional argument once, bound to a variable, with its help text; Parse
// fills the variables from the command line, and Usage/Help describe what was
// declared. Nothing else in client/cli reads argv by hand.
//
//   std::string torrent;
//   uint16_t port = 6881;
//   std::vector<Endpoint> peers;
//   bt::client::cli::FlagSet flags("bt seed", "Seeds one torrent.");
//   flags.String("TORRENT", &torrent, "the .torrent file");
//   flags.Int("--port N", &port, "the port to listen on");
//   flags.Parsed("--peer HOST:PORT", &peers, Endpoint::Parse, "a peer to add");
//   if (absl::Status s = flags.Parse(args); !s.ok()) ...  // "--port needs a
//                                                         // number, got 'x'"
//
// A declaration's spec names the flag and its value: "--port N",
// "-o, --output FILE", "--json" (no value). A spec without a leading dash
// declares a positional argument instead ("TORRENT"); positionals are
// required and filled in declaration order, and a Repeated (or repeated
// Parsed) positional takes all the remaining ones (at least one).
//
// On the command line, a flag's value is the next argument or follows '='
// ("--port 6881", "--port=6881"); a repeated flag appends each occurrence,
// other flags keep the last; "--" ends the flags; "-" alone is positional;
// "-h"/"--help" stops parsing and sets help_requested().
#ifndef CLIENT_CLI_FLAGS_H_
#define CLIENT_CLI_FLAGS_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace bt::client::cli {

// FlagKind is what a flag's value is, which decides how Parse reads it.
enum class FlagKind {
  kBool,      // no value; presence sets the variable
  kString,    // any text (also Parsed values)
  kInt,       // a decimal integer within [min, max]
  kDouble,    // a decimal number
  kRepeated,  // text, once per occurrence
  kEnum,      // one of a fixed set of words
};

// Parser turns a flag's text into a T, or says why it cannot.
template <typename T>
using Parser = std::function<absl::StatusOr<T>(std::string_view)>;

namespace internal {
struct FlagState;
}  // namespace internal

// Flag is one declared flag or positional argument, owned by its FlagSet
// (a handle onto the FlagSet's record of it). Its modifiers return *this so
// they chain onto a declaration:
//   flags.Int("--threads N", &threads, "hashing threads").Min(1);
class Flag {
 public:
  explicit Flag(internal::FlagState* state) : state_(state) {}
  Flag(const Flag&) = delete;
  Flag& operator=(const Flag&) = delete;

  // Required makes Parse fail when the flag is absent. (Positionals always
  // are required.)
  Flag& Required();
  // Min and Max narrow an Int flag's range (the variable's type bounds it
  // already: a uint16_t takes 0..65535).
  Flag& Min(int64_t min);
  Flag& Max(int64_t max);
  // Positive makes an Int flag at least 1 and a Double flag more than 0.
  Flag& Positive();
  // DefaultText replaces the default Help shows, which is otherwise the
  // bound variable's value at declaration; "" shows none.
  Flag& DefaultText(std::string_view text);

  // name is the first spelling in the spec ("-o"), or a positional's name.
  const std::string& name() const;
  // kind is what the flag's value is.
  FlagKind kind() const;
  // positional is true for a positional argument, false for a flag.
  bool positional() const;

 private:
  internal::FlagState* state_;
};

namespace internal {

// FlagState is what a FlagSet knows of one declaration: its spellings,
// checks and bound variable (through `store`), and the Flag handle its
// declaration returns. Internal to FlagSet; not part of the API.
struct FlagState {
  FlagState(FlagKind kind, std::string_view spec, std::string_view help);
  FlagState(const FlagState&) = delete;
  FlagState& operator=(const FlagState&) = delete;

  bool positional() const { return names.empty(); }
  const std::string& name() const {
    return names.empty() ? value_name : names[0];
  }
  bool repeated() const { return kind == FlagKind::kRepeated; }
  bool Spells(std::string_view name) const;
  absl::Status Store(const std::string& shown_name, const std::string& text);
  absl::StatusOr<int64_t> ParseInt(const std::string& name,
                                   const std::string& text) const;
  absl::StatusOr<double> ParseDouble(const std::string& name,
                                     const std::string& text) const;
  absl::StatusOr<size_t> ParseChoice(const std::string& name,
                                     const std::string& text) const;
  std::string ValueName() const;  // "N", or an Enum's "a|b|c"
  std::string Synopsis() const;   // "[--port N]", "-o DIR", "INFOHASH..."
  std::string Names() const;      // "-o, --output DIR"
  std::string HelpText() const;   // help plus "(default: ...)" and the like

  Flag handle{this};
  FlagKind kind;
  std::vector<std::string> names;  // "-o", "--output"; none for positionals
  std::string value_name;          // "DIR"; a positional's name
  std::string help;
  std::string default_text;          // shown in Help when not empty
  std::vector<std::string> choices;  // kEnum
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  bool positive = false;
  bool required = false;
  bool seen = false;
  // store receives the text of one occurrence ("" for kBool) after the
  // checks its kind makes, and sets the bound variable.
  std::function<absl::Status(const std::string& name, const std::string& text)>
      store;
};

}  // namespace internal

// FlagSet holds one command's declarations, parses its arguments into the
// bound variables, and renders its usage and help. Bound variables must
// outlive the FlagSet's Parse; their values at declaration time are the
// defaults Help shows. Declaring the same spelling twice, or a positional
// after a repeated one, is a programming error: the later one is never
// reached.
class FlagSet {
 public:
  // FlagSet names the command as it is typed ("bt download"); `description`
  // (may be empty) is printed by Help between the usage and the flags.
  explicit FlagSet(std::string program, std::string description = "");
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;
  ~FlagSet();

  // Bool declares a flag without a value that sets `*out` to true.
  Flag& Bool(std::string_view spec, bool* out, std::string_view help);
  // Switch declares a flag without a value that sets `*out` to `value`;
  // several switches on one variable make a choice where the last given
  // wins ("--v1", "--v2", "--hybrid").
  template <typename T>
  Flag& Switch(std::string_view spec, T* out, T value, std::string_view help);
  // String declares a flag (or positional) whose text is stored as is.
  Flag& String(std::string_view spec, std::string* out, std::string_view help);
  // Int declares an integer flag. T is an integer type or std::optional of
  // one (left empty when the flag is absent); its bounds are the range.
  template <typename T>
  Flag& Int(std::string_view spec, T* out, std::string_view help);
  // Double declares a flag holding a finite decimal number ("0.5").
  Flag& Double(std::string_view spec, double* out, std::string_view help);
  // Repeated declares a flag that may be given many times; each value is
  // appended to `*out`. As a positional, it takes the remaining arguments.
  Flag& Repeated(std::string_view spec, std::vector<std::string>* out,
                 std::string_view help);
  // Enum declares a flag whose value is one of `choices`' words, storing the
  // word's value. Without a value name in the spec, Help shows the words
  // ("--encryption disabled|enabled|forced").
  template <typename T>
  Flag& Enum(std::string_view spec, T* out,
             std::vector<std::pair<std::string, T>> choices,
             std::string_view help);
  // Parsed declares a flag whose text `parse` converts; its error becomes
  // the flag's ("--peer: invalid endpoint ..."). Bound to a std::vector<T>,
  // the flag repeats.
  template <typename T>
  Flag& Parsed(std::string_view spec, T* out,
               std::type_identity_t<Parser<T>> parse, std::string_view help);
  template <typename T>
  Flag& Parsed(std::string_view spec, std::vector<T>* out,
               std::type_identity_t<Parser<T>> parse, std::string_view help);

  // Check adds a rule Parse applies after all arguments are read, for what
  // involves several flags; its error is Parse's.
  void Check(std::function<absl::Status()> check);

  // KeepAlive holds `owner` (what the bound variables live in) for as long
  // as the FlagSet lives, so that a FlagSet never writes to freed variables.
  void KeepAlive(std::shared_ptr<const void> owner);

  // Parse reads `args` (without the program and command names) into the
  // bound variables. Errors are kInvalidArgument and name the flag or
  // argument and the offending text. Call it once per FlagSet.
  absl::Status Parse(const std::vector<std::string>& args);
  // help_requested is true when Parse met "-h" or "--help"; the variables
  // are then only partly set and no check ran.
  bool help_requested() const { return help_requested_; }

  // Find returns the flag spelled `name` ("--port", "-o"), or the positional
  // of that name, or null.
  const Flag* Find(std::string_view name) const;

  // Usage is the synopsis, wrapped to 80 columns:
  // "usage: bt seed TORRENT DIR [--port N] [--peer HOST:PORT]...\n".
  std::string Usage() const;
  // Help is Usage, the description, and a line per argument and flag.
  std::string Help() const;

 private:
  internal::FlagState& Add(FlagKind kind, std::string_view spec,
                           std::string_view help);
  template <typename T>
  Flag& AddParsed(FlagKind kind, std::string_view spec, std::string_view help,
                  Parser<T> parse, std::function<void(T)> sink);
  absl::Status ParseFlag(const std::vector<std::string>& args, size_t* i);
  absl::Status StorePositional(
      const std::vector<internal::FlagState*>& positionals, size_t index,
      const std::string& text);
  absl::Status Finish(const std::vector<internal::FlagState*>& positionals,
                      size_t given);
  std::vector<internal::FlagState*> Positionals() const;

  std::string program_;
  std::string description_;
  // Declaration order.
  std::vector<std::unique_ptr<internal::FlagState>> flags_;
  std::vector<std::function<absl::Status()>> checks_;
  std::vector<std::shared_ptr<const void>> kept_alive_;
  bool help_requested_ = false;
};

namespace internal {

// ValueError prefixes a Parser's error with the flag's name.
absl::Status ValueError(std::string_view name, const absl::Status& status);

template <typename T>
struct OptionalTraits {
  using Value = T;
  static constexpr bool kOptional = false;
};
template <typename T>
struct OptionalTraits<std::optional<T>> {
  using Value = T;
  static constexpr bool kOptional = true;
};

}  // namespace internal

template <typename T>
Flag& FlagSet::Switch(std::string_view spec, T* out, T value,
                      std::string_view help) {
  internal::FlagState& f = Add(FlagKind::kBool, spec, help);
  f.store = [out, value](const std::string&, const std::string&) {
    *out = value;
    return absl::OkStatus();
  };
  return f.handle;
}

template <typename T>
Flag& FlagSet::Int(std::string_view spec, T* out, std::string_view help) {
  using Traits = internal::OptionalTraits<T>;
  using V = typename Traits::Value;
  static_assert(std::is_integral_v<V> && !std::is_same_v<V, bool>);
  internal::FlagState& f = Add(FlagKind::kInt, spec, help);
  f.min = static_cast<int64_t>(std::numeric_limits<V>::min());
  f.max = std::numeric_limits<V>::max() >
                  static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
              ? std::numeric_limits<int64_t>::max()
              : static_cast<int64_t>(std::numeric_limits<V>::max());
  if constexpr (!Traits::kOptional) f.default_text = absl::StrCat(*out);
  f.store = [&f, out](const std::string& name, const std::string& text) {
    absl::StatusOr<int64_t> v = f.ParseInt(name, text);
    if (v.ok()) *out = static_cast<V>(*v);
    return v.status();
  };
  return f.handle;
}

template <typename T>
Flag& FlagSet::Enum(std::string_view spec, T* out,
                    std::vector<std::pair<std::string, T>> choices,
                    std::string_view help) {
  internal::FlagState& f = Add(FlagKind::kEnum, spec, help);
  std::vector<T> values;
  for (auto& [word, value] : choices) {
    if (value == *out) f.default_text = word;
    f.choices.push_back(std::move(word));
    values.push_back(std::move(value));
  }
  f.store = [&f, out, values = std::move(values)](const std::string& name,
                                                  const std::string& text) {
    absl::StatusOr<size_t> i = f.ParseChoice(name, text);
    if (i.ok()) *out = values[*i];
    return i.status();
  };
  return f.handle;
}

template <typename T>
Flag& FlagSet::Parsed(std::string_view spec, T* out,
                      std::type_identity_t<Parser<T>> parse,
                      std::string_view help) {
  return AddParsed<T>(FlagKind::kString, spec, help, std::move(parse),
                      [out](T v) { *out = std::move(v); });
}

template <typename T>
Flag& FlagSet::Parsed(std::string_view spec, std::vector<T>* out,
                      std::type_identity_t<Parser<T>> parse,
                      std::string_view help) {
  return AddParsed<T>(FlagKind::kRepeated, spec, help, std::move(parse),
                      [out](T v) { out->push_back(std::move(v)); });
}

template <typename T>
Flag& FlagSet::AddParsed(FlagKind kind, std::string_view spec,
                         std::string_view help, Parser<T> parse,
                         std::function<void(T)> sink) {
  internal::FlagState& f = Add(kind, spec, help);
  f.store = [parse = std::move(parse), sink = std::move(sink)](
                const std::string& name, const std::string& text) {
    absl::StatusOr<T> v = parse(text);
    if (!v.ok()) return internal::ValueError(name, v.status());
    sink(*std::move(v));
    return absl::OkStatus();
  };
  return f.handle;
}

}  // namespace bt::client::cli

#endif  // CLIENT_CLI_FLAGS_H_
