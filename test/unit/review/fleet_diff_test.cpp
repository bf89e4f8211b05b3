// The fleet-wide diff on the example fleet: each scenario copies examples/fleet,
// changes it as a pull request would, and checks what the diff reports.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include "gitfed/render/renderer.h"
#include "support/memory_tree.h"
#include "gitfed/review/fleet_diff.h"
#include "gitfed/review/unified_diff.h"
#include "support/run.h"

using gitfed::review::diffFleet;
using gitfed::review::FleetDiff;
using gitfed::review::ObjectChange;
using gitfed::test::gitfedBinary;
using gitfed::test::readAll;
using gitfed::test::run;
using gitfed::test::shellQuote;
using gitfed::test::TempDir;
namespace fs = std::filesystem;

namespace {

const fs::path kFleet = fs::path(GITFED_SOURCE_DIR) / "examples/fleet";

// A copy of the example fleet as base/ and head/ in a temp dir.
struct Revisions {
  TempDir dir;
  fs::path base = dir.path() / "base";
  fs::path head = dir.path() / "head";
  Revisions() {
    fs::copy(kFleet, base, fs::copy_options::recursive);
    fs::copy(kFleet, head, fs::copy_options::recursive);
  }
  void edit(const std::string& file, const std::string& from, const std::string& to) const {
    auto p = head / file;
    std::string text = readAll(p);
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    std::ofstream(p, std::ios::binary) << text;
  }
  FleetDiff diff() const {
    gitfed::render::DiskSourceTree b(base), h(head);
    return diffFleet(gitfed::render::loadRepository(b), gitfed::render::loadRepository(h));
  }
};

const gitfed::review::ClusterDiff& cluster(const FleetDiff& d, const std::string& name) {
  for (const auto& c : d.clusters)
    if (c.cluster == name) return c;
  FAIL("no cluster " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("diff: identical revisions show no change, exit 0", "[review][diff]") {
  Revisions r;
  auto d = r.diff();
  CHECK_FALSE(d.hasChanges());
  CHECK_FALSE(d.hasErrors());
  CHECK(d.clusters.size() == 3);
  auto out = run(gitfedBinary() + " diff --base-dir " + shellQuote(r.base.string()) + " --head-dir " +
                 shellQuote(r.head.string()));
  CHECK(out.status == 0);
}

TEST_CASE("diff: a label-selected override shows only in matching clusters", "[review][diff]") {
  Revisions r;
  // The override for `environment NotIn (production)` clusters: staging only.
  r.edit("apps/shop/web-configmap.yaml", "value: https://sandbox.payments.example.com",
         "value: https://sandbox2.payments.example.com");
  auto d = r.diff();
  CHECK(cluster(d, "staging-eu-west").changed == 1);
  CHECK(cluster(d, "prod-eu-west").changes.empty());
  CHECK(cluster(d, "prod-us-east").changes.empty());
  const auto& ch = cluster(d, "staging-eu-west").changes.at(0);
  CHECK(ch.type == ObjectChange::Type::Changed);
  CHECK(ch.id() == "v1 ConfigMap shop/web-config");
  CHECK_THAT(ch.diff, Catch::Contains("-  PAYMENTS_URL: https://sandbox.payments.example.com\n"
                                      "+  PAYMENTS_URL: https://sandbox2.payments.example.com\n"));
}

TEST_CASE("diff: moving a cluster between environments adds and removes the right objects", "[review][diff]") {
  Revisions r;
  r.edit("clusters/staging-eu-west.yaml", "environment: staging", "environment: production");
  auto d = r.diff();
  const auto& s = cluster(d, "staging-eu-west");
  CHECK(s.added > 0);
  bool paymentsNamespaceAdded = false;
  for (const auto& ch : s.changes)
    if (ch.type == ObjectChange::Type::Added && ch.kind == "Namespace" && ch.name == "payments") paymentsNamespaceAdded = true;
  CHECK(paymentsNamespaceAdded);  // payments is placed in production only
  CHECK(cluster(d, "prod-eu-west").changes.empty());
  CHECK(cluster(d, "prod-us-east").changes.empty());
  // And back: production -> staging removes them from that cluster.
  r.edit("clusters/staging-eu-west.yaml", "environment: production", "environment: staging");
  r.edit("clusters/prod-us-east.yaml", "environment: production", "environment: staging");
  auto back = r.diff();
  bool removed = false;
  for (const auto& ch : cluster(back, "prod-us-east").changes)
    if (ch.type == ObjectChange::Type::Removed && ch.kind == "Namespace" && ch.name == "payments") removed = true;
  CHECK(removed);
}

TEST_CASE("diff: a broken file fails with exit 2, naming file and line", "[review][diff]") {
  Revisions r;
  r.edit("apps/shop/web-service.yaml", "kind:", "kind: [\n");
  auto d = r.diff();
  CHECK(d.hasErrors());
  auto out = run(gitfedBinary() + " diff --base-dir " + shellQuote(r.base.string()) + " --head-dir " +
                 shellQuote(r.head.string()));
  CHECK(out.status == 2);
  CHECK(std::regex_search(out.err, std::regex("prod-eu-west: head: apps/shop/web-service\\.yaml:[0-9]+: invalid YAML")));
  auto json = run(gitfedBinary() + " diff -o json --base-dir " + shellQuote(r.base.string()) + " --head-dir " +
                  shellQuote(r.head.string()));
  CHECK(json.status == 2);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["hasErrors"] == true);
  CHECK(j["clusters"][0]["errors"]["head"][0]["file"] == "apps/shop/web-service.yaml");
}

TEST_CASE("diff: Secrets never show a value", "[review][diff][secrets]") {
  Revisions r;
  std::ofstream(r.base / "apps/shop/web-secret.yaml")
      << "apiVersion: v1\nkind: Secret\nmetadata: {name: web-creds, namespace: shop}\n"
         "stringData: {password: hunter2-old, user: shop}\ndata: {token: c2VjcmV0LW9sZA==}\n";
  std::ofstream(r.head / "apps/shop/web-secret.yaml")
      << "apiVersion: v1\nkind: Secret\nmetadata: {name: web-creds, namespace: shop, labels: {rotated: 'yes'}}\n"
         "stringData: {password: hunter2-new, user: shop}\ndata: {token: c2VjcmV0LW5ldw==}\n";
  std::ofstream(r.head / "apps/shop/new-secret.yaml")
      << "apiVersion: v1\nkind: Secret\nmetadata: {name: fresh, namespace: shop}\nstringData: {key: brand-new-value}\n";
  auto d = r.diff();
  const auto& c = cluster(d, "prod-eu-west");
  REQUIRE(c.changed == 1);
  REQUIRE(c.added == 1);
  for (const char* format : {"text", "markdown", "json"}) {
    auto out = run(gitfedBinary() + " diff --output " + format + " --base-dir " + shellQuote(r.base.string()) +
                   " --head-dir " + shellQuote(r.head.string()));
    INFO(format);
    CHECK(out.status == 1);
    for (const char* secret : {"hunter2", "c2VjcmV0", "brand-new-value"}) {
      CHECK(out.out.find(secret) == std::string::npos);
      CHECK(out.err.find(secret) == std::string::npos);
    }
    CHECK(out.out.find("<redacted: changed>") != std::string::npos);  // the reviewer still sees it changed
  }
}

TEST_CASE("diff: redaction marks changed values and hides the last-applied annotation", "[review][secrets]") {
  using gitfed::review::redactSecret;
  auto before = nlohmann::json::parse(
      R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"a\":\"x\"}}"}},"data":{"a":"eA==","b":"eQ=="}})");
  auto after = before;
  after["data"]["a"] = "ZQ==";
  auto shown = redactSecret(after, &before);
  CHECK(shown["data"]["a"] == "<redacted: changed>");
  CHECK(shown["data"]["b"] == "<redacted>");
  CHECK(shown["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] == "<redacted>");
  auto cm = nlohmann::json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","data":{"a":"x"}})");
  CHECK(redactSecret(cm) == cm);
}

