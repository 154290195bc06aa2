// bt: btkit's command-line tool. `bt help` lists the subcommands.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "client/cli/cli_command.h"

namespace bt::client {
int RunBencodeCommand(const std::vector<std::string>& args);
int RunDownloadCommand(const std::vector<std::string>& args);
int RunSeedCommand(const std::vector<std::string>& args);
int RunAnnounceCommand(const std::vector<std::string>& args);
int RunScrapeCommand(const std::vector<std::string>& args);
int RunCheckCommand(const std::vector<std::string>& args);
int RunCreateCommand(const std::vector<std::string>& args);
int RunInfoCommand(const std::vector<std::string>& args);
int RunDhtCommand(const std::vector<std::string>& args);
}  // namespace bt::client

namespace {

using bt::client::CliCommand;

const CliCommand kCommands[] = {
    {"create",
     "bt create PATH -o OUT.torrent [--v1|--v2|--hybrid] [--piece-size BYTES] "
     "[--tracker URL]... [--web-seed URL]... [--private] [--threads N]   "
     "make a .torrent",
     bt::client::RunCreateCommand},
    {"info", "bt info FILE.torrent|MAGNET [--json]   describe a torrent or magnet link",
     bt::client::RunInfoCommand},
    {"check", "bt check FILE.torrent DIR [--threads N]   hash-check downloaded data",
     bt::client::RunCheckCommand},
    {"bencode", "bt bencode FILE [--lenient]   print a bencoded file as JSON",
     bt::client::RunBencodeCommand},
    {"download",
     "bt download TORRENT|MAGNET -o DIR [--port N] [--peer HOST:PORT]... "
     "[--encryption disabled|enabled|forced] [--seed]",
     bt::client::RunDownloadCommand},
    {"seed",
     "bt seed TORRENT DIR [--port N] [--peer HOST:PORT]... "
     "[--encryption disabled|enabled|forced]",
     bt::client::RunSeedCommand},
    {"announce",
     "bt announce URL INFOHASH [--event E] [--port N] [--left N] ...   "
     "announce to one tracker",
     bt::client::RunAnnounceCommand},
    {"scrape", "bt scrape URL INFOHASH...   ask a tracker about swarms",
     bt::client::RunScrapeCommand},
    {"dht",
     "bt dht get-peers|announce INFOHASH --bootstrap HOST:PORT [--port N]   "
     "find or announce peers on the DHT",
     bt::client::RunDhtCommand},
};

void PrintUsage(FILE* out) {
  std::fprintf(out, "usage: bt COMMAND [ARGS...]\n\ncommands:\n");
  for (const CliCommand& c : kCommands) std::fprintf(out, "  %s\n", c.usage);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "help") ||
      !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    PrintUsage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (const CliCommand& c : kCommands) {
    if (std::strcmp(argv[1], c.name) == 0) {
      return c.run(std::vector<std::string>(argv + 2, argv + argc));
    }
  }
  std::fprintf(stderr, "bt: unknown command '%s'\n\n", argv[1]);
  PrintUsage(stderr);
  return 2;
}
