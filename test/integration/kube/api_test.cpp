// The kube client against the real kube-apiserver of test/env: discovery,
// get/list/apply/dry-run/delete, forced ownership, API errors (422, 403),
// Secret redaction, TLS verification.

#include "gitfed/kube/status.h"
#include "kube_itest.h"

#include <catch2/catch.hpp>

#include <set>

using namespace gitfed::kube;
using namespace gitfed::kube::itest;

namespace {
// libcurl's global state, once for this test program (main owns it in the agent).
const CurlGlobal curlGlobal;
}  // namespace

TEST_CASE("discovery: core and group kinds, scope, and a CRD found after a refresh", "[api][discovery]") {
  auto client = makeClient(adminConfig());
  auto cm = client->resourceFor("v1", "ConfigMap");
  REQUIRE(cm);
  CHECK(cm->plural == "configmaps");
  CHECK(cm->namespaced);
  CHECK(std::find(cm->verbs.begin(), cm->verbs.end(), "patch") != cm->verbs.end());
  auto deploy = client->resourceFor("apps/v1", "Deployment");
  REQUIRE(deploy);
  CHECK(deploy->plural == "deployments");
  auto cr = client->resourceFor("rbac.authorization.k8s.io/v1", "ClusterRole");
  REQUIRE(cr);
  CHECK_FALSE(cr->namespaced);
  auto all = client->resources();
  REQUIRE(all);
  CHECK(all->size() > 40);

  const std::string group = uniqueName("g") + ".gitfed.test";
  auto before = client->resourceFor(group + "/v1", "Widget");
  REQUIRE_FALSE(before);
  CHECK(before.error().notFound());

  const Resource crds = resource(*client, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
  const std::string crdName = "widgets." + group;
  json crd = {{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", crdName}}},
              {"spec",
               {{"group", group},
                {"scope", "Namespaced"},
                {"names", {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}, {"listKind", "WidgetList"}}},
                {"versions",
                 json::array({{{"name", "v1"},
                               {"served", true},
                               {"storage", true},
                               {"schema",
                                {{"openAPIV3Schema",
                                  {{"type", "object"},
                                   {"properties",
                                    {{"spec", {{"type", "object"}, {"properties", {{"size", {{"type", "integer"}}}}}}}}}}}}}}})}}}};
  REQUIRE(client->apply(crds, crd, ApplyOptions{}));
  const auto refreshesBefore = client->stats().discoveryRefreshes;
  CHECK(eventually([&] {
    auto got = client->get(crds, "", crdName);
    if (!got) return false;
    for (const auto& c : (*got)["status"].value("conditions", json::array()))
      if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
    return false;
  }));
  std::optional<Resource> widget;
  CHECK(eventually([&] {
    auto r = client->resourceFor(group + "/v1", "Widget");
    if (r) widget = *r;
    return r.has_value();
  }, 20s, 200ms));
  REQUIRE(widget);
  CHECK(client->stats().discoveryRefreshes > refreshesBefore);  // found by refreshing on the miss
  CHECK(widget->plural == "widgets");
  CHECK(widget->namespaced);

  TestNamespace ns(*client);
  json w = {{"apiVersion", group + "/v1"}, {"kind", "Widget"},
            {"metadata", {{"name", "w1"}, {"namespace", ns.name()}}}, {"spec", {{"size", 3}}}};
  auto applied = client->apply(*widget, w, ApplyOptions{});
  REQUIRE(applied);
  CHECK((*applied)["spec"]["size"] == 3);
  CHECK(client->remove(crds, "", crdName));
}

TEST_CASE("apply: create, update, and a no-op that keeps the resourceVersion", "[api][apply]") {
  auto client = makeClient(adminConfig());
  TestNamespace ns(*client);
  const Resource cms = resource(*client, "v1", "ConfigMap");

  auto created = client->apply(cms, configMap(ns.name(), "app", {{"a", "1"}}), ApplyOptions{});
  REQUIRE(created);
  const std::string rv1 = (*created)["metadata"]["resourceVersion"];
  CHECK((*created)["data"]["a"] == "1");
  CHECK_FALSE((*created)["metadata"]["uid"].get<std::string>().empty());

  auto again = client->apply(cms, configMap(ns.name(), "app", {{"a", "1"}}), ApplyOptions{});
  REQUIRE(again);
  CHECK((*again)["metadata"]["resourceVersion"] == rv1);

  auto updated = client->apply(cms, configMap(ns.name(), "app", {{"a", "2"}}), ApplyOptions{});
  REQUIRE(updated);
  CHECK((*updated)["metadata"]["resourceVersion"] != rv1);
  auto got = client->get(cms, ns.name(), "app");
  REQUIRE(got);
  CHECK((*got)["data"]["a"] == "2");
  bool gitfedManages = false;
  for (const auto& mf : (*got)["metadata"]["managedFields"])
    if (mf["manager"] == "gitfed" && mf["operation"] == "Apply") gitfedManages = true;
  CHECK(gitfedManages);
}

TEST_CASE("apply: a dry run persists nothing", "[api][apply][dryrun]") {
  auto client = makeClient(adminConfig());
  TestNamespace ns(*client);
  const Resource cms = resource(*client, "v1", "ConfigMap");
  ApplyOptions dry;
  dry.dryRun = true;

  auto wouldCreate = client->apply(cms, configMap(ns.name(), "ghost", {{"a", "1"}}), dry);
  REQUIRE(wouldCreate);
  CHECK((*wouldCreate)["metadata"]["name"] == "ghost");
  auto absent = client->get(cms, ns.name(), "ghost");
  REQUIRE_FALSE(absent);
  CHECK(absent.error().notFound());
  CHECK(absent.error().format().starts_with("get v1 ConfigMap " + ns.name() + "/ghost: 404 NotFound: "));

  auto real = client->apply(cms, configMap(ns.name(), "real", {{"a", "1"}}), ApplyOptions{});
  REQUIRE(real);
  auto wouldUpdate = client->apply(cms, configMap(ns.name(), "real", {{"a", "changed"}}), dry);
  REQUIRE(wouldUpdate);
  CHECK((*wouldUpdate)["data"]["a"] == "changed");
  auto after = client->get(cms, ns.name(), "real");
  REQUIRE(after);
  CHECK((*after)["data"]["a"] == "1");
  CHECK((*after)["metadata"]["resourceVersion"] == (*real)["metadata"]["resourceVersion"]);
}

TEST_CASE("list: pages with a small limit, label selector, all namespaces", "[api][list]") {
  Config config = adminConfig();
  config.listPageSize = 2;
  auto client = makeClient(config);
  TestNamespace ns(*client);
  const Resource cms = resource(*client, "v1", "ConfigMap");
  const std::string label = uniqueName("page");
  std::set<std::string> expected;
  for (int i = 0; i < 7; ++i) {
    const std::string name = "cm-" + std::to_string(i);
    REQUIRE(client->apply(cms, configMap(ns.name(), name, {{"i", std::to_string(i)}}, {{"list-test", label}}), {}));
    expected.insert(name);
  }
  REQUIRE(client->apply(cms, configMap(ns.name(), "other", {{"x", "y"}}, {{"list-test", "no"}}), {}));

  const auto attemptsBefore = client->stats().attempts;
  auto items = client->list(cms, ns.name(), "list-test=" + label);
  REQUIRE(items);
  CHECK(client->stats().attempts - attemptsBefore == 4);  // pages of 2, 2, 2, 1
  std::set<std::string> names;
  for (const auto& item : *items) {
    names.insert(item["metadata"]["name"].get<std::string>());
    CHECK(item["kind"] == "ConfigMap");
    CHECK(item["apiVersion"] == "v1");
  }
  CHECK(names == expected);

  auto everywhere = client->list(cms, "", "list-test in (" + label + ",no)");
  REQUIRE(everywhere);
  CHECK(everywhere->size() == 8);
  auto none = client->list(cms, ns.name(), "list-test=absent");
  REQUIRE(none);
  CHECK(none->empty());
  auto bad = client->list(cms, ns.name(), "list-test in (");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().status == 400);
}

