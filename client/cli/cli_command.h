// The `bt` tool's subcommands. Each lives in its own file under client/ and
// is listed once in bt.cc's command table.
//
//   int RunBencodeCommand(const std::vector<std::string>& args);
//   // args excludes "bt" and the subcommand name; returns the exit status.
#ifndef CLIENT_CLI_CLI_COMMAND_H_
#define CLIENT_CLI_CLI_COMMAND_H_

#include <string>
#include <vector>

namespace bt::client {

// A CliCommand handles `bt NAME ARGS...`; `run` gets ARGS and returns the
// process exit status.
struct CliCommand {
  const char* name;
  const char* usage;  // one line, shown by `bt help`
  int (*run)(const std::vector<std::string>& args);
};

}  // namespace bt::client

#endif  // CLIENT_CLI_CLI_COMMAND_H_
