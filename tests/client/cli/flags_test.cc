// FlagSet: every value kind, every error message, positionals, "--", help,
// and the usage and help text generated from the declarations.
#include "client/cli/flags.h"

#include <cstdint>
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
  FlagSet flags("bt download");
  flags.String("-o DIR", &dir, "");
  flags.Int("--n", &n, "");
  EXPECT_EQ(ErrorOf(flags, {"-o"}), "-o needs a value (DIR)");
  FlagSet unnamed("bt x");
  unnamed.Int("--n", &n, "");
  EXPECT_EQ(ErrorOf(unnamed, {"--n"}), "--n needs a value (VALUE)");
}

TEST(FlagSetTest, AliasesReachOneFlagAndErrorsUseTheSpellingGiven) {
  std::string out;
  FlagSet flags("bt create");
  flags.String("-o, --output FILE", &out, "");
  ASSERT_TRUE(flags.Parse({"--output", "a"}).ok());
  EXPECT_EQ(out, "a");
  FlagSet again("bt create");
  again.String("-o, --output FILE", &out, "");
  ASSERT_TRUE(again.Parse({"-o", "b"}).ok());
  EXPECT_EQ(out, "b");
  FlagSet missing("bt create");
  missing.String("-o, --output FILE", &out, "");
  EXPECT_EQ(ErrorOf(missing, {"--output"}), "--output needs a value (FILE)");
}

TEST(FlagSetTest, IntReadsDecimalNumbersIncludingNegativeOnes) {
  int64_t a = 0, b = 0;
  FlagSet flags("bt x");
  flags.Int("--a N", &a, "");
  flags.Int("--b N", &b, "");
  ASSERT_TRUE(flags.Parse({"--a", "-5", "--b=9000000000"}).ok());
  EXPECT_EQ(a, -5);
  EXPECT_EQ(b, 9000000000);
}

TEST(FlagSetTest, IntRefusesWhatIsNotANumber) {
  uint16_t port = 0;
  for (const char* bad : {"x", "", "1.5", "12ab", "0x10"}) {
    FlagSet flags("bt download");
    flags.Int("--port N", &port, "");
    EXPECT_EQ(ErrorOf(flags, {"--port", bad}),
              std::string("--port needs a number, got '") + bad + "'");
  }
}

TEST(FlagSetTest, IntRangeComesFromTheType) {
  uint16_t port = 1;
  FlagSet flags("bt download");
  flags.Int("--port N", &port, "");
  EXPECT_EQ(ErrorOf(flags, {"--port", "65536"}),
            "--port must be between 0 and 65535, got '65536'");
  FlagSet negative("bt download");
  negative.Int("--port N", &port, "");
  EXPECT_EQ(ErrorOf(negative, {"--port=-1"}),
            "--port must be between 0 and 65535, got '-1'");
  FlagSet ok("bt download");
  ok.Int("--port N", &port, "");
  ASSERT_TRUE(ok.Parse({"--port", "65535"}).ok());
  EXPECT_EQ(port, 65535);
}

TEST(FlagSetTest, IntRangesOfWideTypesNameTheSideCrossed) {
  int32_t i = 0;
  uint32_t u = 0;
  FlagSet flags("bt x");
  flags.Int("--i N", &i, "");
  EXPECT_EQ(ErrorOf(flags, {"--i", "3000000000"}),
            "--i must be at most 2147483647, got '3000000000'");
  FlagSet low("bt x");
  low.Int("--i N", &i, "");
  EXPECT_EQ(ErrorOf(low, {"--i", "-3000000000"}),
            "--i must be at least -2147483648, got '-3000000000'");
  FlagSet unsigned_flags("bt x");
  unsigned_flags.Int("--u N", &u, "");
  EXPECT_EQ(ErrorOf(unsigned_flags, {"--u", "-1"}),
            "--u must be at least 0, got '-1'");
}

TEST(FlagSetTest, MinMaxAndPositiveNarrowTheRange) {
  int threads = 0;
  int64_t left = 0;
  int32_t numwant = 0;
  FlagSet flags("bt x");
  flags.Int("--threads N", &threads, "").Positive();
  flags.Int("--left N", &left, "").Min(0);
  flags.Int("--numwant N", &numwant, "").Min(0).Max(100000);
  EXPECT_EQ(ErrorOf(flags, {"--threads", "0"}),
            "--threads must be at least 1, got '0'");
  FlagSet f2("bt x");
  f2.Int("--left N", &left, "").Min(0);
  EXPECT_EQ(ErrorOf(f2, {"--left", "-1"}),
            "--left must be at least 0, got '-1'");
  FlagSet f3("bt x");
  f3.Int("--numwant N", &numwant, "").Min(0).Max(100000);
  EXPECT_EQ(ErrorOf(f3, {"--numwant", "100001"}),
            "--numwant must be between 0 and 100000, got '100001'");
  FlagSet f4("bt x");
  f4.Int("--max N", &left, "").Max(10);
  EXPECT_EQ(ErrorOf(f4, {"--max", "11"}), "--max must be at most 10, got '11'");
}

