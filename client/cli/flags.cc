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

Flag& Flag::Required() {
  state_->required = true;
  return *this;
}

Flag& Flag::Min(int64_t min) {
  state_->min = std::max(state_->min, min);
  return *this;
}

Flag& Flag::Max(int64_t max) {
  state_->max = std::min(state_->max, max);
  return *this;
}

Flag& Flag::Positive() {
  state_->positive = true;
  return Min(1);
}

Flag& Flag::DefaultText(std::string_view text) {
  state_->default_text = std::string(text);
  return *this;
}

const std::string& Flag::name() const { return state_->name(); }
FlagKind Flag::kind() const { return state_->kind; }
bool Flag::positional() const { return state_->positional(); }

namespace internal {

absl::Status ValueError(std::string_view name, const absl::Status& status) {
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: %s", name, status.message()));
}

FlagState::FlagState(FlagKind kind, std::string_view spec,
                     std::string_view help)
    : kind(kind), help(help) {
  const std::string text(spec);
  for (absl::string_view token :
       absl::StrSplit(text, absl::ByAnyChar(", "), absl::SkipEmpty())) {
    if (token[0] == '-') {
      names.emplace_back(token);
    } else {
      value_name = std::string(token);
    }
  }
  if (names.empty()) {
    value_name = std::string(absl::StripAsciiWhitespace(text));
  } else if (value_name.empty() && kind != FlagKind::kBool) {
    value_name = kind == FlagKind::kEnum ? "" : "VALUE";
  }
}

bool FlagState::Spells(std::string_view name) const {
  return std::find(names.begin(), names.end(), name) != names.end();
}

absl::Status FlagState::Store(const std::string& shown_name,
                              const std::string& text) {
  seen = true;
  return store(shown_name, text);
}

absl::StatusOr<int64_t> FlagState::ParseInt(const std::string& name,
                                            const std::string& text) const {
  int64_t v;
  if (!absl::SimpleAtoi(text, &v)) return Bad(name, "needs a number", text);
  if (v >= min && v <= max) return v;
  // Bounds as wide as an int's are the type's, not the flag's: name only
  // the side that was crossed.
  constexpr int64_t kWide = std::numeric_limits<int32_t>::max();
  if (min > -kWide && max < kWide) {
    return Bad(name, absl::StrCat("must be between ", min, " and ", max), text);
  }
  return v < min ? Bad(name, absl::StrCat("must be at least ", min), text)
                 : Bad(name, absl::StrCat("must be at most ", max), text);
}

absl::StatusOr<double> FlagState::ParseDouble(const std::string& name,
                                              const std::string& text) const {
  double v;
  if (!absl::SimpleAtod(text, &v) || !std::isfinite(v)) {
    return Bad(name, "needs a number", text);
  }
  if (positive && v <= 0) return Bad(name, "must be more than 0", text);
  return v;
}

absl::StatusOr<size_t> FlagState::ParseChoice(const std::string& name,
                                              const std::string& text) const {
  auto it = std::find(choices.begin(), choices.end(), text);
  if (it == choices.end()) {
    return positional()
               ? absl::InvalidArgumentError(absl::StrFormat(
                     "expected %s, got '%s'", OneOf(choices), text))
               : Bad(name, absl::StrCat("must be ", OneOf(choices)), text);
  }
  return static_cast<size_t>(it - choices.begin());
}

std::string FlagState::ValueName() const {
  if (kind == FlagKind::kEnum && value_name.empty()) {
    return absl::StrJoin(choices, "|");
  }
  return value_name;
}

std::string FlagState::Synopsis() const {
  const char* more = repeated() ? "..." : "";
  if (positional()) return absl::StrCat(ValueName(), more);
  std::string core = names[0];
  if (kind != FlagKind::kBool) absl::StrAppend(&core, " ", ValueName());
  return required ? absl::StrCat(core, more)
                  : absl::StrCat("[", core, "]", more);
}

std::string FlagState::Names() const {
  if (positional()) return ValueName();
  std::string joined = absl::StrJoin(names, ", ");
  if (kind != FlagKind::kBool) absl::StrAppend(&joined, " ", ValueName());
  return joined;
}

std::string FlagState::HelpText() const {
  std::string text = help;
  if (required) absl::StrAppend(&text, " (required)");
  if (repeated()) {
    absl::StrAppend(&text, positional() ? " (one or more)" : " (repeatable)");
  }
  if (!default_text.empty() && !positional()) {
    absl::StrAppend(&text, " (default: ", default_text, ")");
  }
  return text;
}

}  // namespace internal

