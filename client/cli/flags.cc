#include "client/cli/flags.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"

namespace bt::client::cli {
namespace {

constexpr size_t kWidth = 80;       // columns of usage and help
constexpr size_t kHelpColumn = 24;  // where a flag's help text starts

absl::Status Bad(const std::string& name, const std::string& what,
                 const std::string& text) {
  return absl::InvalidArgumentError(
      absl::StrCat(name, " ", what, ", got '", text, "'"));
}

// AppendWrapped appends `units` separated by spaces to `out`, whose last line
// is `column` wide, breaking lines before `kWidth` and indenting new lines
// by `indent`. A unit is never split.
void AppendWrapped(std::string* out, const std::vector<std::string>& units,
                   size_t column, size_t indent) {
  bool first = true;
  for (const std::string& unit : units) {
    if (!first && column + 1 + unit.size() > kWidth && column > indent) {
      absl::StrAppend(out, "\n", std::string(indent, ' '));
      column = indent;
    } else if (!first) {
      out->push_back(' ');
      ++column;
    }
    out->append(unit);
    column += unit.size();
    first = false;
  }
}

// AppendRow appends "  NAMES   HELP" with HELP wrapped at kHelpColumn.
void AppendRow(std::string* out, const std::string& names,
               const std::string& help) {
  std::string row = absl::StrCat("  ", names);
  if (row.size() + 2 > kHelpColumn) {
    absl::StrAppend(&row, "\n", std::string(kHelpColumn, ' '));
  } else {
    row.resize(kHelpColumn, ' ');
  }
  AppendWrapped(&row, absl::StrSplit(help, ' ', absl::SkipEmpty()), kHelpColumn,
                kHelpColumn);
  absl::StrAppend(out, row, "\n");
}

// OneOf renders "a, b or c".
std::string OneOf(const std::vector<std::string>& words) {
  if (words.size() < 2) return absl::StrJoin(words, "");
  return absl::StrCat(absl::StrJoin(words.begin(), words.end() - 1, ", "),
                      " or ", words.back());
}

}  // namespace

namespace internal {

absl::Status ValueError(std::string_view name, const absl::Status& status) {
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: %s", name, status.message()));
}

}  // namespace internal

Flag::Flag(FlagKind kind, std::string_view spec, std::string_view help)
    : kind_(kind), help_(help) {
  const std::string text(spec);
  for (absl::string_view token :
       absl::StrSplit(text, absl::ByAnyChar(", "), absl::SkipEmpty())) {
    if (token[0] == '-') {
      names_.emplace_back(token);
    } else {
      value_name_ = std::string(token);
    }
  }
  if (names_.empty()) {
    value_name_ = std::string(absl::StripAsciiWhitespace(text));
  } else if (value_name_.empty() && kind != FlagKind::kBool) {
    value_name_ = kind == FlagKind::kEnum ? "" : "VALUE";
  }
}

Flag& Flag::Required() {
  required_ = true;
  return *this;
}

Flag& Flag::Min(int64_t min) {
  min_ = std::max(min_, min);
  return *this;
}

Flag& Flag::Max(int64_t max) {
  max_ = std::min(max_, max);
  return *this;
}

Flag& Flag::Positive() {
  positive_ = true;
  return Min(1);
}

Flag& Flag::DefaultText(std::string_view text) {
  default_ = std::string(text);
  return *this;
}

bool Flag::repeated() const { return kind_ == FlagKind::kRepeated; }

bool Flag::Spells(std::string_view name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

absl::Status Flag::Store(const std::string& shown_name,
                         const std::string& text) {
  seen_ = true;
  return store_(shown_name, text);
}

absl::StatusOr<int64_t> Flag::ParseInt(const std::string& name,
                                       const std::string& text) const {
  int64_t v;
  if (!absl::SimpleAtoi(text, &v)) return Bad(name, "needs a number", text);
  if (v >= min_ && v <= max_) return v;
  // Bounds as wide as an int's are the type's, not the flag's: name only
  // the side that was crossed.
  constexpr int64_t kWide = std::numeric_limits<int32_t>::max();
  if (min_ > -kWide && max_ < kWide) {
    return Bad(name, absl::StrCat("must be between ", min_, " and ", max_),
               text);
  }
  return v < min_ ? Bad(name, absl::StrCat("must be at least ", min_), text)
                  : Bad(name, absl::StrCat("must be at most ", max_), text);
}

absl::StatusOr<double> Flag::ParseDouble(const std::string& name,
                                         const std::string& text) const {
  double v;
  if (!absl::SimpleAtod(text, &v) || !std::isfinite(v)) {
    return Bad(name, "needs a number", text);
  }
  if (positive_ && v <= 0) return Bad(name, "must be more than 0", text);
  return v;
}

absl::StatusOr<size_t> Flag::ParseChoice(const std::string& name,
                                         const std::string& text) const {
  auto it = std::find(choices_.begin(), choices_.end(), text);
  if (it == choices_.end()) {
    return positional()
               ? absl::InvalidArgumentError(absl::StrFormat(
                     "expected %s, got '%s'", OneOf(choices_), text))
               : Bad(name, absl::StrCat("must be ", OneOf(choices_)), text);
  }
  return static_cast<size_t>(it - choices_.begin());
}

std::string Flag::ValueName() const {
  if (kind_ == FlagKind::kEnum && value_name_.empty()) {
    return absl::StrJoin(choices_, "|");
  }
  return value_name_;
}

std::string Flag::Synopsis() const {
  const char* more = repeated() ? "..." : "";
  if (positional()) return absl::StrCat(ValueName(), more);
  std::string core = names_[0];
  if (kind_ != FlagKind::kBool) absl::StrAppend(&core, " ", ValueName());
  return required_ ? absl::StrCat(core, more)
                   : absl::StrCat("[", core, "]", more);
}

std::string Flag::Names() const {
  if (positional()) return ValueName();
  std::string names = absl::StrJoin(names_, ", ");
  if (kind_ != FlagKind::kBool) absl::StrAppend(&names, " ", ValueName());
  return names;
}

std::string Flag::HelpText() const {
  std::string text = help_;
  if (required_) absl::StrAppend(&text, " (required)");
  if (repeated()) {
    absl::StrAppend(&text, positional() ? " (one or more)" : " (repeatable)");
  }
  if (!default_.empty() && !positional()) {
    absl::StrAppend(&text, " (default: ", default_, ")");
  }
  return text;
}

FlagSet::FlagSet(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {}

FlagSet::~FlagSet() = default;

Flag& FlagSet::Add(FlagKind kind, std::string_view spec,
                   std::string_view help) {
  flags_.push_back(std::unique_ptr<Flag>(new Flag(kind, spec, help)));
  return *flags_.back();
}

Flag& FlagSet::Bool(std::string_view spec, bool* out, std::string_view help) {
  return Switch(spec, out, true, help);
}

Flag& FlagSet::String(std::string_view spec, std::string* out,
                      std::string_view help) {
  Flag& f = Add(FlagKind::kString, spec, help);
  f.default_ = *out;
  f.store_ = [out](const std::string&, const std::string& text) {
    *out = std::string(text);
    return absl::OkStatus();
  };
  return f;
}

Flag& FlagSet::Double(std::string_view spec, double* out,
                      std::string_view help) {
  Flag& f = Add(FlagKind::kDouble, spec, help);
  f.default_ = absl::StrCat(*out);
  f.store_ = [&f, out](const std::string& name, const std::string& text) {
    absl::StatusOr<double> v = f.ParseDouble(name, text);
    if (v.ok()) *out = *v;
    return v.status();
  };
  return f;
}

Flag& FlagSet::Repeated(std::string_view spec, std::vector<std::string>* out,
                        std::string_view help) {
  Flag& f = Add(FlagKind::kRepeated, spec, help);
  f.store_ = [out](const std::string&, const std::string& text) {
    out->emplace_back(text);
    return absl::OkStatus();
  };
  return f;
}

void FlagSet::Check(std::function<absl::Status()> check) {
  checks_.push_back(std::move(check));
}

void FlagSet::KeepAlive(std::shared_ptr<const void> owner) {
  kept_alive_.push_back(std::move(owner));
}

const Flag* FlagSet::Find(std::string_view name) const {
  for (const auto& f : flags_) {
    if (f->Spells(name) || (f->positional() && f->value_name_ == name)) {
      return f.get();
    }
  }
  return nullptr;
}

std::vector<Flag*> FlagSet::Positionals() const {
  std::vector<Flag*> out;
  for (const auto& f : flags_) {
    if (f->positional()) out.push_back(f.get());
  }
  return out;
}

absl::Status FlagSet::Parse(const std::vector<std::string>& args) {
  const std::vector<Flag*> positionals = Positionals();
  size_t given = 0;
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!flags_ended && a == "--") {
      flags_ended = true;
    } else if (flags_ended || a.size() < 2 || a[0] != '-') {
      RETURN_IF_ERROR(StorePositional(positionals, given++, a));
    } else if (a == "-h" || a == "--help") {
      help_requested_ = true;
      return absl::OkStatus();
    } else {
      RETURN_IF_ERROR(ParseFlag(args, &i));
    }
  }
  return Finish(positionals, given);
}

absl::Status FlagSet::StorePositional(const std::vector<Flag*>& positionals,
                                      size_t index, const std::string& text) {
  Flag* f = nullptr;
  if (index < positionals.size()) {
    f = positionals[index];
  } else if (!positionals.empty() && positionals.back()->repeated()) {
    f = positionals.back();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", text, "'"));
  }
  return f->Store(f->value_name_, text);
}

absl::Status FlagSet::ParseFlag(const std::vector<std::string>& args,
                                size_t* i) {
  std::string name = args[*i];
  std::optional<std::string> value;
  if (size_t eq = name.find('=');
      absl::StartsWith(name, "--") && eq != std::string::npos) {
    value = name.substr(eq + 1);
    name = name.substr(0, eq);
  }
  auto it = std::find_if(flags_.begin(), flags_.end(),
                         [&](const auto& f) { return f->Spells(name); });
  if (it == flags_.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name));
  }
  Flag& f = **it;
  if (f.kind() == FlagKind::kBool) {
    if (value) return Bad(name, "takes no value", *value);
    return f.Store(name, "");
  }
  if (!value) {
    if (*i + 1 >= args.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " needs a value (", f.ValueName(), ")"));
    }
    value = args[++*i];
  }
  return f.Store(name, *value);
}

