#pragma once
// The subcommands of `gitfed`. Each takes its arguments (after the subcommand
// name) and returns the process exit status.

#include <string>
#include <vector>

namespace gitfed::cli {

using Args = std::vector<std::string>;

// `gitfed render`: exit 0 on success, 1 on repository errors, 2 on usage errors.
int renderCommand(const Args& args);

}  // namespace gitfed::cli