TEST_CASE("delete: a uid precondition guards against deleting a newer object", "[api][delete]") {
  auto client = makeClient(adminConfig());
  TestNamespace ns(*client);
  const Resource cms = resource(*client, "v1", "ConfigMap");
  auto cm = client->apply(cms, configMap(ns.name(), "doomed", {{"a", "1"}}), {});
  REQUIRE(cm);
  const std::string uid = (*cm)["metadata"]["uid"];

  auto wrong = client->remove(cms, ns.name(), "doomed", Propagation::Background, std::string("not-the-uid"));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().status == 409);
  CHECK(wrong.error().reason == "Conflict");
  INFO(wrong.error().format());
  CHECK(wrong.error().message.find("the UID in the precondition (not-the-uid) does not match") != std::string::npos);
  CHECK(client->get(cms, ns.name(), "doomed"));

  REQUIRE(client->remove(cms, ns.name(), "doomed", Propagation::Foreground, uid));
  CHECK(eventually([&] {
    auto g = client->get(cms, ns.name(), "doomed");
    return !g && g.error().notFound();
  }));
  auto again = client->remove(cms, ns.name(), "doomed");
  REQUIRE_FALSE(again);
  CHECK(again.error().notFound());
}

TEST_CASE("apply: forced ownership takes a field over from kubectl", "[api][apply][conflict]") {
  auto client = makeClient(adminConfig());
  TestNamespace ns(*client);
  const Resource cms = resource(*client, "v1", "ConfigMap");
  auto k = kubectlApply(configMap(ns.name(), "shared", {{"k", "from-kubectl"}, {"mine", "kubectl"}}).dump());
  REQUIRE(k.status == 0);

  ApplyOptions polite;
  polite.force = false;
  auto conflict = client->apply(cms, configMap(ns.name(), "shared", {{"k", "from-gitfed"}}), polite);
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().status == 409);
  CHECK(conflict.error().reason == "Conflict");
  CHECK(conflict.error().message.find("kubectl") != std::string::npos);
  CHECK(conflict.error().message.find(".data.k") != std::string::npos);

  auto forced = client->apply(cms, configMap(ns.name(), "shared", {{"k", "from-gitfed"}}), ApplyOptions{});
  REQUIRE(forced);
  CHECK((*forced)["data"]["k"] == "from-gitfed");
  CHECK((*forced)["data"]["mine"] == "kubectl");  // fields gitfed does not set stay
  bool gitfedOwnsK = false, kubectlOwnsK = false;
  for (const auto& mf : (*forced)["metadata"]["managedFields"]) {
    const bool ownsK = mf.contains("fieldsV1") && mf["fieldsV1"].contains("f:data") &&
                       mf["fieldsV1"]["f:data"].contains("f:k");
    if (mf["manager"] == "gitfed") gitfedOwnsK = ownsK;
    else if (ownsK) kubectlOwnsK = true;
  }
  CHECK(gitfedOwnsK);
  CHECK_FALSE(kubectlOwnsK);
}