FlagSet::FlagSet(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {}

FlagSet::~FlagSet() = default;

internal::FlagState& FlagSet::Add(FlagKind kind, std::string_view spec,
                                  std::string_view help) {
  flags_.push_back(std::make_unique<internal::FlagState>(kind, spec, help));
  return *flags_.back();
}

Flag& FlagSet::Bool(std::string_view spec, bool* out, std::string_view help) {
  return Switch(spec, out, true, help);
}

Flag& FlagSet::String(std::string_view spec, std::string* out,
                      std::string_view help) {
  internal::FlagState& f = Add(FlagKind::kString, spec, help);
  f.default_text = *out;
  f.store = [out](const std::string&, const std::string& text) {
    *out = std::string(text);
    return absl::OkStatus();
  };
  return f.handle;
}

Flag& FlagSet::Double(std::string_view spec, double* out,
                      std::string_view help) {
  internal::FlagState& f = Add(FlagKind::kDouble, spec, help);
  f.default_text = absl::StrCat(*out);
  f.store = [&f, out](const std::string& name, const std::string& text) {
    absl::StatusOr<double> v = f.ParseDouble(name, text);
    if (v.ok()) *out = *v;
    return v.status();
  };
  return f.handle;
}

Flag& FlagSet::Repeated(std::string_view spec, std::vector<std::string>* out,
                        std::string_view help) {
  internal::FlagState& f = Add(FlagKind::kRepeated, spec, help);
  f.store = [out](const std::string&, const std::string& text) {
    out->emplace_back(text);
    return absl::OkStatus();
  };
  return f.handle;
}

void FlagSet::Check(std::function<absl::Status()> check) {
  checks_.push_back(std::move(check));
}

void FlagSet::KeepAlive(std::shared_ptr<const void> owner) {
  kept_alive_.push_back(std::move(owner));
}

const Flag* FlagSet::Find(std::string_view name) const {
  for (const auto& f : flags_) {
    if (f->Spells(name) || (f->positional() && f->value_name == name)) {
      return &f->handle;
    }
  }
  return nullptr;
}

std::vector<internal::FlagState*> FlagSet::Positionals() const {
  std::vector<internal::FlagState*> out;
  for (const auto& f : flags_) {
    if (f->positional()) out.push_back(f.get());
  }
  return out;
}

absl::Status FlagSet::Parse(const std::vector<std::string>& args) {
  const std::vector<internal::FlagState*> positionals = Positionals();
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

absl::Status FlagSet::StorePositional(
    const std::vector<internal::FlagState*>& positionals, size_t index,
    const std::string& text) {
  internal::FlagState* f = nullptr;
  if (index < positionals.size()) {
    f = positionals[index];
  } else if (!positionals.empty() && positionals.back()->repeated()) {
    f = positionals.back();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", text, "'"));
  }
  return f->Store(f->value_name, text);
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
  internal::FlagState& f = **it;
  if (f.kind == FlagKind::kBool) {
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

absl::Status FlagSet::Finish(
    const std::vector<internal::FlagState*>& positionals, size_t given) {
  for (const auto& f : flags_) {
    if (f->required && !f->seen) {
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
  for (const internal::FlagState* f : Positionals())
    units.push_back(f->Synopsis());
  for (bool required : {true, false}) {
    for (const auto& f : flags_) {
      if (!f->positional() && f->required == required) {
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
  const std::vector<internal::FlagState*> positionals = Positionals();
  if (!positionals.empty()) absl::StrAppend(&out, "\narguments:\n");
  for (const internal::FlagState* f : positionals)
    AppendRow(&out, f->Names(), f->HelpText());
  absl::StrAppend(&out, "\nflags:\n");
  for (const auto& f : flags_) {
    if (!f->positional()) AppendRow(&out, f->Names(), f->HelpText());
  }
  AppendRow(&out, "-h, --help", "show this help");
  return out;
}

}  // namespace bt::client::cli