TEST_CASE("diff: a rename shows as remove + add", "[review][diff]") {
  Revisions r;
  r.edit("apps/shop/web-service.yaml", "name: web\n", "name: storefront\n");
  auto d = r.diff();
  for (const auto& c : d.clusters) {
    INFO(c.cluster);
    bool removed = false, added = false;
    for (const auto& ch : c.changes) {
      if (ch.kind != "Service") continue;
      if (ch.type == ObjectChange::Type::Removed && ch.name == "web") removed = true;
      if (ch.type == ObjectChange::Type::Added && ch.name == "storefront") added = true;
    }
    CHECK(removed);
    CHECK(added);
  }
}

TEST_CASE("diff: extra clusters from the command line", "[review][diff]") {
  Revisions r;
  r.edit("apps/shop/web-deployment.yaml", "replicas: 2", "replicas: 3");
  auto out = run(gitfedBinary() + " diff --cluster dev-laptop --label environment=dev --base-dir " +
                 shellQuote(r.base.string()) + " --head-dir " + shellQuote(r.head.string()));
  CHECK(out.out.find("cluster dev-laptop:") != std::string::npos);
}

TEST_CASE("diff: the same inputs give byte-identical output", "[review][diff]") {
  Revisions r;
  r.edit("clusters/staging-eu-west.yaml", "environment: staging", "environment: production");
  for (const char* format : {"text", "markdown", "json"}) {
    std::string cmd = gitfedBinary() + " diff --output " + format + " --base-dir " + shellQuote(r.base.string()) +
                      " --head-dir " + shellQuote(r.head.string());
    auto a = run(cmd);
    auto b = run(cmd);
    INFO(format);
    CHECK(a.status == 1);
    CHECK(a.out == b.out);
    CHECK_FALSE(a.out.empty());
  }
}

