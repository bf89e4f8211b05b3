// `gitfed status` (the real binary) over a file:// remote and a local clone:
// one row per cluster with phase, applied vs newest revision, counts, age and
// STALE; --output json; --cluster detail; errors and usage.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "../git/git_support.h"
#include "gitfed/git/libgit2.h"
#include "gitfed/status/writer.h"

using namespace gitfed;
using namespace gitfed::status;
using gitfed::test::gitCli;
using gitfed::test::run;
using gitfed::test::shellQuote;
using gitfed::test::TempDir;

namespace {

struct Fleet {
  TempDir tmp;
  std::filesystem::path bare;
  std::string latest, old;

  Fleet() {
    bare = tmp.path() / "fleet.git";
    gitCli(tmp.path(), "init -q --bare -b main fleet.git");
    auto work = test::initRepo(tmp);
    tmp.write("work/a.yaml", test::configMap("a"));
    old = test::commitAll(work, "one");
    tmp.write("work/b.yaml", test::configMap("b"));
    latest = test::commitAll(work, "two");
    gitCli(work, "push -q " + shellQuote(bare.string()) + " main");

    git::Libgit2 lib;
    git::RemoteOptions remote;
    remote.url = url();
    auto write = [&](ClusterStatus r) {
      auto store = GitStatusStore::open(tmp.path() / ("cache-" + r.name), remote);
      REQUIRE(store);
      WriterOptions o;
      o.cluster = r.name;
      StatusWriter w(**store, o);
      auto out = w.write(std::move(r));
      INFO((out ? "" : out.error().format()));
      REQUIRE(out);
    };
    auto now = Clock::now();
    ClusterStatus c1;
    c1.name = "eu-west-1";
    c1.source = {url(), "main", latest};
    c1.sync.phase = Phase::Synced;
    c1.sync.appliedRevision = latest;
    c1.sync.lastAttemptAt = now - std::chrono::seconds(30);
    c1.summary = {412, 412, 0, 0, 0, 0, 0};
    write(c1);
    ClusterStatus c2;
    c2.name = "us-east-1";
    c2.source = {url(), "main", old};
    c2.sync.phase = Phase::Failed;
    c2.sync.appliedRevision = old;
    c2.sync.lastAttemptAt = now - std::chrono::hours(3);
    c2.sync.errors = {{"apps/web.yaml", 14, "", "override path /spec/x: missing"},
                      {"", 0, "", "apply failed: 500 InternalError: range is full", "", 3080,
                       {"v1/Service/shop/s0", "v1/Service/shop/s1"}}};
    c2.summary = {10, 8, 0, 0, 2, 0, 0};
    write(c2);
    ClusterStatus c3;
    c3.name = "ap-south-1";
    c3.source = {url(), "main", latest};
    c3.sync.phase = Phase::Drifted;
    c3.sync.appliedRevision = latest;
    c3.sync.lastAttemptAt = now - std::chrono::seconds(90);
    c3.summary = {5, 3, 2, 0, 0, 0, 0};
    ObjectStatus secret;
    secret.apiVersion = "v1";
    secret.kind = "Secret";
    secret.ns = "shop";
    secret.name = "db";
    secret.state = ObjectState::Drifted;
    secret.health = Health::Healthy;
    secret.drift = {{"/data/password", "aHVudGVyMg==", "b3RoZXI="}};
    ObjectStatus deploy;
    deploy.apiVersion = "apps/v1";
    deploy.kind = "Deployment";
    deploy.ns = "shop";
    deploy.name = "web";
    deploy.state = ObjectState::Drifted;
    deploy.health = Health::Healthy;
    deploy.drift = {{"/spec/replicas", 3, 5}};
    c3.objects = {secret, deploy};
    write(c3);
  }
  std::string url() const { return "file://" + bare.string(); }
};

Fleet& fleet() {
  static Fleet f;
  return f;
}

test::RunResult gitfedStatus(const std::string& args) { return run(shellQuote(test::gitfedBinary()) + " status " + args); }

}  // namespace

