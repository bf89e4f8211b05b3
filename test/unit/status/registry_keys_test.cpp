// The registry's public keys verify the per-cluster reports (docs/status-spec.md,
// "Authentic reports"): registryKeys over a tree, and the fleet read without
// --public-keys over a file:// remote and a local repository: a report signed
// with the cluster's key is `signed`, a report forged for another cluster is
// `BAD SIGNATURE`, a bad key field is a warning with file and line and leaves
// that cluster's signed report `no key`.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "../git/git_support.h"
#include "gitfed/git/libgit2.h"
#include "gitfed/status/cluster_ref.h"
#include "gitfed/status/reader.h"
#include "gitfed/status/registry_keys.h"
#include "gitfed/status/signing.h"
#include "gitfed/status/writer.h"
#include "support/memory_tree.h"

using namespace gitfed;
using namespace gitfed::status;
using gitfed::test::gitCli;
using gitfed::test::shellQuote;
using gitfed::test::TempDir;

namespace {

std::string clusterEntry(const std::string& name, const std::string& pem) {
  std::string out = "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: " + name + "}\n";
  if (pem.empty()) return out;
  out += "spec:\n  statusPublicKey: |\n";
  std::size_t start = 0;
  while (start < pem.size()) {
    auto nl = pem.find('\n', start);
    out += "    " + pem.substr(start, nl - start) + "\n";
    start = nl == std::string::npos ? pem.size() : nl + 1;
  }
  return out;
}

std::shared_ptr<const ReportSigner> newSigner() {
  auto s = ReportSigner::generate();
  REQUIRE(s);
  return *s;
}

ClusterStatus report(const std::string& cluster, Clock::time_point at) {
  ClusterStatus r;
  r.name = cluster;
  r.source = {"file:///fleet.git", "main", std::string(40, 'a')};
  r.sync.phase = Phase::Synced;
  r.sync.appliedRevision = std::string(40, 'a');
  r.sync.lastAttemptAt = at;
  r.summary.objects = 1;
  return r;
}

// A fleet repository: the registry on main, three clusters' reports on their refs.
//   c1: registry key k1, signed with k1            -> signed
//   c2: registry key k2, signed with a forger's key -> BAD SIGNATURE
//   c3: a bad key in the registry, signed with k3   -> no key (and a warning)
struct RegistryFleet {
  TempDir tmp;
  std::filesystem::path bare;
  std::string url() const { return "file://" + bare.string(); }

  RegistryFleet() {
    bare = tmp.path() / "fleet.git";
    gitCli(tmp.path(), "init -q --bare -b main fleet.git");
    auto k1 = newSigner(), k2 = newSigner(), k3 = newSigner(), forger = newSigner();
    auto work = test::initRepo(tmp);
    tmp.write("work/clusters/c1.yaml", clusterEntry("c1", k1->publicKeyPem()));
    tmp.write("work/clusters/c2.yaml", clusterEntry("c2", k2->publicKeyPem()));
    tmp.write("work/clusters/c3.yaml", "# c3\n---\n" + clusterEntry("c3", "-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----\n"));
    tmp.write("work/apps/cm.yaml", test::configMap("a"));
    test::commitAll(work, "registry");
    gitCli(work, "push -q " + shellQuote(bare.string()) + " main");

    git::Libgit2 lib;
    git::RemoteOptions remote;
    remote.url = url();
    auto write = [&](const std::string& cluster, std::shared_ptr<const ReportSigner> signer) {
      auto cache = tmp.path() / ("cache-" + cluster);
      auto branch = GitStatusStore::open(cache, remote);
      REQUIRE(branch);
      auto ref = GitClusterRefStore::open(cache, remote, cluster);
      REQUIRE(ref);
      WriterOptions o;
      o.cluster = cluster;
      o.clusterRef = std::shared_ptr<ClusterRefStore>(std::move(*ref));
      o.signer = std::move(signer);
      StatusWriter w(**branch, o);
      auto out = w.write(report(cluster, Clock::now()));
      INFO((out ? "" : out.error().format()));
      REQUIRE(out);
    };
    write("c1", k1);
    write("c2", forger);
    write("c3", k3);
  }
};

void checkFleet(const FleetStatus& fleet) {
  REQUIRE(fleet.refs == 3);
  CHECK(fleet.origins.at("c1").signature == SignatureState::Valid);
  CHECK(fleet.origins.at("c2").signature == SignatureState::Bad);
  CHECK(fleet.origins.at("c3").signature == SignatureState::NoKey);
  CHECK(fleet.keySource.find("registry of main at ") == 0);
  CHECK(fleet.keySource.find("(2 of 2 clusters with a key)") != std::string::npos);
  bool warned = false;
  for (const auto& w : fleet.warnings) {
    UNSCOPED_INFO(w);
    warned = warned || (w.find("registry of main at ") == 0 &&
                        w.find(": clusters/c3.yaml:3: Cluster c3: spec.statusPublicKey: the key between the PEM lines "
                               "is not valid base64") != std::string::npos);
  }
  CHECK(warned);
}

}  // namespace