TEST_CASE("diff: markdown is collapsible per cluster and cuts long diffs with a count", "[review][markdown]") {
  Revisions r;
  r.edit("clusters/staging-eu-west.yaml", "environment: staging", "environment: production");
  auto out = run(gitfedBinary() + " diff --output markdown --max-diff-lines 3 --base-dir " +
                 shellQuote(r.base.string()) + " --head-dir " + shellQuote(r.head.string()));
  CHECK(out.status == 1);
  CHECK(out.out.find("| cluster | added | removed | changed |") != std::string::npos);
  CHECK(out.out.find("<details><summary><b>staging-eu-west</b>") != std::string::npos);
  CHECK(out.out.find("more lines not shown") != std::string::npos);
  CHECK(out.out.find("<summary><b>prod-eu-west</b>") == std::string::npos);  // unchanged clusters: table only
}

TEST_CASE("diff: usage errors exit 2", "[review][diff]") {
  for (const char* args : {"--base-dir x", "--head-dir x", "--base-dir a --head-dir b --output html",
                           "--base-dir a --head-dir b --bogus", "--base main --base-dir x --head-dir y"}) {
    INFO(args);
    CHECK(run(gitfedBinary() + " diff " + args).status == 2);
  }
}

TEST_CASE("unified diffs", "[review][diff]") {
  using gitfed::review::unifiedDiff;
  CHECK(unifiedDiff("a\nb\nc\n", "a\nb\nc\n").empty());
  CHECK(unifiedDiff("a\nb\nc\n", "a\nB\nc\n") == "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
  CHECK(unifiedDiff("", "x\n") == "@@ -0,0 +1 @@\n+x\n");
}

TEST_CASE("diff: --base/--head read two revisions of a Git repository, no checkout needed", "[review][diff][git]") {
  TempDir d;
  fs::path repo = d.path() / "fleet";
  fs::copy(kFleet, repo, fs::copy_options::recursive);
  std::string git = "git -C " + shellQuote(repo.string()) +
                    " -c user.name=test -c user.email=test@example.com -c commit.gpgsign=false ";
  REQUIRE(run(git + "init -q -b main").status == 0);
  REQUIRE(run(git + "add -A").status == 0);
  REQUIRE(run(git + "commit -q -m base").status == 0);
  REQUIRE(run(git + "tag v1").status == 0);
  {
    auto p = repo / "clusters/staging-eu-west.yaml";
    std::string text = readAll(p);
    text.replace(text.find("environment: staging"), 20, "environment: production");
    std::ofstream(p) << text;
  }
  REQUIRE(run(git + "commit -q -am 'move staging to production'").status == 0);
  std::string head = run(git + "rev-parse HEAD").out.substr(0, 40);
  // The working tree is changed further and left uncommitted: only commits count.
  std::ofstream(repo / "apps/shop/uncommitted.yaml") << "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: shop}\n";

  auto viaGit = run("cd " + shellQuote(repo.string()) + " && " + gitfedBinary() + " diff --base v1 --head main");
  CHECK(viaGit.status == 1);
  CHECK(viaGit.out.find("cluster staging-eu-west:") != std::string::npos);
  CHECK(viaGit.out.find("uncommitted") == std::string::npos);
  auto byId = run(gitfedBinary() + " diff --repo " + shellQuote(repo.string()) + " --base v1 --head " + head);
  CHECK(byId.out == viaGit.out);
  auto same = run(gitfedBinary() + " diff --repo " + shellQuote(repo.string()) + " --base main --head HEAD");
  CHECK(same.status == 0);
  auto unknown = run(gitfedBinary() + " diff --repo " + shellQuote(repo.string()) + " --base main~1 --head HEAD");
  CHECK(unknown.status == 2);
  CHECK(unknown.err.find("unknown revision") != std::string::npos);
  auto notRepo = run(gitfedBinary() + " diff --repo " + shellQuote(d.path().string() + "/nope") + " --base a --head b");
  CHECK(notRepo.status == 2);
}

TEST_CASE("a changed RSP weight shows as replica moves per cluster", "[review][diff][schedule]") {
  auto repoWith = [](const std::string& weightA) {
    gitfed::test::MemoryTree tree;
    tree.file("clusters.yaml",
              "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: a}\n---\n"
              "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: b}\n")
        .file("web.yaml",
              "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedDeployment\nmetadata: {name: web, namespace: shop}\n"
              "spec: {placement: {clusterSelector: {}}}\n")
        .file("rsp.yaml",
              "apiVersion: scheduling.kubefed.io/v1alpha1\nkind: ReplicaSchedulingPreference\nmetadata: {name: web, namespace: shop}\n"
              "spec: {targetKind: FederatedDeployment, totalReplicas: 10, clusters: {a: {weight: " + weightA +
                  "}, b: {weight: 1}}}\n");
    return gitfed::render::loadRepository(tree);
  };
  auto diff = gitfed::review::diffFleet(repoWith("1"), repoWith("4"));
  REQUIRE(diff.clusters.size() == 2);
  REQUIRE(diff.clusters[0].changes.size() == 1);
  CHECK_THAT(diff.clusters[0].changes[0].diff, Catch::Contains("-  replicas: 5") && Catch::Contains("+  replicas: 8"));
  REQUIRE(diff.clusters[1].changes.size() == 1);
  CHECK_THAT(diff.clusters[1].changes[0].diff, Catch::Contains("-  replicas: 5") && Catch::Contains("+  replicas: 2"));
}
