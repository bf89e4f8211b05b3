// `gitfed validate [--schema-dir DIR] [--cluster NAME]... [--label K=V]...
//                  [--output text|json] [PATH]...`

#include <cstdio>
#include <string>

#include "cli/arg_walker.h"
#include "cli/commands.h"
#include "gitfed/render/renderer.h"
#include "gitfed/review/validate.h"

namespace gitfed::cli {
namespace {

constexpr const char* kUsage =
    "usage: gitfed validate [--schema-dir DIR] [--cluster NAME]... [--label KEY=VALUE]...\n"
    "                       [--output text|json] [PATH]...\n"
    "\n"
    "Renders the fleet repository under PATH (default .) for every cluster of its\n"
    "registry (and those named with --cluster) and reports what would fail or\n"
    "surprise: render errors; placements and overrides naming clusters that are not\n"
    "in the registry; objects that go to no cluster; clusters that receive nothing;\n"
    "with --schema-dir (Kubernetes OpenAPI v3 documents, as saved with\n"
    "`kubectl get --raw /openapi/v3/apis/apps/v1`), kinds the schemas do not know\n"
    "and fields they reject. Exit status: 0 clean, 1 warnings only (with --strict: 2),\n"
    "2 errors (or a usage error).\n";

int usageError(const std::string& message) {
  std::fprintf(stderr, "gitfed validate: %s\n%s", message.c_str(), kUsage);
  return 2;
}

int validateCommand(const Args& args) {
  std::string schemaDir;
  std::vector<std::string> clusterNames;
  render::Labels labels;
  std::string output = "text";
  bool strict = false;
  std::vector<std::string> paths;
  for (ArgWalker w(args); w.next();) {
    const std::string a = w.name();
    auto take = [&](std::string& out) { return w.value(out); };
    std::string v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--schema-dir") {
      if (!take(schemaDir) || schemaDir.empty()) return usageError("--schema-dir needs a directory");
    } else if (a == "--cluster") {
      if (!take(v) || v.empty()) return usageError("--cluster needs a name");
      clusterNames.push_back(v);
    } else if (a == "--label") {
      if (!take(v) || v.find('=') == std::string::npos) return usageError("--label needs KEY=VALUE");
      std::string key = v.substr(0, v.find('=')), val = v.substr(v.find('=') + 1);
      if (!render::isValidLabelKey(key) || !render::isValidLabelValue(val)) return usageError("--label " + v + ": invalid label");
      labels[key] = val;
    } else if (a == "--output" || a == "-o") {
      if (!take(output) || (output != "text" && output != "json")) return usageError("--output must be text or json");
    } else if (a == "--strict") {
      strict = true;
    } else if (a.starts_with("-")) {
      return usageError("unknown option " + a);
    } else {
      paths.push_back(a);
    }
  }
  review::ValidateOptions options;
  for (const auto& n : clusterNames) options.extra.push_back({n, labels});
  std::optional<review::SchemaSet> schemas;
  if (!schemaDir.empty()) {
    auto loaded = review::SchemaSet::loadDirectory(schemaDir);
    if (!loaded) return usageError(loaded.error());
    schemas = std::move(*loaded);
    options.schemas = &*schemas;
  }
  render::LoadOptions load;
  std::filesystem::path root = ".";
  if (paths.size() == 1)
    root = paths[0];
  else if (!paths.empty())
    load.roots = paths;
  render::DiskSourceTree tree(root);
  auto repo = render::loadRepository(tree, load);
  auto report = review::validateFleet(repo, options);
  if (output == "json") {
    std::string text = report.toJson().dump(2) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    for (const auto& f : report.findings) std::printf("%s\n", f.format().c_str());
    std::printf("%zu error%s, %zu warning%s\n", report.errors(), report.errors() == 1 ? "" : "s", report.warnings(),
                report.warnings() == 1 ? "" : "s");
  }
  if (report.errors() > 0) return 2;
  if (report.warnings() > 0) return strict ? 2 : 1;
  return 0;
}

}  // namespace

GITFED_COMMAND("validate", "report everything in a fleet repository that would fail or surprise", validateCommand);

}  // namespace gitfed::cli
