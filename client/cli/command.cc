#include "client/cli/command.h"

#include <algorithm>
#include <cstdio>
#include <deque>

#include "absl/strings/str_cat.h"

namespace bt::client::cli {
namespace {

// Registry holds the commands; a deque keeps their addresses stable. It is
// never destroyed, so it outlives every static initialiser that fills it.
std::deque<Command>& Registry() {
  static auto* commands = new std::deque<Command>();
  return *commands;
}

std::string Program(const Command& command) {
  return absl::StrCat("bt ", command.name);
}

int UnknownCommand(const std::string& name) {
  std::fprintf(stderr, "bt: unknown command '%s'\n\n%s", name.c_str(),
               ToolHelp().c_str());
  return 2;
}

}  // namespace

bool RegisterCommand(Command command) {
  if (FindCommand(command.name) != nullptr) return false;
  Registry().push_back(std::move(command));
  return true;
}

std::vector<const Command*> Commands() {
  std::vector<const Command*> out;
  for (const Command& c : Registry()) out.push_back(&c);
  std::sort(out.begin(), out.end(), [](const Command* a, const Command* b) {
    return a->name < b->name;
  });
  return out;
}

const Command* FindCommand(std::string_view name) {
  for (const Command& c : Registry()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string CommandHelp(const Command& command) {
  FlagSet flags(Program(command), command.description);
  command.bind(flags);
  return flags.Help();
}

std::string ToolHelp() {
  std::string out =
      "usage: bt COMMAND [ARGS...]\n"
      "       bt help COMMAND    (or bt COMMAND --help) for its flags\n"
      "\ncommands:\n";
  size_t width = 0;
  for (const Command* c : Commands()) width = std::max(width, c->name.size());
  for (const Command* c : Commands()) {
    std::string name = c->name;
    name.resize(width + 2, ' ');
    absl::StrAppend(&out, "  ", name, c->summary, "\n");
  }
  return out;
}

int RunCommand(const Command& command, const std::vector<std::string>& args) {
  FlagSet flags(Program(command), command.description);
  std::function<int()> run = command.bind(flags);
  if (absl::Status s = flags.Parse(args); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n%s(bt help %s describes every flag)\n",
                 Program(command).c_str(), std::string(s.message()).c_str(),
                 flags.Usage().c_str(), command.name.c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  return run();
}

int Main(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fputs(ToolHelp().c_str(), stderr);
    return 2;
  }
  const std::string& first = args[0];
  if (first == "help" || first == "--help" || first == "-h") {
    if (args.size() == 1) {
      std::fputs(ToolHelp().c_str(), stdout);
      return 0;
    }
    const Command* command = FindCommand(args[1]);
    if (command == nullptr) return UnknownCommand(args[1]);
    if (args.size() > 2) {
      std::fprintf(stderr, "usage: bt help [COMMAND]\n");
      return 2;
    }
    std::fputs(CommandHelp(*command).c_str(), stdout);
    return 0;
  }
  const Command* command = FindCommand(first);
  if (command == nullptr) return UnknownCommand(first);
  return RunCommand(*command,
                    std::vector<std::string>(args.begin() + 1, args.end()));
}

}  // namespace bt::client::cli
