// The `bt` tool's commands and the registry that bt's main dispatches
// through. A command file declares a struct for its arguments, a function
// that binds flags to it and a function that runs with the parsed values,
// and registers them once; `bt NAME ...`, `bt help NAME`, `bt NAME --help`
// and the command list of `bt help` all come from that registration.
//
//   struct InfoArgs {
//     std::string input;
//     bool json = false;
//   };
//   void DeclareInfo(cli::FlagSet& flags, InfoArgs& a) {
//     flags.String("FILE.torrent|MAGNET", &a.input, "what to describe");
//     flags.Bool("--json", &a.json, "print JSON");
//   }
//   int RunInfo(const InfoArgs& a) { ...; return 0; }
//   [[maybe_unused]] const bool kRegistered = cli::RegisterCommand(
//       cli::MakeCommand<InfoArgs>({"info", "describe a torrent", "",
//                                   DeclareInfo, RunInfo}));
//
// Registration runs in static initialisers, so a command's cc_library needs
// `alwayslink = 1`, or the linker drops it from `bt`.
#ifndef CLIENT_CLI_COMMAND_H_
#define CLIENT_CLI_COMMAND_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/cli/flags.h"

namespace bt::client::cli {

// Command is one registered `bt` subcommand.
struct Command {
  std::string name;         // "download"
  std::string summary;      // one line for `bt help`
  std::string description;  // `bt help NAME`'s text between usage and flags
  // bind declares the command's flags on `flags`, bound to a fresh set of
  // arguments that both `flags` and the returned function keep alive, and
  // returns the function that runs the command with them once `flags` has
  // parsed (it returns the exit status).
  std::function<std::function<int()>(FlagSet& flags)> bind;
};

// CommandSpec is what a command file writes to make a Command over its own
// argument struct `Args` (default-constructed with the defaults).
template <typename Args>
struct CommandSpec {
  const char* name;
  const char* summary;
  const char* description;
  void (*declare)(FlagSet& flags, Args& args);
  int (*run)(const Args& args);
};

// MakeCommand turns a CommandSpec into a Command.
template <typename Args>
Command MakeCommand(const CommandSpec<Args>& spec) {
  auto bind = [declare = spec.declare, run = spec.run](FlagSet& flags) {
    auto args = std::make_shared<Args>();
    flags.KeepAlive(args);
    declare(flags, *args);
    return std::function<int()>([run, args] { return run(*args); });
  };
  return Command{spec.name, spec.summary, spec.description, std::move(bind)};
}

// RegisterCommand adds `command` to the registry and returns true; it returns
// false (and keeps the first) when the name is taken.
bool RegisterCommand(Command command);

// Commands lists the registered commands by name.
std::vector<const Command*> Commands();

// FindCommand returns the command named `name`, or null.
const Command* FindCommand(std::string_view name);

// CommandHelp is the help of `bt NAME --help`, made from the declarations.
std::string CommandHelp(const Command& command);

// ToolHelp is what `bt help` prints: how to call bt and the command list.
std::string ToolHelp();

// RunCommand parses `args` (what follows `bt NAME`) for `command` and runs
// it. --help prints the help to stdout and returns 0; a usage error prints
// "bt NAME: what went wrong" and the usage to stderr and returns 2.
int RunCommand(const Command& command, const std::vector<std::string>& args);

// Main is bt's main over argv without the program name: `bt help [NAME]`,
// `bt NAME ARGS...`. Unknown commands and a missing one return 2.
int Main(const std::vector<std::string>& args);

}  // namespace bt::client::cli

#endif  // CLIENT_CLI_COMMAND_H_
