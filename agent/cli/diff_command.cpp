// `gitfed diff`: the fleet-wide diff of two revisions (issue 7), or the live
// diff of one cluster (see cli/live_diff.h).
//
//   gitfed diff --base-dir DIR --head-dir DIR [--cluster NAME]... [--label K=V]...
//               [--output text|markdown|json] [--max-diff-lines N] [PATH]...
//   gitfed diff --base REV --head REV [--repo DIR] ...       (revisions of a Git repository)

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "cli/live_diff.h"
#include "gitfed/git/libgit2.h"
#include "gitfed/git/ref.h"
#include "gitfed/git/repository.h"
#include "gitfed/render/renderer.h"
#include "gitfed/review/fleet_diff.h"

namespace gitfed::cli {
namespace {

constexpr const char* kUsage =
    "usage: gitfed diff --base-dir DIR --head-dir DIR [options] [PATH]...\n"
    "       gitfed diff --base REV --head REV [--repo DIR] [options] [PATH]...\n"
    "\n"
    "Renders both revisions of a fleet repository for every cluster of either\n"
    "registry (and those named with --cluster) and prints what changes where.\n"
    "PATHs are root paths inside each revision (default: the whole tree).\n"
    "Exit status: 0 no change, 1 changes, 2 a render error in either revision\n"
    "(or a usage error).\n"
    "\n"
    "  --repo DIR                 the Git repository of --base/--head (default: the current one)\n"
    "  --cluster NAME             also diff this cluster (repeatable)\n"
    "  --label KEY=VALUE          a local label of the --cluster clusters (repeatable)\n"
    "  --output text|markdown|json\n"
    "  --max-diff-lines N         markdown: cut each object's diff after N lines (default 200)\n";

int usageError(const std::string& message) {
  std::fprintf(stderr, "gitfed diff: %s\n%s", message.c_str(), kUsage);
  return 2;
}

// A revision as people write it: HEAD, a branch, a remote-tracking branch
// (origin/main), a tag, a full ref name, or a full commit id.
git::Result<std::string> resolveRevision(const git::Repository& repo, const std::string& rev) {
  if (rev.size() == 40 && rev.find_first_not_of("0123456789abcdef") == std::string::npos) return repo.peelToCommit(rev);
  if (rev != "HEAD" && !git::isValidRefName(rev))
    return git::fail(git::ErrorCode::InvalidArgument,
                     "unknown revision: give a branch, remote branch, tag, HEAD or a full commit id (no ~, ^ or @{})",
                     rev);
  std::vector<std::string> candidates;
  if (rev == "HEAD" || rev.starts_with("refs/")) candidates.push_back(rev);
  for (const char* prefix : {"refs/heads/", "refs/remotes/", "refs/tags/"}) candidates.push_back(prefix + rev);
  for (const auto& name : candidates) {
    auto id = repo.resolveRef(name);
    if (!id) return std::unexpected(id.error());
    if (*id) return repo.peelToCommit(**id);
  }
  return git::fail(git::ErrorCode::NotFound,
                   "unknown revision (give a branch, remote branch, tag, HEAD or a full commit id)", rev);
}

bool isRevisionMode(const Args& args) {
  for (const auto& a : args)
    for (const char* flag : {"--base", "--head", "--base-dir", "--head-dir"})
      if (a == flag || a.starts_with(std::string(flag) + "=")) return true;
  return false;
}

int diffCommand(const Args& args) {
  if (isRevisionMode(args)) return revisionDiffCommand(args);
  return liveDiffCommand(args);
}

}  // namespace

// Until the sync engine's CLI provides the live diff, say so plainly. (A weak
// definition: the real one replaces it at link time.)
__attribute__((weak)) int liveDiffCommand(const Args&) {
  std::fputs("gitfed diff: the live diff against a cluster is not available in this build;\n"
             "for a fleet diff of two revisions give --base-dir/--head-dir or --base/--head\n",
             stderr);
  return 2;
}

int revisionDiffCommand(const Args& args) {
  std::optional<std::string> baseDir, headDir, baseRev, headRev;
  std::string repoDir = ".";
  std::vector<std::string> clusterNames;
  render::Labels labels;
  std::string output = "text";
  std::size_t maxLines = 200;
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string flag = a, value;
    bool inlineValue = false;
    if (a.starts_with("--") && a.find('=') != std::string::npos) {
      flag = a.substr(0, a.find('='));
      value = a.substr(a.find('=') + 1);
      inlineValue = true;
    }
    auto take = [&](std::string& out) {
      if (inlineValue) {
        out = value;
        return true;
      }
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string v;
    if (flag == "-h" || flag == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (flag == "--base-dir" || flag == "--head-dir" || flag == "--base" || flag == "--head") {
      if (!take(v) || v.empty()) return usageError(flag + " needs a value");
      (flag == "--base-dir" ? baseDir : flag == "--head-dir" ? headDir : flag == "--base" ? baseRev : headRev) = v;
    } else if (flag == "--repo") {
      if (!take(repoDir) || repoDir.empty()) return usageError("--repo needs a directory");
    } else if (flag == "--cluster") {
      if (!take(v) || v.empty()) return usageError("--cluster needs a name");
      clusterNames.push_back(v);
    } else if (flag == "--label") {
      if (!take(v)) return usageError("--label needs KEY=VALUE");
      auto eq = v.find('=');
      if (eq == std::string::npos) return usageError("--label " + v + ": expected KEY=VALUE");
      std::string key = v.substr(0, eq), val = v.substr(eq + 1);
      if (!render::isValidLabelKey(key) || !render::isValidLabelValue(val))
        return usageError("--label " + v + ": invalid label");
      labels[key] = val;
    } else if (flag == "--output" || flag == "-o") {
      if (!take(v)) return usageError("--output needs a value");
      if (v != "text" && v != "markdown" && v != "json") return usageError("--output must be text, markdown or json");
      output = v;
    } else if (flag == "--max-diff-lines") {
      if (!take(v)) return usageError("--max-diff-lines needs a number");
      try {
        maxLines = std::stoul(v);
      } catch (...) {
        return usageError("--max-diff-lines needs a number");
      }
    } else if (a.starts_with("-")) {
      return usageError("unknown option " + a);
    } else {
      paths.push_back(a);
    }
  }
  render::LoadOptions options;
  if (!paths.empty()) options.roots = paths;
  render::Repository base, head;
  if (baseRev || headRev) {
    if (baseDir || headDir) return usageError("give either --base/--head or --base-dir/--head-dir");
    if (!baseRev || !headRev) return usageError("both --base and --head are needed");
    // Both revisions are read straight from the object database: no checkout.
    git::Libgit2 libgit2;
    auto repo = git::Repository::open(repoDir);
    if (!repo) {
      std::fprintf(stderr, "gitfed diff: %s\n", repo.error().format().c_str());
      return 2;
    }
    for (auto [rev, out] : {std::pair{&*baseRev, &base}, std::pair{&*headRev, &head}}) {
      auto commit = resolveRevision(*repo, *rev);
      auto tree = commit ? repo->tree(*commit) : std::unexpected(commit.error());
      if (!tree) {
        std::fprintf(stderr, "gitfed diff: %s\n", tree.error().format().c_str());
        return 2;
      }
      *out = render::loadRepository(**tree, options);
    }
  } else {
    if (!baseDir || !headDir) return usageError("both --base-dir and --head-dir are needed");
    render::DiskSourceTree baseTree(*baseDir), headTree(*headDir);
    base = render::loadRepository(baseTree, options);
    head = render::loadRepository(headTree, options);
  }
  std::vector<review::ExtraCluster> extra;
  for (const auto& name : clusterNames) extra.push_back({name, labels});
  auto diff = review::diffFleet(base, head, extra);

  std::string text = output == "json"       ? review::toJson(diff).dump(2) + "\n"
                     : output == "markdown" ? review::formatMarkdown(diff, maxLines)
                                            : review::formatText(diff);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  if (diff.hasErrors()) {
    for (const auto& c : diff.clusters) {
      for (const auto& e : c.baseErrors) std::fprintf(stderr, "%s: base: %s\n", c.cluster.c_str(), e.format().c_str());
      for (const auto& e : c.headErrors) std::fprintf(stderr, "%s: head: %s\n", c.cluster.c_str(), e.format().c_str());
    }
    return 2;
  }
  return diff.hasChanges() ? 1 : 0;
}

GITFED_COMMAND("diff", "the fleet-wide diff of two revisions, or one cluster against its live state", diffCommand);

}  // namespace gitfed::cli
