#include "gitfed/kube/config.h"
#include "gitfed/kube/status.h"
#include "support/run.h"

#include <catch2/catch.hpp>

using namespace gitfed::kube;
using gitfed::test::TempDir;

namespace {

const std::string kCa = "-----BEGIN CERTIFICATE-----\nQ0EtY2VydA==\n-----END CERTIFICATE-----\n";
const std::string kCert = "-----BEGIN CERTIFICATE-----\nY2xpZW50\n-----END CERTIFICATE-----\n";
const std::string kKey = "-----BEGIN EC PRIVATE KEY-----\na2V5\n-----END EC PRIVATE KEY-----\n";

std::string twoContexts() {
  return "apiVersion: v1\nkind: Config\ncurrent-context: admin@c1\n"
         "clusters:\n"
         "- name: c1\n  cluster:\n    server: https://127.0.0.1:6443\n    certificate-authority-data: " +
         base64Encode(kCa) +
         "\n"
         "- name: c2\n  cluster:\n    server: https://10.0.0.2:443/\n    certificate-authority: pki/ca.crt\n"
         "    tls-server-name: kubernetes.default.svc\n"
         "users:\n"
         "- name: admin\n  user:\n    client-certificate-data: " +
         base64Encode(kCert) + "\n    client-key-data: " + base64Encode(kKey) +
         "\n"
         "- name: robot\n  user:\n    token: abc.def.ghi\n"
         "- name: rotating\n  user:\n    tokenFile: token\n"
         "- name: files\n  user:\n    client-certificate: pki/client.crt\n    client-key: /ABS/client.key\n"
         "contexts:\n"
         "- name: admin@c1\n  context:\n    cluster: c1\n    user: admin\n"
         "- name: robot@c2\n  context:\n    cluster: c2\n    user: robot\n    namespace: shop\n"
         "- name: rotating@c1\n  context:\n    cluster: c1\n    user: rotating\n"
         "- name: files@c2\n  context:\n    cluster: c2\n    user: files\n";
}

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

}  // namespace

TEST_CASE("kubeconfig: current context, client certificate and CA as data", "[kube][kubeconfig]") {
  auto c = parseKubeconfig(twoContexts(), "/nowhere");
  REQUIRE(c);
  CHECK(c->server == "https://127.0.0.1:6443");
  CHECK(c->caPem == kCa);
  CHECK(c->clientCertPem == kCert);
  CHECK(c->clientKeyPem == kKey);
  CHECK(c->token.empty());
  CHECK(c->tokenFile.empty());
  CHECK(c->defaultNamespace.empty());
  CHECK(c->source == "kubeconfig context admin@c1");
}

TEST_CASE("kubeconfig: a named context, token, CA file relative to the kubeconfig, namespace", "[kube][kubeconfig]") {
  TempDir dir;
  dir.write("pki/ca.crt", kCa);
  auto c = parseKubeconfig(twoContexts(), dir.path(), "robot@c2");
  REQUIRE(c);
  CHECK(c->server == "https://10.0.0.2:443/");
  CHECK(c->tlsServerName == "kubernetes.default.svc");
  CHECK(c->caPem == kCa);
  CHECK(c->token == "abc.def.ghi");
  CHECK(c->clientCertPem.empty());
  CHECK(c->defaultNamespace == "shop");
}

TEST_CASE("kubeconfig: tokenFile is kept as a path (re-read on rotation)", "[kube][kubeconfig]") {
  TempDir dir;
  dir.write("token", "t1\n");
  auto c = parseKubeconfig(twoContexts(), dir.path(), "rotating@c1");
  REQUIRE(c);
  CHECK(c->token.empty());
  CHECK(c->tokenFile == (dir.path() / "token").string());
  auto missing = parseKubeconfig(twoContexts(), dir.path() / "elsewhere", "rotating@c1");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("tokenFile") != std::string::npos);
}

TEST_CASE("kubeconfig: client certificate and key from files (relative and absolute)", "[kube][kubeconfig]") {
  TempDir dir;
  dir.write("pki/ca.crt", kCa);
  dir.write("pki/client.crt", kCert);
  auto key = dir.write("abs/client.key", kKey);
  auto text = replaceAll(twoContexts(), "/ABS/client.key", key.string());
  auto c = parseKubeconfig(text, dir.path(), "files@c2");
  REQUIRE(c);
  CHECK(c->clientCertPem == kCert);
  CHECK(c->clientKeyPem == kKey);
}