TEST_CASE("errors: a 422 carries the API's message", "[api][errors]") {
  auto client = makeClient(adminConfig());
  TestNamespace ns(*client);
  const Resource deploys = resource(*client, "apps/v1", "Deployment");
  json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "bad"}, {"namespace", ns.name()}}},
            {"spec",
             {{"replicas", -1},
              {"selector", {{"matchLabels", {{"app", "bad"}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", "bad"}}}}},
                {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "busybox"}}})}}}}}}}};
  const auto attempts = client->stats().attempts;
  auto r = client->apply(deploys, d, ApplyOptions{});
  REQUIRE_FALSE(r);
  CHECK(client->stats().attempts - attempts == 1);
  CHECK(r.error().status == 422);
  CHECK(r.error().reason == "Invalid");
  CHECK(r.error().message.find("spec.replicas") != std::string::npos);
  CHECK(r.error().format().starts_with("apply apps/v1 Deployment " + ns.name() + "/bad: 422 Invalid: Deployment.apps \"bad\" is invalid"));
}

TEST_CASE("errors: 403 for a ServiceAccount token that RBAC limits", "[api][errors][rbac]") {
  auto admin = makeClient(adminConfig());
  TestNamespace ns(*admin);
  REQUIRE(kubectl("create serviceaccount agent -n " + ns.name()).status == 0);
  REQUIRE(kubectl("create role cm-reader -n " + ns.name() + " --verb=get,list --resource=configmaps").status == 0);
  REQUIRE(kubectl("create rolebinding agent -n " + ns.name() + " --role=cm-reader --serviceaccount=" + ns.name() + ":agent").status == 0);
  auto token = kubectl("create token agent -n " + ns.name() + " --duration=10m");
  REQUIRE(token.status == 0);
  while (!token.out.empty() && token.out.back() == '\n') token.out.pop_back();

  auto client = makeClient(tokenConfig(token.out));
  const Resource cms = resource(*client, "v1", "ConfigMap");
  const Resource secrets = resource(*client, "v1", "Secret");
  CHECK(eventually([&] { return client->list(cms, ns.name(), "").has_value(); }, 10s));  // RBAC caches settle

  const auto attempts = client->stats().attempts;
  auto denied = client->get(secrets, ns.name(), "anything");
  REQUIRE_FALSE(denied);
  CHECK(client->stats().attempts - attempts == 1);  // never retried
  CHECK(denied.error().status == 403);
  CHECK(denied.error().reason == "Forbidden");
  CHECK(denied.error().message.find("system:serviceaccount:" + ns.name() + ":agent") != std::string::npos);
  CHECK(denied.error().message.find("cannot get resource \"secrets\"") != std::string::npos);
  auto write = client->apply(cms, configMap(ns.name(), "x", {{"a", "b"}}), ApplyOptions{});
  REQUIRE_FALSE(write);
  CHECK(write.error().status == 403);
}