TEST_CASE("registry keys: every entry's spec.statusPublicKey, errors with file and line", "[status][registrykeys]") {
  auto k = newSigner();
  test::MemoryTree t;
  t.file("clusters/a.yaml", clusterEntry("a", k->publicKeyPem()))
      .file("clusters/b.yaml", clusterEntry("b", ""))
      .file("clusters/c.yaml", "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec: {statusPublicKey: [x]}\n");
  auto keys = registryKeys(t);
  CHECK(keys.clusters == 2);
  REQUIRE(keys.keys.size() == 1);
  CHECK(keys.keys["a"] == k->publicKeyPem());
  CHECK(keys.errors == std::vector<std::string>{
                           "clusters/c.yaml:1: Cluster c: spec.statusPublicKey must be a string (a PEM public key), not a list"});
}

TEST_CASE("fleet read without --public-keys: the registry's keys, over a remote and locally", "[status][registrykeys]") {
  RegistryFleet f;
  git::Libgit2 lib;
  SECTION("remote") {
    git::RemoteOptions remote;
    remote.url = f.url();
    TempDir cache;
    auto fleet = readFleetStatus(remote, cache.path() / "status.git");
    REQUIRE(fleet);
    checkFleet(*fleet);
    // Warm: the config branch's commit is in the cache, the same answer.
    auto again = readFleetStatus(remote, cache.path() / "status.git");
    REQUIRE(again);
    checkFleet(*again);
  }
  SECTION("local") {
    auto fleet = readLocalFleetStatus(f.bare);
    REQUIRE(fleet);
    checkFleet(*fleet);
  }
  SECTION("given keys replace the registry's") {
    PublicKeys none;
    auto fleet = readLocalFleetStatus(f.bare, "gitfed-status", "main", &none);
    REQUIRE(fleet);
    CHECK(fleet->origins.at("c1").signature == SignatureState::NoKey);
    CHECK(fleet->keySource == "given");
  }
  SECTION("gitfed status") {
    auto r = test::run(shellQuote(test::gitfedBinary()) + " status -o json " + shellQuote(f.url()));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("clusters/c3.yaml:3: Cluster c3: spec.statusPublicKey:") != std::string::npos);
    auto j = nlohmann::json::parse(r.out);
    std::map<std::string, std::string> sig;
    for (const auto& c : j["clusters"]) sig[c["name"].get<std::string>()] = c["report"]["signature"].get<std::string>();
    CHECK(sig == std::map<std::string, std::string>{{"c1", "signed"}, {"c2", "BAD SIGNATURE"}, {"c3", "no key"}});
    auto table = test::run(shellQuote(test::gitfedBinary()) + " status " + shellQuote(f.bare.string()));
    REQUIRE(table.status == 0);
    CHECK(table.out.find("1 BAD SIGNATURE") != std::string::npos);
    CHECK(table.out.find("keys: registry of main at ") != std::string::npos);
  }
}
