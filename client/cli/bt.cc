// bt: btkit's command-line tool. `bt help` lists the commands, which
// register themselves (client/cli/command.h); BUILD links them in.
#include <string>
#include <vector>

#include "client/cli/command.h"

int main(int argc, char** argv) {
  return bt::client::cli::Main(std::vector<std::string>(argv + 1, argv + argc));
}