TEST_CASE("redaction: a Secret echoed by an admission policy never reaches the error", "[api][redact]") {
  auto client = makeClient(adminConfig());
  const std::string tag = uniqueName("vap");
  TestNamespace ns(*client, "gitfed-kube-vap", {{"gitfed-kube-vap", tag}});
  // Denies every Secret in namespaces labelled with `tag`, echoing its data.
  const std::string policy = R"J({"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy",
    "metadata":{"name":")J" + tag + R"J("},
    "spec":{"failurePolicy":"Fail",
      "matchConstraints":{"resourceRules":[{"apiGroups":[""],"apiVersions":["v1"],"operations":["CREATE","UPDATE"],"resources":["secrets"]}]},
      "validations":[{"expression":"false",
        "messageExpression":"'weak password ' + string(object.data.password)"}]}})J";
  const std::string binding = R"J({"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicyBinding",
    "metadata":{"name":")J" + tag + R"J("},
    "spec":{"policyName":")J" + tag + R"J(","validationActions":["Deny"],
      "matchResources":{"namespaceSelector":{"matchLabels":{"gitfed-kube-vap":")J" + tag + R"J("}}}}})J";
  REQUIRE(kubectlApply(policy).status == 0);
  REQUIRE(kubectlApply(binding).status == 0);
  struct Cleanup {
    std::string tag;
    ~Cleanup() {
      kubectl("delete validatingadmissionpolicybinding " + tag + " --wait=false");
      kubectl("delete validatingadmissionpolicy " + tag + " --wait=false");
    }
  } cleanup{tag};

  const Resource secrets = resource(*client, "v1", "Secret");
  const std::string value = "correct-horse-" + uniqueName("battery");
  const std::string encoded = base64Encode(value);
  json secret = {{"apiVersion", "v1"}, {"kind", "Secret"},
                 {"metadata", {{"name", "db"}, {"namespace", ns.name()}}},
                 {"data", {{"password", encoded}}}};
  ApplyOptions dry;
  dry.dryRun = true;
  // The policy takes a moment to be enforced.
  std::string last;
  const bool enforced = eventually([&] {
    auto r = client->apply(secrets, secret, dry);
    last = r ? std::string("accepted") : r.error().format();
    return !r && r.error().message.find("denied request") != std::string::npos;
  }, 30s, 200ms);
  INFO(last);
  REQUIRE(enforced);

  // The server really echoes it (kubectl shows it)...
  auto echoed = kubectlApply(secret.dump());
  CHECK(echoed.status != 0);
  CHECK(echoed.out.find(encoded) != std::string::npos);

  // ... and our error never does.
  auto r = client->apply(secrets, secret, ApplyOptions{});
  REQUIRE_FALSE(r);
  const std::string text = r.error().format();
  INFO(text);
  CHECK((r.error().status == 403 || r.error().status == 422));  // 422 for a PATCH, 403 for a create
  CHECK(text.find("denied request") != std::string::npos);
  CHECK(text.find("<redacted>") != std::string::npos);
  CHECK(text.find(encoded) == std::string::npos);
  CHECK(text.find(value) == std::string::npos);

  // stringData: the server stores (and echoes) it base64-encoded.
  json viaStringData = {{"apiVersion", "v1"}, {"kind", "Secret"},
                        {"metadata", {{"name", "db2"}, {"namespace", ns.name()}}},
                        {"stringData", {{"password", value}}}};
  auto r2 = client->apply(secrets, viaStringData, ApplyOptions{});
  REQUIRE_FALSE(r2);
  CHECK(r2.error().format().find(encoded) == std::string::npos);
  CHECK(r2.error().format().find(value) == std::string::npos);
  CHECK(r2.error().format().find("<redacted>") != std::string::npos);
}