absl::Status FlagSet::Finish(const std::vector<Flag*>& positionals,
                             size_t given) {
  for (const auto& f : flags_) {
    if (f->required_ && !f->seen_) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing ", f->Synopsis()));
    }
  }
  if (given < positionals.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing ", positionals[given]->Synopsis()));
  }
  for (const auto& check : checks_) RETURN_IF_ERROR(check());
  return absl::OkStatus();
}

std::string FlagSet::Usage() const {
  std::vector<std::string> units;
  for (const Flag* f : Positionals()) units.push_back(f->Synopsis());
  for (bool required : {true, false}) {
    for (const auto& f : flags_) {
      if (!f->positional() && f->required_ == required) {
        units.push_back(f->Synopsis());
      }
    }
  }
  std::string out = absl::StrCat("usage: ", program_);
  const size_t indent = std::min<size_t>(out.size() + 1, kHelpColumn);
  if (!units.empty()) out.push_back(' ');
  AppendWrapped(&out, units, out.size(), indent);
  return out + "\n";
}

std::string FlagSet::Help() const {
  std::string out = Usage();
  if (!description_.empty()) absl::StrAppend(&out, "\n", description_, "\n");
  const std::vector<Flag*> positionals = Positionals();
  if (!positionals.empty()) absl::StrAppend(&out, "\narguments:\n");
  for (const Flag* f : positionals) AppendRow(&out, f->Names(), f->HelpText());
  absl::StrAppend(&out, "\nflags:\n");
  for (const auto& f : flags_) {
    if (!f->positional()) AppendRow(&out, f->Names(), f->HelpText());
  }
  AppendRow(&out, "-h, --help", "show this help");
  return out;
}

}  // namespace bt::client::cli
