#pragma once
// `gitfed diff` has two modes: a revision diff of the fleet (--base/--head or
// --base-dir/--head-dir; cli/diff_command.cpp) and a live diff of one cluster
// against Git (everything else, like `kubectl diff`). The live diff is defined
// by the sync engine's CLI file.

#include "cli/commands.h"

namespace gitfed::cli {

// Render and compare with the live cluster; exit 0 in sync, 1 not, 2 error.
int liveDiffCommand(const Args& args);

// The fleet-wide diff of two revisions; exit 0 no change, 1 changes, 2 errors.
int revisionDiffCommand(const Args& args);

}  // namespace gitfed::cli
