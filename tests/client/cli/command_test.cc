// The command registry and bt's dispatch, over commands this test registers.
#include "client/cli/command.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace bt::client::cli {
namespace {

using ::testing::internal::CaptureStderr;
using ::testing::internal::CaptureStdout;
using ::testing::internal::GetCapturedStderr;
using ::testing::internal::GetCapturedStdout;

struct EchoArgs {
  std::string word;
  int times = 1;
};

// g_echoed records what the echo command ran with.
std::vector<std::string> g_echoed;

void DeclareEcho(FlagSet& flags, EchoArgs& a) {
  flags.String("WORD", &a.word, "what to say");
  flags.Int("--times N", &a.times, "how often").Positive();
}

int RunEcho(const EchoArgs& a) {
  for (int i = 0; i < a.times; ++i) g_echoed.push_back(a.word);
  return a.word == "fail" ? 7 : 0;
}

struct NoArgs {};
void DeclareNothing(FlagSet&, NoArgs&) {}
int RunNothing(const NoArgs&) { return 0; }

const bool kEchoRegistered = RegisterCommand(MakeCommand<EchoArgs>(
    {"echo", "say a word", "Says WORD, --times times.", DeclareEcho, RunEcho}));
const bool kNothingRegistered = RegisterCommand(MakeCommand<NoArgs>(
    {"a-nothing", "do nothing", "", DeclareNothing, RunNothing}));

struct Outcome {
  int status;
  std::string out, err;
};

Outcome Bt(const std::vector<std::string>& args) {
  g_echoed.clear();
  CaptureStdout();
  CaptureStderr();
  int status = Main(args);
  std::string out = GetCapturedStdout();
  return {status, out, GetCapturedStderr()};
}

TEST(RegistryTest, RegistersOnceByName) {
  EXPECT_TRUE(kEchoRegistered);
  EXPECT_TRUE(kNothingRegistered);
  EXPECT_FALSE(RegisterCommand(
      MakeCommand<NoArgs>({"echo", "again", "", DeclareNothing, RunNothing})));
  ASSERT_NE(FindCommand("echo"), nullptr);
  EXPECT_EQ(FindCommand("echo")->summary, "say a word");
  EXPECT_EQ(FindCommand("ech"), nullptr);
}

TEST(RegistryTest, CommandsAreListedByName) {
  std::vector<std::string> names;
  for (const Command* c : Commands()) names.push_back(c->name);
  EXPECT_EQ(names, (std::vector<std::string>{"a-nothing", "echo"}));
}

TEST(RegistryTest, CommandHelpComesFromTheDeclarations) {
  EXPECT_EQ(CommandHelp(*FindCommand("echo")),
            "usage: bt echo WORD [--times N]\n"
            "\nSays WORD, --times times.\n"
            "\narguments:\n"
            "  WORD                  what to say\n"
            "\nflags:\n"
            "  --times N             how often (default: 1)\n"
            "  -h, --help            show this help\n");
}

TEST(RegistryTest, TheFlagSetKeepsTheBoundArgumentsAlive) {
  FlagSet flags("bt echo");
  FindCommand("echo")->bind(flags);  // the runner is dropped at once
  EXPECT_TRUE(flags.Parse({"word", "--times", "2"}).ok());
}

TEST(MainTest, RunsTheCommandWithItsParsedArguments) {
  Outcome r = Bt({"echo", "hi", "--times=2"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(g_echoed, (std::vector<std::string>{"hi", "hi"}));
  EXPECT_EQ(Bt({"echo", "fail"}).status, 7);
}

TEST(MainTest, EachRunStartsFromTheDefaults) {
  Bt({"echo", "x", "--times", "3"});
  Bt({"echo", "y"});
  EXPECT_EQ(g_echoed, (std::vector<std::string>{"y"}));
}

TEST(MainTest, UsageErrorsExit2WithTheMessageAndUsage) {
  Outcome r = Bt({"echo", "hi", "--times", "x"});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(g_echoed.empty());
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "bt echo: --times needs a number, got 'x'\n"
            "usage: bt echo WORD [--times N]\n"
            "(bt help echo describes every flag)\n");
  EXPECT_EQ(Bt({"echo"}).status, 2);
  EXPECT_EQ(Bt({"echo", "a", "b"}).status, 2);
}

TEST(MainTest, CommandHelpFlagPrintsHelpAndDoesNotRun) {
  for (const char* flag : {"--help", "-h"}) {
    Outcome r = Bt({"echo", flag});
    EXPECT_EQ(r.status, 0);
    EXPECT_TRUE(g_echoed.empty());
    EXPECT_EQ(r.out, CommandHelp(*FindCommand("echo")));
    EXPECT_EQ(r.err, "");
  }
}

TEST(MainTest, HelpListsTheCommandsOnStdout) {
  for (const char* help : {"help", "--help", "-h"}) {
    Outcome r = Bt({help});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, ToolHelp());
  }
  EXPECT_NE(
      ToolHelp().find("\n  a-nothing  do nothing\n  echo       say a word\n"),
      std::string::npos)
      << ToolHelp();
}

TEST(MainTest, HelpNamePrintsThatCommandsHelp) {
  Outcome r = Bt({"help", "echo"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, CommandHelp(*FindCommand("echo")));
  Outcome extra = Bt({"help", "echo", "more"});
  EXPECT_EQ(extra.status, 2);
  EXPECT_EQ(extra.err, "usage: bt help [COMMAND]\n");
}

TEST(MainTest, NoCommandOrAnUnknownOneExits2WithTheList) {
  Outcome none = Bt({});
  EXPECT_EQ(none.status, 2);
  EXPECT_EQ(none.out, "");
  EXPECT_EQ(none.err, ToolHelp());
  Outcome unknown = Bt({"ecko"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_EQ(unknown.err, "bt: unknown command 'ecko'\n\n" + ToolHelp());
  EXPECT_EQ(Bt({"help", "ecko"}).status, 2);
}

}  // namespace
}  // namespace bt::client::cli
