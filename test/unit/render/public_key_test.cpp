// A Cluster's spec.statusPublicKey (docs/render-spec.md section 3): its form
// is checked, bad keys are errors of the entry's file and line, and the
// registry can be loaded alone (LoadOptions::registryOnly) for readers of
// the fleet's status.

#include <catch2/catch.hpp>

#include "gitfed/render/public_key.h"
#include "gitfed/render/renderer.h"
#include "support/memory_tree.h"

using gitfed::render::loadRepository;
using gitfed::render::parseStatusPublicKey;
using gitfed::test::MemoryTree;

namespace {

// `openssl genpkey -algorithm ed25519 | openssl pkey -pubout` and friends.
const std::string kEd25519 =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAfX2FQMW4hO8mS9BSG6jXHMyM/hHXexQPJa7M+tuO5qA=\n"
    "-----END PUBLIC KEY-----\n";
const std::string kX25519 =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VuAyEAprBn4mo/0lefLzM/Qb5jRX9uPhbk5ueeO1SRzIG1ZAI=\n"
    "-----END PUBLIC KEY-----\n";
const std::string kP256 =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEacn9yRk89ZIymdKDLLBxtlGwaHyM\n"
    "4f323PWpqc1WfJui6kE7K+fTc0qLO44Siss4RjnIa5srsBkqlQebSdR2Ug==\n"
    "-----END PUBLIC KEY-----\n";
const std::string kEd448 =
    "-----BEGIN PUBLIC KEY-----\n"
    "MEMwBQYDK2VxAzoAhMy8WCPdtI3jih/BeDk0zNZCPmTRWzc5YxWO2RXZ+CKTowB0\n"
    "DxYXRElqABfgu2hJ1zh+G/HGIV0A\n"
    "-----END PUBLIC KEY-----\n";
const std::string kPrivate =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIL0rq3S6H/LQWR8P908vM9OvMIJVkhnDQ9aUjdc/bZY5\n"
    "-----END PRIVATE KEY-----\n";

std::string errorOf(const std::string& pem) {
  auto r = parseStatusPublicKey(pem);
  REQUIRE_FALSE(r);
  return r.error();
}

// A registry entry whose key is written as a YAML block scalar.
std::string entry(const std::string& name, const std::string& key) {
  std::string out = "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: " + name + "}\nspec:\n  statusPublicKey: |\n";
  std::size_t start = 0;
  while (start < key.size()) {
    auto nl = key.find('\n', start);
    out += "    " + key.substr(start, nl - start) + "\n";
    start = nl == std::string::npos ? key.size() : nl + 1;
  }
  return out;
}

std::vector<std::string> errors(const gitfed::render::Repository& repo) {
  std::vector<std::string> out;
  for (const auto& e : repo.errors) out.push_back(e.format());
  return out;
}

}  // namespace

TEST_CASE("status public key: an Ed25519 PEM key, in one canonical form", "[render][registry][publickey]") {
  auto k = parseStatusPublicKey(kEd25519);
  REQUIRE(k);
  CHECK(*k == kEd25519);
  // Whitespace around it, CRLF, and the base64 folded over lines read the same.
  std::string folded =
      "\n  -----BEGIN PUBLIC KEY-----\r\nMCowBQYDK2VwAyEAfX2FQMW4hO8mS9BSG6jX\r\n"
      "HMyM/hHXexQPJa7M+tuO5qA=\r\n-----END PUBLIC KEY-----\r\n\n";
  auto f = parseStatusPublicKey(folded);
  REQUIRE(f);
  CHECK(*f == kEd25519);
}

TEST_CASE("status public key: what is not an Ed25519 public key, and why", "[render][registry][publickey]") {
  CHECK(errorOf("") == "empty (a PEM public key, as `openssl pkey -pubout` writes it)");
  // A private key is refused, and never quoted.
  std::string priv = errorOf(kPrivate);
  CHECK(priv.find("a private key") == 0);
  CHECK(priv.find("MC4CAQAw") == std::string::npos);
  CHECK(errorOf("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0 me@host").find("an OpenSSH public key") == 0);
  CHECK(errorOf("MCowBQYDK2VwAyEAfX2FQMW4hO8mS9BSG6jXHMyM/hHXexQPJa7M+tuO5qA=").find("not a PEM public key") == 0);
  CHECK(errorOf("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAfX2FQMW4hO8mS9BSG6jXHMyM/hHXexQPJa7M+tuO5qA=\n") ==
        "no -----END PUBLIC KEY----- line");
  CHECK(errorOf(kEd25519 + kEd25519) == "text after -----END PUBLIC KEY----- (one key only)");
  // Not base64: a stray character, a missing character, bits after the padding.
  CHECK(errorOf("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAfX2FQMW4hO8mS9BSG6jXHMyM/hHXexQPJa7M+tuO5q!=\n-----END PUBLIC KEY-----") ==
        "the key between the PEM lines is not valid base64");
  CHECK(errorOf("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAfX2FQMW4hO8mS9BSG6jXHMyM/hHXexQPJa7M+tuO5qA\n-----END PUBLIC KEY-----") ==
        "the key between the PEM lines is not valid base64");
  CHECK(errorOf("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAfX2FQMW4hO8mS9BSG6jXHMyM/hHXexQPJa7M+tuO5qB=\n-----END PUBLIC KEY-----") ==
        "the key between the PEM lines is not valid base64");
  CHECK(errorOf(kX25519).find("an X25519 key, which cannot sign") == 0);
  CHECK(errorOf(kP256).find("not an Ed25519 key") == 0);
  CHECK(errorOf(kEd448).find("not an Ed25519 key") == 0);
}