TEST(FlagSetTest, OptionalIntStaysEmptyUnlessGiven) {
  std::optional<uint16_t> port, other;
  FlagSet flags("bt x");
  flags.Int("--port N", &port, "");
  flags.Int("--other N", &other, "");
  ASSERT_TRUE(flags.Parse({"--port", "0"}).ok());
  EXPECT_EQ(port, std::optional<uint16_t>(0));
  EXPECT_FALSE(other.has_value());
  FlagSet range("bt x");
  range.Int("--port N", &port, "");
  EXPECT_EQ(ErrorOf(range, {"--port", "70000"}),
            "--port must be between 0 and 65535, got '70000'");
}

TEST(FlagSetTest, DoubleReadsFiniteNumbers) {
  double t = 60;
  FlagSet flags("bt x");
  flags.Double("--timeout SECONDS", &t, "").Positive();
  ASSERT_TRUE(flags.Parse({"--timeout=0.25"}).ok());
  EXPECT_EQ(t, 0.25);
  for (const char* bad : {"soon", "inf", "nan", ""}) {
    FlagSet f("bt x");
    f.Double("--timeout SECONDS", &t, "");
    EXPECT_EQ(ErrorOf(f, {"--timeout", bad}),
              std::string("--timeout needs a number, got '") + bad + "'");
  }
  for (const char* bad : {"0", "-1"}) {
    FlagSet f("bt x");
    f.Double("--timeout SECONDS", &t, "").Positive();
    EXPECT_EQ(ErrorOf(f, {"--timeout", bad}),
              std::string("--timeout must be more than 0, got '") + bad + "'");
  }
  FlagSet any("bt x");
  any.Double("--x N", &t, "");
  ASSERT_TRUE(any.Parse({"--x", "-2.5"}).ok());
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

TEST(FlagSetTest, EnumStoresTheChosenWordsValue) {
  enum class Policy { kOff, kOn, kForced };
  Policy p = Policy::kOn;
  FlagSet flags("bt download");
  flags.Enum("--encryption", &p,
             {{"disabled", Policy::kOff},
              {"enabled", Policy::kOn},
              {"forced", Policy::kForced}},
             "");
  ASSERT_TRUE(flags.Parse({"--encryption", "forced"}).ok());
  EXPECT_EQ(p, Policy::kForced);
  FlagSet bad("bt download");
  bad.Enum("--encryption", &p,
           {{"disabled", Policy::kOff}, {"enabled", Policy::kOn}}, "");
  EXPECT_EQ(ErrorOf(bad, {"--encryption=Forced"}),
            "--encryption must be disabled or enabled, got 'Forced'");
  FlagSet three("bt download");
  three.Enum("--e", &p,
             {{"a", Policy::kOff}, {"b", Policy::kOn}, {"c", Policy::kForced}},
             "");
  EXPECT_EQ(ErrorOf(three, {"--e", ""}), "--e must be a, b or c, got ''");
  FlagSet missing("bt download");
  missing.Enum("--e", &p, {{"a", Policy::kOff}, {"b", Policy::kOn}}, "");
  EXPECT_EQ(ErrorOf(missing, {"--e"}), "--e needs a value (a|b)");
}

TEST(FlagSetTest, EnumAsAPositional) {
  bool announce = false;
  FlagSet flags("bt dht");
  flags.Enum("get-peers|announce", &announce,
             {{"get-peers", false}, {"announce", true}}, "");
  ASSERT_TRUE(flags.Parse({"announce"}).ok());
  EXPECT_TRUE(announce);
  FlagSet bad("bt dht");
  bad.Enum("get-peers|announce", &announce,
           {{"get-peers", false}, {"announce", true}}, "");
  EXPECT_EQ(ErrorOf(bad, {"fetch"}),
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
  FlagSet flags("bt x");
  flags.Parsed("--one N", &one, ParseEven, "");
  flags.Parsed("--many N", &many, ParseEven, "");
  ASSERT_TRUE(flags.Parse({"--one", "4", "--many", "2", "--many=4"}).ok());
  EXPECT_EQ(one, 4);
  EXPECT_EQ(many, (std::vector<int>{2, 4}));
  FlagSet bad("bt x");
  bad.Parsed("--many N", &many, ParseEven, "");
  EXPECT_EQ(ErrorOf(bad, {"--many", "2", "--many", "3"}), "--many: '3' is odd");
}

TEST(FlagSetTest, ParsedPositionalsNameThemselvesInErrors) {
  std::vector<int> evens;
  FlagSet flags("bt x");
  flags.Parsed("N", &evens, ParseEven, "");
  ASSERT_TRUE(flags.Parse({"2", "4", "2"}).ok());
  EXPECT_EQ(evens, (std::vector<int>{2, 4, 2}));
  FlagSet bad("bt x");
  bad.Parsed("N", &evens, ParseEven, "");
  EXPECT_EQ(ErrorOf(bad, {"5"}), "N: '5' is odd");
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
  FlagSet flags("bt seed");
  flags.String("TORRENT", &torrent, "");
  flags.String("DIR", &dir, "");
  EXPECT_EQ(ErrorOf(flags, {"a"}), "missing DIR");
  FlagSet none("bt seed");
  none.String("TORRENT", &torrent, "");
  EXPECT_EQ(ErrorOf(none, {}), "missing TORRENT");
  FlagSet extra("bt seed");
  extra.String("TORRENT", &torrent, "");
  EXPECT_EQ(ErrorOf(extra, {"a", "b"}), "unexpected argument 'b'");
  FlagSet nothing("bt x");
  EXPECT_EQ(ErrorOf(nothing, {"a"}), "unexpected argument 'a'");
}

TEST(FlagSetTest, RepeatedPositionalTakesTheRestAndNeedsOne) {
  std::string url;
  std::vector<std::string> hashes;
  FlagSet flags("bt scrape");
  flags.String("URL", &url, "");
  flags.Repeated("INFOHASH", &hashes, "");
  EXPECT_EQ(ErrorOf(flags, {"u"}), "missing INFOHASH...");
  FlagSet ok("bt scrape");
  ok.String("URL", &url, "");
  ok.Repeated("INFOHASH", &hashes, "");
  ASSERT_TRUE(ok.Parse({"u", "a", "b", "c"}).ok());
  EXPECT_EQ(url, "u");
  EXPECT_EQ(hashes, (Args{"a", "b", "c"}));
}

TEST(FlagSetTest, RequiredFlagMustBeGiven) {
  std::string dir;
  FlagSet flags("bt download");
  flags.String("-o DIR", &dir, "").Required();
  EXPECT_EQ(ErrorOf(flags, {}), "missing -o DIR");
  FlagSet given("bt download");
  given.String("-o DIR", &dir, "").Required();
  EXPECT_TRUE(given.Parse({"-o", "d"}).ok());
}

TEST(FlagSetTest, UnknownFlags) {
  bool json = false;
  FlagSet flags("bt info");
  flags.Bool("--json", &json, "");
  EXPECT_EQ(ErrorOf(flags, {"--jsn"}), "unknown flag --jsn");
  FlagSet with_value("bt info");
  EXPECT_EQ(ErrorOf(with_value, {"--port=1"}), "unknown flag --port");
  FlagSet short_flag("bt info");
  EXPECT_EQ(ErrorOf(short_flag, {"-x"}), "unknown flag -x");
  // "=" splits only long flags.
  FlagSet short_eq("bt info");
  std::string o;
  short_eq.String("-o FILE", &o, "");
  EXPECT_EQ(ErrorOf(short_eq, {"-o=a"}), "unknown flag -o=a");
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
  FlagSet flags("bt dht");
  flags.Bool("--announce", &announce, "");
  flags.Int("--port N", &port, "");
  flags.Check([&] {
    return announce && !port
               ? absl::InvalidArgumentError("announce needs --port")
               : absl::OkStatus();
  });
  EXPECT_EQ(ErrorOf(flags, {"--announce"}), "announce needs --port");
  FlagSet ok("bt dht");
  ok.Bool("--announce", &announce, "");
  ok.Int("--port N", &port, "");
  ok.Check([&] {
    return announce && !port
               ? absl::InvalidArgumentError("announce needs --port")
               : absl::OkStatus();
  });
  EXPECT_TRUE(ok.Parse({"--port", "1", "--announce"}).ok());
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