TEST_CASE("kubeconfig: loadKubeconfig resolves files next to the kubeconfig and names it in errors", "[kube][kubeconfig]") {
  TempDir dir;
  dir.write("pki/ca.crt", kCa);
  auto path = dir.write("kubeconfig", twoContexts());
  auto c = loadKubeconfig(path, "robot@c2");
  REQUIRE(c);
  CHECK(c->caPem == kCa);
  auto bad = loadKubeconfig(path, "nope");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().format() == "kubeconfig " + path.string() + ": InvalidConfig: context \"nope\" not found");
  auto absent = loadKubeconfig(dir.path() / "absent");
  REQUIRE_FALSE(absent);
  CHECK(absent.error().message == "cannot read the file");
}

TEST_CASE("kubeconfig: errors name what is missing or refused", "[kube][kubeconfig]") {
  const std::string base = twoContexts();
  auto err = [](const std::string& text, std::string_view context = {}) {
    auto c = parseKubeconfig(text, "/nowhere", context);
    REQUIRE_FALSE(c);
    CHECK(c.error().reason == "InvalidConfig");
    return c.error().message;
  };
  CHECK(err("a: [") .starts_with("not valid YAML"));
  CHECK(err("- a\n- b\n") == "not a kubeconfig (expected a mapping)");
  CHECK(err(replaceAll(base, "current-context: admin@c1", "")) == "no context given and no current-context");
  CHECK(err(replaceAll(base, "    cluster: c1\n    user: admin", "    cluster: c9\n    user: admin")) ==
        "cluster \"c9\" not found");
  CHECK(err(replaceAll(base, "user: admin\n- name: robot@c2", "user: ghost\n- name: robot@c2")) == "user \"ghost\" not found");
  CHECK(err(replaceAll(base, "server: https://127.0.0.1:6443", "server: http://127.0.0.1:6443")).find("not https://") !=
        std::string::npos);
  CHECK(err(replaceAll(base, "    server: https://127.0.0.1:6443\n", "")) == "cluster \"c1\": no server");
  CHECK(err(replaceAll(base, "    server: https://127.0.0.1:6443\n",
                       "    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: true\n"))
            .find("insecure-skip-tls-verify is refused") != std::string::npos);
  CHECK(err(replaceAll(base, "certificate-authority-data: " + base64Encode(kCa), "certificate-authority-data: abc$"))
            .find("certificate-authority-data is not valid base64") != std::string::npos);
  CHECK(err(replaceAll(base, "certificate-authority-data: " + base64Encode(kCa),
                       "certificate-authority-data: " + base64Encode("not pem")))
            .find("certificate-authority-data is not PEM") != std::string::npos);
  CHECK(err(replaceAll(base, "    certificate-authority-data: " + base64Encode(kCa) + "\n", ""))
            .find("no certificate-authority") != std::string::npos);
  CHECK(err(base, "robot@c2").find("cannot read certificate-authority") != std::string::npos);  // /nowhere/pki/ca.crt
  CHECK(err(replaceAll(base, "    client-key-data: " + base64Encode(kKey) + "\n", "")) ==
        "user \"admin\": client-certificate without client-key");
  CHECK(err(replaceAll(base, "    client-certificate-data: ", "    exec:\n      command: aws\n    client-certificate-data: "))
            .find("user \"admin\": exec is not supported") != std::string::npos);
}

TEST_CASE("kubeconfig: insecure-skip-tls-verify: false is fine", "[kube][kubeconfig]") {
  auto text = replaceAll(twoContexts(), "    server: https://127.0.0.1:6443\n",
                         "    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: false\n");
  CHECK(parseKubeconfig(text, "/nowhere"));
}

TEST_CASE("in-cluster: token file path, CA, namespace, service host and port", "[kube][incluster]") {
  TempDir dir;
  InClusterPaths paths;
  paths.tokenFile = dir.write("token", "eyJ.token\n");
  paths.caFile = dir.write("ca.crt", kCa);
  paths.namespaceFile = dir.write("namespace", "gitfed-system\n");
  paths.host = "10.96.0.1";
  paths.port = "443";
  auto c = inClusterConfig(paths);
  REQUIRE(c);
  CHECK(c->server == "https://10.96.0.1:443");
  CHECK(c->caPem == kCa);
  CHECK(c->tokenFile == paths.tokenFile.string());
  CHECK(c->token.empty());
  CHECK(c->defaultNamespace == "gitfed-system");
  paths.host = "fd00::1";
  CHECK(inClusterConfig(paths)->server == "https://[fd00::1]:443");

  InClusterPaths noHost = paths;
  noHost.host = "";
  CHECK_FALSE(inClusterConfig(noHost));
  InClusterPaths noToken = paths;
  noToken.tokenFile = dir.path() / "absent";
  REQUIRE_FALSE(inClusterConfig(noToken));
  CHECK(inClusterConfig(noToken).error().message.find("token file") != std::string::npos);
  InClusterPaths noCa = paths;
  noCa.caFile = dir.path() / "absent";
  CHECK_FALSE(inClusterConfig(noCa));
}