TEST_CASE("registry: spec.statusPublicKey is kept with the entry", "[render][registry][publickey]") {
  MemoryTree t;
  t.file("clusters/eu.yaml", entry("eu", kEd25519))
      .file("clusters/us.yaml", "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: us}\n");
  auto repo = loadRepository(t);
  REQUIRE(repo.errors.empty());
  REQUIRE(repo.findCluster("eu"));
  CHECK(repo.findCluster("eu")->statusPublicKey == kEd25519);
  CHECK(repo.findCluster("us")->statusPublicKey.empty());
}

TEST_CASE("registry: a bad spec.statusPublicKey is an error of the entry's file and line", "[render][registry][publickey]") {
  MemoryTree t;
  // The third document of the file, at line 13; the entry is left out of the registry.
  t.file("clusters.yaml", entry("eu", kEd25519) + "---\n" + entry("us", kEd25519) + "---\n" + entry("stage", kP256))
      .file("more/a.yaml", "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: a}\nspec: {statusPublicKey: 42}\n")
      .file("more/b.yaml", "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: b}\nspec: [x]\n")
      .file("more/c.yaml", "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec: {statusPublickey: x}\n")
      .file("more/d.yaml", entry("d", kPrivate));
  auto repo = loadRepository(t);
  CHECK(errors(repo) ==
        std::vector<std::string>{
            "clusters.yaml:19: Cluster stage: spec.statusPublicKey: not an Ed25519 key: gitfed signs status reports with "
            "Ed25519 (`openssl genpkey -algorithm ed25519`)",
            "more/a.yaml:1: Cluster a: spec.statusPublicKey must be a string (a PEM public key), not a number",
            "more/b.yaml:1: Cluster b: spec must be a mapping, not a list",
            "more/c.yaml:1: Cluster c: unknown field spec.statusPublickey (a Cluster's spec has statusPublicKey, suspend and suspendReason only)",
            "more/d.yaml:1: Cluster d: spec.statusPublicKey: a private key: the registry holds the public key only "
            "(`openssl pkey -in KEY -pubout`); the private key belongs in a Secret of the cluster"});
  CHECK(repo.findCluster("eu"));
  CHECK_FALSE(repo.findCluster("stage"));
  CHECK_FALSE(repo.findCluster("d"));
}

TEST_CASE("registry only: the Cluster entries and the tenants that own files, nothing else checked",
          "[render][registry][publickey]") {
  MemoryTree t;
  t.file("clusters/eu.yaml", entry("eu", kEd25519))
      .file("apps/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, annotations: {gitfed.io/cluster-selector: '=='}}\n")
      .file("apps/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n")
      .file("tenants.yaml", "apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: blog}\n"
                            "spec: {paths: [tenants/blog], namespaces: [blog]}\n")
      .file("tenants/blog/cluster.yaml", "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: sneaky}\n")
      .file("bad.yaml", "a: [\n");
  gitfed::render::LoadOptions o;
  o.registryOnly = true;
  auto repo = loadRepository(t, o);
  CHECK(repo.documents.empty());
  REQUIRE(repo.clusters.size() == 1);
  CHECK(repo.clusters[0].statusPublicKey == kEd25519);
  // A file that cannot be read may hide an entry: its error is kept; a tenant may not register clusters.
  auto e = errors(repo);
  for (const auto& x : e) UNSCOPED_INFO(x);
  REQUIRE(e.size() == 2);
  CHECK(e[0].starts_with("bad.yaml:"));
  CHECK(e[1] == "tenants/blog/cluster.yaml:1: Cluster sneaky: only the platform may register clusters, not a file of tenant blog");
}
