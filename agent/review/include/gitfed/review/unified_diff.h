#pragma once
// Unified diffs of two texts (libgit2's xdiff). Pure function, thread-safe.

#include <string>
#include <string_view>

namespace gitfed::review {

// The hunks ("@@ -a,b +c,d @@" and " ", "-", "+" lines) turning `before` into
// `after`, with `context` lines around each change; "" when they are equal.
std::string unifiedDiff(std::string_view before, std::string_view after, int context = 3);

}  // namespace gitfed::review
