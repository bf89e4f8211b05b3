// gitfed: one executable, one subcommand per job (see cli/commands.h).

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/commands.h"

namespace gitfed::cli {

std::map<std::string, Command>& commandRegistry() {
  static std::map<std::string, Command> registry;
  return registry;
}

CommandRegistration::CommandRegistration(const std::string& name, std::string summary, CommandFn run) {
  auto [it, inserted] = commandRegistry().emplace(name, Command{std::move(summary), std::move(run)});
  if (!inserted) {
    // Two files claim one subcommand: fail at once, loudly, rather than let the
    // link order decide.
    std::fprintf(stderr, "gitfed: the subcommand \"%s\" is registered twice\n", name.c_str());
    std::abort();
  }
}

}  // namespace gitfed::cli

namespace {

void usage(std::FILE* out) {
  std::fputs("usage: gitfed <command> [options]   (gitfed <command> --help for its options)\n\ncommands:\n", out);
  for (const auto& [name, command] : gitfed::cli::commandRegistry())
    std::fprintf(out, "  %-10s %s\n", name.c_str(), command.summary.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    usage(stdout);
    return 0;
  }
  if (name == "--version" || name == "version") {
    std::printf("gitfed %s\n", GITFED_VERSION);
    return 0;
  }
  auto& registry = gitfed::cli::commandRegistry();
  auto it = registry.find(name);
  if (it == registry.end()) {
    std::fprintf(stderr, "gitfed: unknown command \"%s\"\n", name.c_str());
    usage(stderr);
    return 2;
  }
  return it->second.run(gitfed::cli::Args(argv + 2, argv + argc));
}
