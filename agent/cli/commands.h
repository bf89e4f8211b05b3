#pragma once
// The subcommands of `gitfed`. Each cli/<name>_command.cpp defines one and
// registers it with GITFED_COMMAND, so adding a subcommand touches no other
// file. A command takes its arguments (after its name) and returns the exit
// status.

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace gitfed::cli {

using Args = std::vector<std::string>;
using CommandFn = std::function<int(const Args&)>;

struct Command {
  std::string summary;  // one line for `gitfed --help`
  CommandFn run;
};

// name -> command, filled before main() runs.
std::map<std::string, Command>& commandRegistry();

struct CommandRegistration {
  CommandRegistration(const std::string& name, std::string summary, CommandFn run);
};

#define GITFED_COMMAND_CONCAT2(a, b) a##b
#define GITFED_COMMAND_CONCAT(a, b) GITFED_COMMAND_CONCAT2(a, b)
// GITFED_COMMAND("render", "render a fleet repository for one cluster", renderCommand);
#define GITFED_COMMAND(name, summary, fn) \
  static const ::gitfed::cli::CommandRegistration GITFED_COMMAND_CONCAT(gitfedCommand_, __LINE__)(name, summary, fn)

// `gitfed render`: exit 0 on success, 1 on repository errors, 2 on usage errors.
int renderCommand(const Args& args);

}  // namespace gitfed::cli