TEST_CASE("gitfed status: one row per cluster", "[status][cli]") {
  auto r = gitfedStatus(shellQuote(fleet().url()));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  std::istringstream in(r.out);
  std::string header, columns;
  std::getline(in, header);
  std::getline(in, columns);
  CHECK(header == "status branch gitfed-status at " + gitCli(fleet().bare, "rev-parse --short=7 gitfed-status") +
                      "; config branch main at " + fleet().latest.substr(0, 7));
  CHECK(columns.starts_with("CLUSTER"));
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(line);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].starts_with("ap-south-1  Drifted      " + fleet().latest.substr(0, 7) + " "));
  CHECK(rows[0].find(" 2       0  ") != std::string::npos);
  CHECK(rows[1].starts_with("eu-west-1   Synced       " + fleet().latest.substr(0, 7) + " "));
  CHECK(rows[1].find("STALE") == std::string::npos);
  CHECK(rows[2].starts_with("us-east-1   Failed       " + fleet().old.substr(0, 7) + "*"));
  CHECK(rows[2].find("(old)") != std::string::npos);
  CHECK(rows[2].ends_with("3h STALE"));
  CHECK(rows[3] == "3 clusters; 1 not on the newest revision (*); 1 stale");
}

TEST_CASE("gitfed status --output json and --stale-after", "[status][cli]") {
  auto r = gitfedStatus("-o json --stale-after 1m " + shellQuote(fleet().url()));
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["configBranch"]["revision"] == fleet().latest);
  REQUIRE(j["clusters"].size() == 3);
  auto c = j["clusters"];
  CHECK(c[0]["name"] == "ap-south-1");
  CHECK(c[0]["stale"] == true);  // 90 s > 1 m
  CHECK(c[0]["drifted"] == 2);
  CHECK(c[1]["name"] == "eu-west-1");
  CHECK(c[1]["upToDate"] == true);
  CHECK(c[1]["stale"] == false);
  CHECK(c[1]["ageSeconds"].get<std::int64_t>() >= 30);
  CHECK(c[2]["upToDate"] == false);
  CHECK(c[2]["failed"] == 2);
  CHECK(c[2]["phase"] == "Failed");
}

TEST_CASE("gitfed status --cluster: one cluster's objects, Secrets redacted", "[status][cli]") {
  auto r = gitfedStatus("--cluster ap-south-1 " + shellQuote(fleet().url()));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.starts_with("cluster ap-south-1: Drifted\n"));
  CHECK(r.out.find("apps/v1 Deployment shop/web") != std::string::npos);
  CHECK(r.out.find("/spec/replicas: 3 -> 5") != std::string::npos);
  CHECK(r.out.find("/data/password: \"<redacted>\" -> \"<redacted>\"") != std::string::npos);
  CHECK(r.out.find("aHVudGVyMg==") == std::string::npos);
  auto failed = gitfedStatus("--cluster us-east-1 " + shellQuote(fleet().url()));
  CHECK(failed.out.find("apps/web.yaml:14: override path /spec/x: missing") != std::string::npos);
  CHECK(failed.out.find("  3080 objects: apply failed: 500 InternalError: range is full (e.g. v1/Service/shop/s0, "
                        "v1/Service/shop/s1, ...)\n") != std::string::npos);
  auto j = nlohmann::json::parse(gitfedStatus("--cluster us-east-1 -o json " + shellQuote(fleet().url())).out);
  CHECK(j["kind"] == "ClusterStatus");
  CHECK(j["status"]["stale"] == true);
  auto missing = gitfedStatus("--cluster nowhere " + shellQuote(fleet().url()));
  CHECK(missing.status == 1);
  CHECK(missing.err.find("no report of cluster \"nowhere\"") != std::string::npos);
}

TEST_CASE("gitfed status from a local clone", "[status][cli]") {
  TempDir tmp;
  gitCli(tmp.path(), "clone -q " + shellQuote(fleet().url()) + " clone");
  auto r = gitfedStatus(shellQuote((tmp.path() / "clone").string()));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("3 clusters; 1 not on the newest revision (*); 1 stale") != std::string::npos);
  auto bare = gitfedStatus(shellQuote(fleet().bare.string()));  // a bare repository is a local clone too
  CHECK(bare.status == 0);
}

TEST_CASE("gitfed status: errors and usage", "[status][cli]") {
  TempDir tmp;
  gitCli(tmp.path(), "init -q --bare -b main empty.git");
  auto none = gitfedStatus(shellQuote("file://" + (tmp.path() / "empty.git").string()));
  CHECK(none.status == 1);
  CHECK(none.err.find("no branch gitfed-status") != std::string::npos);
  auto creds = gitfedStatus("https://user:hunter2@example.org/fleet.git");
  CHECK(creds.status == 2);
  CHECK(creds.err.find("hunter2") == std::string::npos);
  CHECK(gitfedStatus("").status == 2);
  CHECK(gitfedStatus("--output yaml x").status == 2);
  CHECK(gitfedStatus("--stale-after soon x").status == 2);
  CHECK(gitfedStatus("--frobnicate x").status == 2);
  auto help = gitfedStatus("--help");
  CHECK(help.status == 0);
  CHECK(help.out.starts_with("usage: gitfed status"));
}
