// Every `bt` command, as registered: each keeps the flags it had before the
// shared parser (same spellings), accepts what it accepted, refuses what it
// refused, and has help that fits 80 columns. Nothing here runs a command.
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "client/cli/command.h"
#include "gtest/gtest.h"

namespace bt::client::cli {
namespace {

using Args = std::vector<std::string>;

constexpr char kHash[] = "0123456789abcdef0123456789abcdef01234567";

absl::Status ParseFor(const std::string& command, const Args& args) {
  const Command* c = FindCommand(command);
  if (c == nullptr) return absl::NotFoundError(command);
  FlagSet flags("bt " + command);
  c->bind(flags);
  return flags.Parse(args);
}

TEST(CommandsTest, AllAreRegistered) {
  std::vector<std::string> names;
  for (const Command* c : Commands()) names.push_back(c->name);
  EXPECT_EQ(names, (Args{"announce", "bencode", "check", "create", "daemon",
                         "dht", "download", "info", "scrape", "seed"}));
}

TEST(CommandsTest, EveryEarlierFlagIsStillSpelledTheSame) {
  const std::map<std::string, Args> flags = {
      {"create",
       {"-o", "--output", "--v1", "--v2", "--hybrid", "--piece-size",
        "--tracker", "--web-seed", "--private", "--threads", "--comment",
        "--mmap", "--read-size", "--quiet", "-q"}},
      {"info", {"--json", "--strict"}},
      {"check", {"--quiet", "--threads", "--read-size"}},
      {"bencode", {"--lenient", "--full"}},
      {"download",
       {"-o", "--seed", "--port", "--peer", "--encryption", "--state",
        "--resume", "--bind", "--upload-rate", "--download-rate",
        "--max-connections", "--max-connections-per-torrent", "--upload-slots",
        "--no-dht", "--dht-bootstrap", "--no-lsd"}},
      {"seed",
       {"--port", "--peer", "--encryption", "--state", "--resume", "--bind",
        "--upload-rate", "--download-rate", "--max-connections",
        "--max-connections-per-torrent", "--upload-slots", "--no-dht",
        "--dht-bootstrap", "--no-lsd"}},
      {"daemon",
       {"--state-dir", "--download-dir", "--rpc-bind", "--rpc-auth",
        "--allowed-root", "--rpc-host", "--web-root", "--port", "--bind",
        "--encryption", "--upload-rate", "--download-rate", "--no-dht",
        "--no-lsd"}},
      {"announce",
       {"--event", "--port", "--left", "--uploaded", "--downloaded",
        "--numwant", "--timeout", "--peer-id"}},
      {"scrape", {"--timeout"}},
      {"dht",
       {"--bootstrap", "--torrent", "--state", "--bind", "--port", "--dht-port",
        "--timeout", "--implied-port", "--read-only"}},
  };
  for (const auto& [command, spellings] : flags) {
    const Command* c = FindCommand(command);
    ASSERT_NE(c, nullptr) << command;
    FlagSet set("bt " + command);
    c->bind(set);
    for (const std::string& flag : spellings) {
      EXPECT_NE(set.Find(flag), nullptr) << "bt " << command << " " << flag;
    }
  }
}

TEST(CommandsTest, HelpFitsEightyColumns) {
  for (const Command* c : Commands()) {
    std::istringstream help(CommandHelp(*c));
    for (std::string line; std::getline(help, line);) {
      EXPECT_LE(line.size(), 80u) << c->name << ": " << line;
    }
  }
}

struct Case {
  const char* command;
  Args args;
  const char* error;  // "" when the arguments parse
};

TEST(CommandsTest, AcceptWhatTheyAcceptedAndRefuseTheRest) {
  const Case cases[] = {
      {"create", {"dir", "-o", "x.torrent"}, ""},
      {"create",
       {"dir",        "--output=x", "--v1",      "--hybrid",    "--piece-size",
        "16384",      "--tracker",  "a,b",       "--tracker",   "c",
        "--web-seed", "w",          "--private", "--threads",   "2",
        "--comment",  "c",          "--mmap",    "--read-size", "65536",
        "-q"},
       ""},
      {"create", {"dir"}, "missing -o OUT.torrent"},
      {"create",
       {"dir", "-o", "x", "--threads", "0"},
       "--threads must be at least 1, got '0'"},
      {"create",
       {"dir", "-o", "x", "--piece-size", "0"},
       "--piece-size must be at least 1, got '0'"},
      {"create",
       {"dir", "-o", "x", "--read-size", "-1"},
       "--read-size must be at least 1, got '-1'"},
      {"create", {"a", "b", "-o", "x"}, "unexpected argument 'b'"},
      {"info", {"x.torrent", "--json"}, ""},
      {"info", {}, "missing FILE.torrent|MAGNET"},
      {"check",
       {"t", "d", "--threads", "0", "--read-size", "1", "--quiet"},
       ""},
      {"check",
       {"t", "d", "--threads", "-1"},
       "--threads must be at least 0, got '-1'"},
      {"check", {"t"}, "missing DIR"},
      {"bencode", {"-", "--lenient", "--full"}, ""},
      {"download",
       {"m", "-o", "d", "--seed", "--port", "0", "--peer", "127.0.0.1:1",
        "--peer", "[::1]:2", "--encryption", "forced", "--state", "s",
        "--resume", "r", "--bind", "127.0.0.1"},
       ""},
      {"download",
       {"m", "-o", "d", "--port", "65536"},
       "--port must be between 0 and 65535, got '65536'"},
      {"download",
       {"m", "-o", "d", "--peer", "host:1"},
       "--peer: invalid endpoint \"host:1\""},
      {"download",
       {"m", "-o", "d", "--encryption", "on"},
       "--encryption must be disabled, enabled or forced, got 'on'"},
      {"download", {"m"}, "missing -o DIR"},
      {"download",
       {"m", "-o", "d", "--sequential", "--priority", "0=high", "--priority",
        "3=skip", "--priority=12=5"},
       ""},
      {"download",
       {"m", "-o", "d", "--priority", "1=urgent"},
       "--priority: '1=urgent' is not INDEX=LEVEL with a level of skip, low, "
       "normal, high or 0 to 7"},
      {"seed", {"t", "d", "--sequential"}, "unknown flag --sequential"},
      {"seed", {"t", "d", "--port", "6881", "--encryption", "disabled"}, ""},
      {"seed",
       {"t", "d", "--bind", "0.0.0.0", "--bind", "::", "--bind", "[::1]:6881"},
       ""},
      {"seed",
       {"t", "d", "--upload-rate", "1000", "--download-rate", "0",
        "--max-connections", "9", "--max-connections-per-torrent", "3",
        "--upload-slots", "1", "--no-dht", "--dht-bootstrap=", "--no-lsd"},
       ""},
      {"download",
       {"m", "-o", "d", "--dht-bootstrap", "127.0.0.1:1,router.example:2"},
       ""},
      {"download",
       {"m", "-o", "d", "--upload-slots", "0"},
       "--upload-slots must be at least 1, got '0'"},
      {"seed",
       {"t", "d", "--dht-bootstrap", "x"},
       "--dht-bootstrap: entry 1: 'x' is not HOST:PORT"},
      {"seed", {"t", "d", "--seed"}, "unknown flag --seed"},
      {"seed", {"t"}, "missing DIR"},
      {"daemon",
       {"--state-dir",    "s",
        "--download-dir", "d",
        "--rpc-bind",     "127.0.0.1:9091",
        "--rpc-auth",     "u:p",
        "--allowed-root", "/a",
        "--allowed-root", "/b",
        "--rpc-host",     "box.lan",
        "--web-root",     "",
        "--bind",         "127.0.0.1",
        "--no-dht",       "--no-lsd"},
       ""},
      {"daemon", {"--download-dir", "d"}, "missing --state-dir DIR"},
      {"daemon",
       {"--state-dir", "s", "--rpc-auth", "nopassword"},
       "--rpc-auth needs USER:PASSWORD"},
      {"daemon",
       {"--state-dir", "s", "--rpc-bind", "localhost:9091"},
       "--rpc-bind: "},
      {"announce",
       {"udp://t:1", kHash, "--event", "started", "--port", "1", "--left", "0",
        "--uploaded", "2", "--downloaded", "3", "--numwant", "100000",
        "--peer-id", "2d4254303130302d313233343536373839303132", "--timeout",
        "0.5"},
       ""},
      {"announce",
       {"u", kHash, "--event", "paused"},
       "--event must be started, completed, stopped or none, got 'paused'"},
      {"announce",
       {"u", kHash, "--numwant", "100001"},
       "--numwant must be between 0 and 100000, got '100001'"},
      {"announce",
       {"u", kHash, "--left", "-1"},
       "--left must be at least 0, got '-1'"},
      {"announce",
       {"u", kHash, "--timeout", "0"},
       "--timeout must be more than 0, got '0'"},
      {"announce", {"u", kHash, "--peer-id", "12"}, "--peer-id: "},
      {"announce", {"u", "xyz"}, "INFOHASH: "},
      {"scrape", {"u", kHash, kHash, "--timeout", "3"}, ""},
      {"scrape", {"u"}, "missing INFOHASH..."},
      {"dht", {"get-peers", kHash, "--bootstrap", "127.0.0.1:6881"}, ""},
      {"dht",
       {"announce", kHash, "--port", "6881", "--bootstrap", "[::1]:1",
        "--bootstrap", "router.example:6881", "--torrent", "t", "--state", "s",
        "--bind", "127.0.0.1", "--dht-port", "0", "--timeout", "20",
        "--read-only"},
       ""},
      {"dht", {"announce", kHash, "--implied-port"}, ""},
      {"dht", {"announce", kHash}, "announce needs --port P or --implied-port"},
      {"dht", {"put", kHash}, "expected get-peers or announce, got 'put'"},
      {"dht",
       {"get-peers", kHash, "--bootstrap", "nowhere"},
       "--bootstrap: 'nowhere' is not HOST:PORT with a port of 1 to 65535"},
  };
  for (const Case& c : cases) {
    absl::Status s = ParseFor(c.command, c.args);
    std::string what = std::string(c.command);
    for (const std::string& a : c.args) what += " " + a;
    if (*c.error == '\0') {
      EXPECT_TRUE(s.ok()) << what << ": " << s;
    } else {
      EXPECT_EQ(std::string(s.message()).rfind(c.error, 0), 0u)
          << what << ": " << s;
    }
  }
}

}  // namespace
}  // namespace bt::client::cli
