// In-cluster configuration with the service-account files in a temporary
// directory: the token file is rewritten with another valid token, and the
// next request uses it (no restart).

#include "kube_itest.h"

#include <catch2/catch.hpp>

using namespace gitfed::kube;
using namespace gitfed::kube::itest;

namespace {

std::string mintToken(const std::string& ns, const std::string& sa) {
  auto r = kubectl("create token " + sa + " -n " + ns + " --duration=10m");
  if (r.status != 0) throw std::runtime_error("kubectl create token: " + r.out);
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

std::string whoami(KubeClient& client) {
  json review = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}};
  auto r = client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", &review);
  if (!r) return "error: " + r.error().format();
  return (*r)["status"]["userInfo"]["username"].get<std::string>();
}

}  // namespace

TEST_CASE("in-cluster: a rotated token file is used by the next request", "[token]") {
  auto admin = makeClient(adminConfig());
  TestNamespace ns(*admin);
  REQUIRE(kubectl("create serviceaccount first -n " + ns.name()).status == 0);
  REQUIRE(kubectl("create serviceaccount second -n " + ns.name()).status == 0);

  TempDir dir;
  const auto tokenFile = dir.path() / "token";
  writeFile(tokenFile, mintToken(ns.name(), "first") + "\n");
  writeFile(dir.path() / "ca.crt", readFile(gitfed::testenv::require("GITFED_TEST_KUBE_CA")));
  writeFile(dir.path() / "namespace", ns.name());
  InClusterPaths paths;
  paths.tokenFile = tokenFile;
  paths.caFile = dir.path() / "ca.crt";
  paths.namespaceFile = dir.path() / "namespace";
  paths.host = "127.0.0.1";
  paths.port = gitfed::testenv::require("GITFED_TEST_APISERVER_PORT");
  auto config = inClusterConfig(paths);
  REQUIRE(config);
  CHECK(config->defaultNamespace == ns.name());
  auto client = makeClient(*config);

  const std::string prefix = "system:serviceaccount:" + ns.name() + ":";
  CHECK(whoami(*client) == prefix + "first");

  // Rotation as kubelet does it: a new file renamed over the old one.
  writeFile(dir.path() / "token.new", mintToken(ns.name(), "second") + "\n");
  std::filesystem::rename(dir.path() / "token.new", tokenFile);
  CHECK(whoami(*client) == prefix + "second");

  // Rewritten in place: picked up too.
  writeFile(tokenFile, mintToken(ns.name(), "first"));
  CHECK(whoami(*client) == prefix + "first");

  // The file really is the credential: garbage in it is a 401, not a fallback.
  writeFile(tokenFile, "not-a-token");
  json review = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}};
  auto denied = client->request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", &review);
  REQUIRE_FALSE(denied);
  CHECK(denied.error().status == 401);
  CHECK(denied.error().format().find("not-a-token") == std::string::npos);
}
