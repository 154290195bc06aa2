// FlagSet: every value kind, every error message, positionals, "--", help,
// and the usage and help text generated from the declarations.
#include "client/cli/flags.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace bt::client::cli {
namespace {

using Args = std::vector<std::string>;

// ErrorOf parses `args` and returns the error message, "" when it parsed.
std::string ErrorOf(FlagSet& flags, const Args& args) {
  return std::string(flags.Parse(args).message());
}

// ErrorFor parses `args` with a fresh FlagSet on which `declare` declared
// its flags, and returns the error message, "" when it parsed.
std::string ErrorFor(const std::function<void(FlagSet&)>& declare,
                     const Args& args) {
  FlagSet flags("bt x");
  declare(flags);
  return ErrorOf(flags, args);
}

TEST(FlagSetTest, BoolIsSetByItsPresenceOnly) {
  bool json = false, quiet = false;
  FlagSet flags("bt info");
  flags.Bool("--json", &json, "");
  flags.Bool("--quiet", &quiet, "");
  ASSERT_TRUE(flags.Parse({"--json"}).ok());
  EXPECT_TRUE(json);
  EXPECT_FALSE(quiet);
}

TEST(FlagSetTest, BoolRefusesAValue) {
  bool json = false;
  FlagSet flags("bt info");
  flags.Bool("--json", &json, "");
  absl::Status s = flags.Parse({"--json=yes"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "--json takes no value, got 'yes'");
}

TEST(FlagSetTest, SwitchesOnOneVariableLastWins) {
  enum class V { kOne, kTwo, kBoth };
  V v = V::kBoth;
  FlagSet flags("bt create");
  flags.Switch("--v1", &v, V::kOne, "");
  flags.Switch("--v2", &v, V::kTwo, "");
  ASSERT_TRUE(flags.Parse({"--v2", "--v1"}).ok());
  EXPECT_EQ(v, V::kOne);
}

TEST(FlagSetTest, StringTakesTheNextArgumentOrTheTextAfterEquals) {
  std::string a, b, c, d;
  FlagSet flags("bt x");
  flags.String("--a TEXT", &a, "");
  flags.String("--b TEXT", &b, "");
  flags.String("--c TEXT", &c, "");
  flags.String("--d TEXT", &d, "");
  ASSERT_TRUE(
      flags.Parse({"--a", "one", "--b=two=2", "--c=", "--d", "-x"}).ok());
  EXPECT_EQ(a, "one");
  EXPECT_EQ(b, "two=2");
  EXPECT_EQ(c, "");
  EXPECT_EQ(d, "-x");  // a value is taken as is, even with a dash
}

TEST(FlagSetTest, ScalarFlagsKeepTheLastValue) {
  std::string s;
  FlagSet flags("bt x");
  flags.String("--s TEXT", &s, "");
  ASSERT_TRUE(flags.Parse({"--s", "1", "--s", "2"}).ok());
  EXPECT_EQ(s, "2");
}

TEST(FlagSetTest, AValueMissingAtTheEndNamesTheFlagAndWhatItWants) {
  std::string dir;
  int n = 0;
  auto declare = [&](FlagSet& f) {
    f.String("-o DIR", &dir, "");
    f.Int("--n", &n, "");
  };
  EXPECT_EQ(ErrorFor(declare, {"-o"}), "-o needs a value (DIR)");
  EXPECT_EQ(ErrorFor(declare, {"--n"}), "--n needs a value (VALUE)");
}

TEST(FlagSetTest, AliasesReachOneFlagAndErrorsUseTheSpellingGiven) {
  std::string out;
  auto declare = [&](FlagSet& f) { f.String("-o, --output FILE", &out, ""); };
  EXPECT_EQ(ErrorFor(declare, {"--output", "a"}), "");
  EXPECT_EQ(out, "a");
  EXPECT_EQ(ErrorFor(declare, {"-o", "b"}), "");
  EXPECT_EQ(out, "b");
  EXPECT_EQ(ErrorFor(declare, {"--output"}), "--output needs a value (FILE)");
}

TEST(FlagSetTest, IntReadsDecimalNumbersIncludingNegativeOnes) {
  int64_t a = 0, b = 0;
  auto declare = [&](FlagSet& f) {
    f.Int("--a N", &a, "");
    f.Int("--b N", &b, "");
  };
  EXPECT_EQ(ErrorFor(declare, {"--a", "-5", "--b=9000000000"}), "");
  EXPECT_EQ(a, -5);
  EXPECT_EQ(b, 9000000000);
}

// IntError parses "--n VALUE" for one Int flag bound to a T, narrowed by
// `narrow`, and returns the error ("" when it parsed).
template <typename T>
std::string IntError(const std::string& value,
                     const std::function<void(Flag&)>& narrow = nullptr) {
  T n{};
  return ErrorFor(
      [&](FlagSet& f) {
        Flag& flag = f.Int("--n N", &n, "");
        if (narrow) narrow(flag);
      },
      {"--n", value});
}

TEST(FlagSetTest, IntRefusesWhatIsNotANumber) {
  for (const char* bad : {"x", "", "1.5", "12ab", "0x10"}) {
    EXPECT_EQ(IntError<uint16_t>(bad),
              std::string("--n needs a number, got '") + bad + "'");
  }
}

TEST(FlagSetTest, IntRangeComesFromTheType) {
  EXPECT_EQ(IntError<uint16_t>("65536"),
            "--n must be between 0 and 65535, got '65536'");
  EXPECT_EQ(IntError<uint16_t>("-1"),
            "--n must be between 0 and 65535, got '-1'");
  EXPECT_EQ(IntError<uint16_t>("65535"), "");
  EXPECT_EQ(IntError<int8_t>("-129"),
            "--n must be between -128 and 127, got '-129'");
}

TEST(FlagSetTest, IntRangesOfWideTypesNameTheSideCrossed) {
  EXPECT_EQ(IntError<int32_t>("3000000000"),
            "--n must be at most 2147483647, got '3000000000'");
  EXPECT_EQ(IntError<int32_t>("-3000000000"),
            "--n must be at least -2147483648, got '-3000000000'");
  EXPECT_EQ(IntError<uint32_t>("-1"), "--n must be at least 0, got '-1'");
  EXPECT_EQ(IntError<uint32_t>("5000000000"),
            "--n must be at most 4294967295, got '5000000000'");
  EXPECT_EQ(IntError<uint64_t>("9223372036854775807"), "");
}

TEST(FlagSetTest, MinMaxAndPositiveNarrowTheRange) {
  auto positive = [](Flag& f) { f.Positive(); };
  auto at_least_0 = [](Flag& f) { f.Min(0); };
  auto up_to_10 = [](Flag& f) { f.Max(10); };
  auto numwant = [](Flag& f) { f.Min(0).Max(100000); };
  EXPECT_EQ(IntError<int>("0", positive), "--n must be at least 1, got '0'");
  EXPECT_EQ(IntError<int>("1", positive), "");
  EXPECT_EQ(IntError<int64_t>("-1", at_least_0),
            "--n must be at least 0, got '-1'");
  EXPECT_EQ(IntError<int64_t>("11", up_to_10),
            "--n must be at most 10, got '11'");
  EXPECT_EQ(IntError<int32_t>("100001", numwant),
            "--n must be between 0 and 100000, got '100001'");
  EXPECT_EQ(IntError<int32_t>("100000", numwant), "");
  // Narrowing never widens past the type.
  EXPECT_EQ(IntError<uint16_t>("70000", [](Flag& f) { f.Max(100000); }),
            "--n must be between 0 and 65535, got '70000'");
}

TEST(FlagSetTest, OptionalIntStaysEmptyUnlessGiven) {
  std::optional<uint16_t> port, other;
  auto declare = [&](FlagSet& f) {
    f.Int("--port N", &port, "");
    f.Int("--other N", &other, "");
  };
  EXPECT_EQ(ErrorFor(declare, {"--port", "0"}), "");
  EXPECT_EQ(port, std::optional<uint16_t>(0));
  EXPECT_FALSE(other.has_value());
  EXPECT_EQ(IntError<std::optional<uint16_t>>("70000"),
            "--n must be between 0 and 65535, got '70000'");
}

TEST(FlagSetTest, DoubleReadsFiniteNumbers) {
  double t = 60;
  bool positive = true;
  auto declare = [&](FlagSet& f) {
    Flag& flag = f.Double("--timeout SECONDS", &t, "");
    if (positive) flag.Positive();
  };
  EXPECT_EQ(ErrorFor(declare, {"--timeout=0.25"}), "");
  EXPECT_EQ(t, 0.25);
  for (const char* bad : {"soon", "inf", "nan", ""}) {
    EXPECT_EQ(ErrorFor(declare, {"--timeout", bad}),
              std::string("--timeout needs a number, got '") + bad + "'");
  }
  for (const char* bad : {"0", "-1"}) {
    EXPECT_EQ(ErrorFor(declare, {"--timeout", bad}),
              std::string("--timeout must be more than 0, got '") + bad + "'");
  }
  positive = false;
  EXPECT_EQ(ErrorFor(declare, {"--timeout", "-2.5"}), "");
  EXPECT_EQ(t, -2.5);
}

TEST(FlagSetTest, RepeatedAppendsEachOccurrence) {
  std::vector<std::string> trackers;
  FlagSet flags("bt create");
  flags.Repeated("--tracker URL", &trackers, "");
  ASSERT_TRUE(
      flags.Parse({"--tracker", "a,b", "--tracker=c", "--tracker", "a,b"})
          .ok());
  EXPECT_EQ(trackers, (Args{"a,b", "c", "a,b"}));
}

enum class Policy { kOff, kOn, kForced };

TEST(FlagSetTest, EnumStoresTheChosenWordsValue) {
  Policy p = Policy::kOn;
  std::vector<std::pair<std::string, Policy>> choices = {
      {"disabled", Policy::kOff}, {"enabled", Policy::kOn}};
  auto declare = [&](FlagSet& f) { f.Enum("--encryption", &p, choices, ""); };
  EXPECT_EQ(ErrorFor(declare, {"--encryption", "disabled"}), "");
  EXPECT_EQ(p, Policy::kOff);
  EXPECT_EQ(ErrorFor(declare, {"--encryption=Enabled"}),
            "--encryption must be disabled or enabled, got 'Enabled'");
  EXPECT_EQ(ErrorFor(declare, {"--encryption"}),
            "--encryption needs a value (disabled|enabled)");
  choices.push_back({"forced", Policy::kForced});
  EXPECT_EQ(ErrorFor(declare, {"--encryption", ""}),
            "--encryption must be disabled, enabled or forced, got ''");
  EXPECT_EQ(ErrorFor(declare, {"--encryption", "forced"}), "");
  EXPECT_EQ(p, Policy::kForced);
}

TEST(FlagSetTest, EnumAsAPositional) {
  bool announce = false;
  auto declare = [&](FlagSet& f) {
    f.Enum("get-peers|announce", &announce,
           {{"get-peers", false}, {"announce", true}}, "");
  };
  EXPECT_EQ(ErrorFor(declare, {"announce"}), "");
  EXPECT_TRUE(announce);
  EXPECT_EQ(ErrorFor(declare, {"fetch"}),
            "expected get-peers or announce, got 'fetch'");
}

absl::StatusOr<int> ParseEven(std::string_view text) {
  if (text == "2") return 2;
  if (text == "4") return 4;
  return absl::InvalidArgumentError(
      absl::StrCat("'", std::string(text), "' is odd"));
}

TEST(FlagSetTest, ParsedConvertsAndPrefixesItsErrorsWithTheName) {
  int one = 0;
  std::vector<int> many;
  auto declare = [&](FlagSet& f) {
    f.Parsed("--one N", &one, ParseEven, "");
    f.Parsed("--many N", &many, ParseEven, "");
  };
  EXPECT_EQ(ErrorFor(declare, {"--one", "4", "--many", "2", "--many=4"}), "");
  EXPECT_EQ(one, 4);
  EXPECT_EQ(many, (std::vector<int>{2, 4}));
  EXPECT_EQ(ErrorFor(declare, {"--many", "2", "--many", "3"}),
            "--many: '3' is odd");
  EXPECT_EQ(ErrorFor(declare, {"--one=5"}), "--one: '5' is odd");
}

TEST(FlagSetTest, ParsedPositionalsNameThemselvesInErrors) {
  std::vector<int> evens;
  auto declare = [&](FlagSet& f) { f.Parsed("N", &evens, ParseEven, ""); };
  EXPECT_EQ(ErrorFor(declare, {"2", "4", "2"}), "");
  EXPECT_EQ(evens, (std::vector<int>{2, 4, 2}));
  EXPECT_EQ(ErrorFor(declare, {"5"}), "N: '5' is odd");
}

TEST(FlagSetTest, PositionalsFillInOrderAroundFlags) {
  std::string torrent, dir;
  uint16_t port = 0;
  FlagSet flags("bt seed");
  flags.String("TORRENT", &torrent, "");
  flags.String("DIR", &dir, "");
  flags.Int("--port N", &port, "");
  ASSERT_TRUE(flags.Parse({"--port", "1", "a.torrent", "--port=2", "d"}).ok());
  EXPECT_EQ(torrent, "a.torrent");
  EXPECT_EQ(dir, "d");
  EXPECT_EQ(port, 2);
}

TEST(FlagSetTest, MissingAndExtraPositionals) {
  std::string torrent, dir;
  auto one = [&](FlagSet& f) { f.String("TORRENT", &torrent, ""); };
  auto two = [&](FlagSet& f) {
    one(f);
    f.String("DIR", &dir, "");
  };
  EXPECT_EQ(ErrorFor(two, {"a"}), "missing DIR");
  EXPECT_EQ(ErrorFor(one, {}), "missing TORRENT");
  EXPECT_EQ(ErrorFor(one, {"a", "b"}), "unexpected argument 'b'");
  EXPECT_EQ(ErrorFor([](FlagSet&) {}, {"a"}), "unexpected argument 'a'");
}

TEST(FlagSetTest, RepeatedPositionalTakesTheRestAndNeedsOne) {
  std::string url;
  std::vector<std::string> hashes;
  auto declare = [&](FlagSet& f) {
    f.String("URL", &url, "");
    f.Repeated("INFOHASH", &hashes, "");
  };
  EXPECT_EQ(ErrorFor(declare, {"u"}), "missing INFOHASH...");
  EXPECT_EQ(ErrorFor(declare, {"u", "a", "b", "c"}), "");
  EXPECT_EQ(url, "u");
  EXPECT_EQ(hashes, (Args{"a", "b", "c"}));
}

TEST(FlagSetTest, RequiredFlagMustBeGiven) {
  std::string dir;
  auto declare = [&](FlagSet& f) { f.String("-o DIR", &dir, "").Required(); };
  EXPECT_EQ(ErrorFor(declare, {}), "missing -o DIR");
  EXPECT_EQ(ErrorFor(declare, {"-o", "d"}), "");
}

TEST(FlagSetTest, UnknownFlags) {
  bool json = false;
  std::string o;
  auto declare = [&](FlagSet& f) {
    f.Bool("--json", &json, "");
    f.String("-o FILE", &o, "");
  };
  EXPECT_EQ(ErrorFor(declare, {"--jsn"}), "unknown flag --jsn");
  EXPECT_EQ(ErrorFor(declare, {"--port=1"}), "unknown flag --port");
  EXPECT_EQ(ErrorFor(declare, {"-x"}), "unknown flag -x");
  // "=" splits only long flags.
  EXPECT_EQ(ErrorFor(declare, {"-o=a"}), "unknown flag -o=a");
}

TEST(FlagSetTest, DoubleDashEndsFlagsAndDashAloneIsPositional) {
  std::vector<std::string> files;
  bool json = false;
  FlagSet flags("bt x");
  flags.Bool("--json", &json, "");
  flags.Repeated("FILE", &files, "");
  ASSERT_TRUE(flags.Parse({"-", "--", "--json", "--", "-h", ""}).ok());
  EXPECT_FALSE(json);
  EXPECT_FALSE(flags.help_requested());
  EXPECT_EQ(files, (Args{"-", "--json", "--", "-h", ""}));
}

TEST(FlagSetTest, HelpStopsParsingBeforeLaterErrorsAndChecks) {
  std::string dir;
  for (const char* help : {"-h", "--help"}) {
    FlagSet flags("bt download");
    flags.String("-o DIR", &dir, "").Required();
    bool checked = false;
    flags.Check([&] {
      checked = true;
      return absl::OkStatus();
    });
    EXPECT_TRUE(flags.Parse({help, "--bogus"}).ok());
    EXPECT_TRUE(flags.help_requested());
    EXPECT_FALSE(checked);
  }
  FlagSet earlier("bt download");
  EXPECT_EQ(ErrorOf(earlier, {"--bogus", "--help"}), "unknown flag --bogus");
  EXPECT_FALSE(earlier.help_requested());
}

TEST(FlagSetTest, ChecksRunAfterParsingAndTheirErrorIsParses) {
  bool announce = false;
  std::optional<uint16_t> port;
  auto declare = [&](FlagSet& f) {
    f.Bool("--announce", &announce, "");
    f.Int("--port N", &port, "");
    f.Check([&] {
      return announce && !port
                 ? absl::InvalidArgumentError("announce needs --port")
                 : absl::OkStatus();
    });
  };
  EXPECT_EQ(ErrorFor(declare, {"--announce"}), "announce needs --port");
  EXPECT_EQ(ErrorFor(declare, {"--port", "1", "--announce"}), "");
}

TEST(FlagSetTest, FindKnowsEverySpellingAndPositional) {
  std::string out, torrent;
  FlagSet flags("bt create");
  flags.String("PATH", &torrent, "");
  const Flag& o = flags.String("-o, --output FILE", &out, "");
  EXPECT_EQ(flags.Find("-o"), &o);
  EXPECT_EQ(flags.Find("--output"), &o);
  EXPECT_EQ(o.name(), "-o");
  EXPECT_EQ(o.kind(), FlagKind::kString);
  ASSERT_NE(flags.Find("PATH"), nullptr);
  EXPECT_TRUE(flags.Find("PATH")->positional());
  EXPECT_EQ(flags.Find("--out"), nullptr);
  EXPECT_EQ(flags.Find("FILE"), nullptr);
}

// Lines splits text into lines.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Sample declares one of each kind, positionals, aliases and a required flag.
struct Sample {
  enum class Policy { kOff, kOn };
  std::string path, out, comment;
  std::vector<std::string> trackers;
  std::optional<uint16_t> port;
  int threads = 4;
  double timeout = 60;
  bool quiet = false;
  Policy policy = Policy::kOn;

  void Declare(FlagSet& f) {
    f.String("PATH", &path, "what to describe");
    f.String("-o, --output OUT.torrent", &out, "where to write").Required();
    f.Repeated("--tracker URL", &trackers, "a tracker tier");
    f.Int("--port N", &port, "the port");
    f.Int("--threads N", &threads, "hashing threads").Positive();
    f.Double("--timeout SECONDS", &timeout, "how long");
    f.Enum("--policy", &policy, {{"off", Policy::kOff}, {"on", Policy::kOn}},
           "encryption");
    f.String("--comment TEXT", &comment,
             "a comment long enough that its help must wrap onto a second "
             "line of the table")
        .DefaultText("none");
    f.Bool("--quiet, -q", &quiet, "no progress");
  }
};

TEST(FlagSetTest, UsageListsPositionalsThenRequiredThenOptionalFlags) {
  Sample s;
  FlagSet flags("bt create");
  s.Declare(flags);
  EXPECT_EQ(flags.Usage(),
            // The first line is 80 columns: as wide as a line may be.
            "usage: bt create PATH -o OUT.torrent [--tracker URL]... "
            "[--port N] [--threads N]\n"
            "                 [--timeout SECONDS] [--policy off|on] "
            "[--comment TEXT]\n"
            "                 [--quiet]\n");
  FlagSet bare("bt version");
  EXPECT_EQ(bare.Usage(), "usage: bt version\n");
}

TEST(FlagSetTest, HelpDescribesEveryDeclaration) {
  Sample s;
  FlagSet flags("bt create", "Makes a torrent.");
  s.Declare(flags);
  const std::string help = flags.Help();
  const std::string expected_tail =
      "\nMakes a torrent.\n"
      "\narguments:\n"
      "  PATH                  what to describe\n"
      "\nflags:\n"
      "  -o, --output OUT.torrent\n"
      "                        where to write (required)\n"
      "  --tracker URL         a tracker tier (repeatable)\n"
      "  --port N              the port\n"
      "  --threads N           hashing threads (default: 4)\n"
      "  --timeout SECONDS     how long (default: 60)\n"
      "  --policy off|on       encryption (default: on)\n"
      "  --comment TEXT        a comment long enough that its help must wrap "
      "onto a\n"
      "                        second line of the table (default: none)\n"
      "  --quiet, -q           no progress\n"
      "  -h, --help            show this help\n";
  EXPECT_EQ(help, flags.Usage() + expected_tail);
  for (const std::string& line : Lines(help)) {
    EXPECT_LE(line.size(), 80u) << line;
  }
}

TEST(FlagSetTest, HelpShowsTheBoundValuesAsDefaults) {
  std::string bind = "0.0.0.0", empty;
  FlagSet flags("bt x");
  flags.String("--bind ADDR", &bind, "address");
  flags.String("--state FILE", &empty, "state");
  const std::string help = flags.Help();
  EXPECT_NE(help.find("address (default: 0.0.0.0)"), std::string::npos) << help;
  EXPECT_NE(help.find("state\n"), std::string::npos) << help;
}

}  // namespace
}  // namespace bt::client::cli