TEST_CASE("TLS: the right CA and name work, a wrong CA or name fails closed", "[api][tls]") {
  const std::string token = gitfed::testenv::require("GITFED_TEST_KUBE_TOKEN");
  auto good = makeClient(tokenConfig(token));
  auto version = good->request("GET", "/version");
  REQUIRE(version);
  CHECK((*version)["major"] == "1");

  TempDir dir;
  const auto key = dir.path() / "other.key";
  const auto crt = dir.path() / "other.crt";
  REQUIRE(sh("openssl ecparam -name prime256v1 -genkey -noout -out " + quote(key.string()) +
             " && openssl req -x509 -new -key " + quote(key.string()) + " -days 1 -subj /CN=not-the-cluster-ca -out " +
             quote(crt.string()))
              .status == 0);
  Config wrongCa = tokenConfig(token);
  wrongCa.caPem = readFile(crt);
  auto other = makeClient(wrongCa);
  auto refused = other->request("GET", "/version");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().status == 0);
  CHECK(refused.error().reason == "TLSError");
  CHECK(other->stats().attempts == 1);  // never retried

  // The system trust store is not consulted either.
  Config systemCa = tokenConfig(token);
  systemCa.caPem = readFile("/etc/ssl/certs/ca-certificates.crt");
  if (!systemCa.caPem.empty()) {
    auto sys = makeClient(systemCa)->request("GET", "/version");
    REQUIRE_FALSE(sys);
    CHECK(sys.error().reason == "TLSError");
  }

  // The serving certificate's names are checked: tls-server-name.
  Config svcName = tokenConfig(token);
  svcName.tlsServerName = "kubernetes.default.svc";
  CHECK(makeClient(svcName)->request("GET", "/version"));
  Config wrongName = tokenConfig(token);
  wrongName.tlsServerName = "not-the-apiserver.example";
  auto mismatch = makeClient(wrongName)->request("GET", "/version");
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error().reason == "TLSError");

  // A config without a CA is refused before any connection.
  Config noCa = tokenConfig(token);
  noCa.caPem.clear();
  auto created = CurlKubeClient::create(noCa);
  REQUIRE_FALSE(created);
  CHECK(created.error().reason == "InvalidConfig");
}
