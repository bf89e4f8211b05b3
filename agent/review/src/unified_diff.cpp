// The one file of gitfed::review that calls libgit2.

#include "gitfed/review/unified_diff.h"

#include <git2.h>

#include <cstdint>

namespace gitfed::review {
namespace {

// libgit2 is reference-counted: init/shutdown pairs may nest with the agent's own.
class Libgit2Scope {
 public:
  Libgit2Scope() { git_libgit2_init(); }
  ~Libgit2Scope() { git_libgit2_shutdown(); }
  Libgit2Scope(const Libgit2Scope&) = delete;
  Libgit2Scope& operator=(const Libgit2Scope&) = delete;
};

int onHunk(const git_diff_delta*, const git_diff_hunk* hunk, void* payload) {
  auto* out = static_cast<std::string*>(payload);
  out->append(hunk->header, hunk->header_len);
  if (out->empty() || out->back() != '\n') out->push_back('\n');
  return 0;
}

int onLine(const git_diff_delta*, const git_diff_hunk*, const git_diff_line* line, void* payload) {
  auto* out = static_cast<std::string*>(payload);
  switch (line->origin) {
    case GIT_DIFF_LINE_CONTEXT:
    case GIT_DIFF_LINE_ADDITION:
    case GIT_DIFF_LINE_DELETION:
      out->push_back(line->origin);
      out->append(line->content, line->content_len);
      if (out->back() != '\n') out->push_back('\n');
      break;
    case GIT_DIFF_LINE_CONTEXT_EOFNL:
    case GIT_DIFF_LINE_ADD_EOFNL:
    case GIT_DIFF_LINE_DEL_EOFNL:
      out->append("\\ No newline at end of file\n");
      break;
    default:
      break;
  }
  return 0;
}

}  // namespace

std::string unifiedDiff(std::string_view before, std::string_view after, int context) {
  if (before == after) return {};
  static const Libgit2Scope libgit2;  // once per process
  git_diff_options options;
  git_diff_options_init(&options, GIT_DIFF_OPTIONS_VERSION);
  options.context_lines = static_cast<std::uint32_t>(context);
  options.flags = GIT_DIFF_FORCE_TEXT;
  std::string out;
  int rc = git_diff_buffers(before.data(), before.size(), "base", after.data(), after.size(), "head", &options,
                            nullptr, nullptr, onHunk, onLine, &out);
  if (rc < 0) {
    const git_error* e = git_error_last();  // only out of memory, in practice
    return std::string("(no diff: ") + (e ? e->message : "unknown error") + ")\n";
  }
  return out;
}

}  // namespace gitfed::review
