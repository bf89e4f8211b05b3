// gitfed: one executable, one subcommand per job.

#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: gitfed <command> [options]\n"
    "\n"
    "commands:\n"
    "  render   render a fleet repository for one cluster (gitfed render --help)\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string command = argv[1];
  gitfed::cli::Args args(argv + 2, argv + argc);
  if (command == "render") return gitfed::cli::renderCommand(args);
  if (command == "-h" || command == "--help" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::fprintf(stderr, "gitfed: unknown command \"%s\"\n%s", command.c_str(), kUsage);
  return 2;
}
