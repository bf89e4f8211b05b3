// Persistent API errors (issue 13; agent/sync/README.md, "Persistent errors
// and bounded rounds") against the real kube-apiserver of test/env: a full
// Service IP range (a cluster of its own with a /28), a ResourceQuota that
// refuses a kind, a ValidatingAdmissionPolicy that rejects every object of a
// kind, and a validating webhook that never answers. In each: the round
// finishes within its documented bound, the unaffected objects are applied,
// the errors are one group, and the status report is within its size bound.

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <netinet/in.h>

#include "gitfed/daemon/report.h"
#include "gitfed/status/report.h"
#include "gitfed/sync/error_groups.h"
#include "sync_itest.h"

using namespace gitfed;
using namespace gitfed::sync;
using namespace gitfed::sync::itest;

namespace {

using Seconds = std::chrono::duration<double>;

std::string secret(const std::string& name, const std::string& nsName) {
  return "---\napiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: " + nsName +
         "}\nstringData: {k: v}\n";
}

// `n` ConfigMaps (the kind that is refused) and 10 Secrets (applied) in `nsName`.
std::string configMapsAndSecrets(const std::string& nsName, int n) {
  std::string y;
  for (int i = 0; i < n; ++i) y += cm("c" + std::to_string(i), nsName, "k: '" + std::to_string(i) + "'");
  for (int i = 0; i < 10; ++i) y += secret("s" + std::to_string(i), nsName);
  return y;
}

// The documented bound (agent/sync/README.md) of a round with `openTypes`
// resource types whose circuit opens, each failing attempt taking up to
// `attempt`; `clean` is a clean round of the same objects, measured in the
// same run. Twice `clean`: the round's other work, on a machine whose load
// may differ between the two measurements.
Seconds bound(const SyncOptions& o, const kube::Config& c, Seconds clean, int openTypes, Seconds attempt) {
  const double perType = (2.0 * std::ceil(static_cast<double>(o.breakerThreshold) / o.parallelism) + 1) *
                         (attempt.count() + std::chrono::duration<double>(c.retry.maxDelay).count());
  return Seconds(2 * clean.count() + std::chrono::duration<double>(o.retryBudget).count() + openTypes * perType);
}

// One grouped error in the status report built from `r`, naming `count`
// objects, and the report within its size bound. The group's message.
std::string checkGroupedReport(const SyncReport& r, std::size_t count) {
  auto groups = groupErrors(r.objects);
  INFO(toJson(r).dump(1).substr(0, 4000));
  REQUIRE(groups.size() == 1);
  CHECK(groups[0].count == count);
  daemon::ReportContext context;
  context.cluster = "itest";
  context.revision = std::string(40, 'a');
  context.url = "file:///fleet.git";
  context.ref = "main";
  context.now = std::chrono::system_clock::now();
  auto status = daemon::fromSync(r, context, std::nullopt);
  std::size_t grouped = 0;
  for (const auto& e : status.sync.errors)
    if (e.count == count && e.examples.size() == std::min<std::size_t>(count, kGroupExamples)) ++grouped;
  CHECK(grouped == 1);
  CHECK(status::toYamlText(status).size() <= status::kMaxReportBytes);
  return groups[0].message;
}

kube::Config configOf(const std::string& kubeconfigPath) {
  auto config = kube::loadKubeconfig(kubeconfigPath);
  if (!config) throw std::runtime_error(config.error().format());
  config->qps = 1000;
  config->burst = 2000;
  config->maxInFlight = 16;
  return *config;
}

SyncOptions roundOptions(const std::string& id) {
  auto o = options(id);
  o.retryBudget = std::chrono::seconds(10);  // the bound's dominant term: kept small here
  return o;
}

std::size_t appliedSecrets(const SyncReport& r) {
  std::size_t n = 0;
  for (const auto& o : r.objects) n += o.ref.kind == "Secret" && o.state == State::Synced;
  return n;
}

// The same objects in a fresh namespace without the obstacle: the clean round.
Seconds cleanRound(kube::KubeClient& client, int configMaps) {
  Namespace free("gs-clean");
  auto start = std::chrono::steady_clock::now();
  Engine engine(client, roundOptions(unique("clean")));
  auto r = engine.sync(renderYaml(configMapsAndSecrets(free.name(), configMaps)));
  INFO(toJson(r).dump(1).substr(0, 2000));
  CHECK(r.ok());
  return std::chrono::steady_clock::now() - start;
}

// `kubectl apply -f -` of `yaml`, on the shared cluster.
void kubectlApply(const std::string& yaml) {
  auto applied = sh("printf '%s' " + quote(yaml) + " | timeout 60 kubectl --kubeconfig " + quote(kubeconfig()) +
                    " apply -f -");
  INFO(applied.out);
  REQUIRE(applied.status == 0);
}

// 40 ConfigMaps that `nsName` refuses and 10 Secrets it takes, synced in a
// round of their own after a clean round of the same objects elsewhere:
// the round is Failed, the Secrets are applied, the 40 errors are one group
// (containing `expected`) and the round is within its bound.
SyncReport refusedRound(kube::CurlKubeClient& client, const kube::Config& config, const std::string& nsName,
                        const std::string& expected, int openTypes, Seconds attempt) {
  const auto clean = cleanRound(client, 40);
  auto o = roundOptions(unique("refused"));
  Engine engine(client, o);
  auto start = std::chrono::steady_clock::now();
  auto r = engine.sync(renderYaml(configMapsAndSecrets(nsName, 40)));
  const Seconds took = std::chrono::steady_clock::now() - start;
  INFO("round: " << took.count() << " s, clean " << clean.count() << " s");
  CHECK(r.phase == Phase::Failed);
  CHECK(r.summary.failed == 40);
  CHECK(appliedSecrets(r) == 10);
  auto message = checkGroupedReport(r, 40);
  CHECK(message.find(expected) != std::string::npos);
  CHECK(took <= bound(o, config, clean, openTypes, attempt));
  return r;
}

}  // namespace

TEST_CASE("quota", "[sync][persistent]") {
  auto config = configOf(kubeconfig());
  auto client = std::move(*kube::CurlKubeClient::create(config));
  Namespace n("gs-quota");
  REQUIRE(kubectl("-n " + n.name() + " create quota q --hard=count/configmaps=0").status == 0);
  // Until the controller-manager has computed the quota's usage, admission
  // refuses with "status unknown for quota": wait for the status, so that
  // the refusal is the one the test is about. 403s are not retried: each
  // costs one request, and no circuit opens.
  REQUIRE(eventually([&] {
    return !kubectl("-n " + n.name() + " get quota q -o jsonpath={.status.hard}").out.empty();
  }));
  refusedRound(*client, config, n.name(), "exceeded quota", 0, Seconds(0));
}

TEST_CASE("admission-policy", "[sync][persistent]") {
  auto config = configOf(kubeconfig());
  auto client = std::move(*kube::CurlKubeClient::create(config));
  Namespace n("gs-vap");
  const std::string policy = unique("deny-cm");
  REQUIRE(kubectl("label namespace " + n.name() + " gitfed-test-policy=" + policy).status == 0);
  const std::string yaml =
      "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: " + policy +
      "}\nspec:\n  failurePolicy: Fail\n  matchConstraints:\n    resourceRules:\n    - apiGroups: ['']\n"
      "      apiVersions: [v1]\n      operations: [CREATE, UPDATE]\n      resources: [configmaps]\n"
      "  validations:\n  - expression: 'false'\n    message: ConfigMaps are not allowed here\n---\n"
      "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: " +
      policy + "}\nspec:\n  policyName: " + policy +
      "\n  validationActions: [Deny]\n  matchResources:\n    namespaceSelector:\n      matchLabels: "
      "{gitfed-test-policy: " + policy + "}\n";
  kubectlApply(yaml);
  struct Cleanup {
    std::string name;
    ~Cleanup() {
      kubectl("delete validatingadmissionpolicybinding " + name + " --ignore-not-found");
      kubectl("delete validatingadmissionpolicy " + name + " --ignore-not-found");
    }
  } cleanup{policy};
  // The apiserver loads the policy from a watch: wait until it refuses.
  REQUIRE(eventually([&] {
    return kubectl("-n " + n.name() + " create configmap probe --dry-run=server").out.find("not allowed here") !=
           std::string::npos;
  }));
  refusedRound(*client, config, n.name(), "ConfigMaps are not allowed here", 0, Seconds(0));
}

namespace {

// A TCP port that accepts connections into its backlog and never answers:
// a webhook that hangs (the apiserver gives up after the webhook's timeout).
class SilentPort {
 public:
  SilentPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 512) != 0)
      throw std::runtime_error("cannot listen on 127.0.0.1");
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string base64File(const std::string& path) { return sh("base64 -w0 " + quote(path)).out; }

}  // namespace

TEST_CASE("webhook-timeout", "[sync][persistent]") {
  auto config = configOf(kubeconfig());
  auto client = std::move(*kube::CurlKubeClient::create(config));
  Namespace n("gs-hook");
  SilentPort silent;
  const std::string hook = unique("hang");
  REQUIRE(kubectl("label namespace " + n.name() + " gitfed-test-hook=" + hook).status == 0);
  const int timeoutSeconds = 2;
  const std::string yaml =
      "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: " + hook +
      "}\nwebhooks:\n- name: hang.gitfed.test\n  admissionReviewVersions: [v1]\n  sideEffects: None\n"
      "  failurePolicy: Fail\n  timeoutSeconds: " + std::to_string(timeoutSeconds) +
      "\n  clientConfig:\n    url: https://127.0.0.1:" + std::to_string(silent.port()) + "/validate\n    caBundle: " +
      base64File(testenv::require("GITFED_TEST_KUBE_CA")) +
      "\n  rules:\n  - {apiGroups: [''], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}\n"
      "  namespaceSelector:\n    matchLabels: {gitfed-test-hook: " + hook + "}\n";
  kubectlApply(yaml);
  struct Cleanup {
    std::string name;
    ~Cleanup() { kubectl("delete validatingwebhookconfiguration " + name + " --ignore-not-found"); }
  } cleanup{hook};
  REQUIRE(eventually([&] {
    return kubectl("-n " + n.name() + " create configmap probe --dry-run=server").out.find("hang.gitfed.test") !=
           std::string::npos;
  }));
  // The answer of each attempt takes the webhook's timeout (and a little).
  auto r = refusedRound(*client, config, n.name(), "hang.gitfed.test", 1, Seconds(timeoutSeconds + 1));
  // Without the breaker: 40 objects x 6 attempts x 2 s / 8 in flight = 60 s
  // of hanging alone; with it, the circuit opened and most were not sent.
  std::size_t notSent = 0;
  for (const auto& x : r.objects) notSent += x.error.find("(not sent: ") != std::string::npos;
  const auto o = roundOptions("");
  CHECK(notSent >= 40 - (o.breakerThreshold - 1 + o.parallelism));
}

namespace {

// A cluster of its own (test/env/kube-up) with a tiny Service range.
class OwnCluster {
 public:
  OwnCluster(const std::string& name, const std::string& serviceCidr) {
    dir_ = std::filesystem::temp_directory_path() / unique("gitfed-" + name);
    std::string scripts = testenv::require("GITFED_TEST_ENV_SCRIPTS");
    auto up = sh("GITFED_SERVICE_CIDR=" + serviceCidr + " " + quote(scripts + "/kube-up") + " " + name + " " +
                 quote(dir_.string()));
    if (up.status != 0) throw std::runtime_error("kube-up failed: " + up.out);
  }
  ~OwnCluster() {
    sh(quote(testenv::require("GITFED_TEST_ENV_SCRIPTS") + "/kube-down") + " " + quote(dir_.string()));
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string kubeconfig() const { return (dir_ / "kubeconfig").string(); }

 private:
  std::filesystem::path dir_;
};

std::string services(const std::string& nsName, int n) {
  std::string y = ns(nsName);
  for (int i = 0; i < n; ++i)
    y += "---\napiVersion: v1\nkind: Service\nmetadata: {name: s" + std::to_string(i) + ", namespace: " + nsName +
         "}\nspec: {selector: {app: a}, ports: [{port: 80}]}\n";
  for (int i = 0; i < 10; ++i) y += secret("s" + std::to_string(i), nsName);
  return y;
}

}  // namespace

TEST_CASE("service-range", "[sync][persistent]") {
  // 10.0.0.0/28: 14 addresses, 10.0.0.1 taken by the kubernetes Service.
  OwnCluster cluster("range", "10.0.0.0/28");
  auto config = configOf(cluster.kubeconfig());
  auto client = std::move(*kube::CurlKubeClient::create(config));
  // The clean round: 10 Services (the range holds 13), in one namespace.
  auto cleanStart = std::chrono::steady_clock::now();
  {
    Engine engine(*client, roundOptions("clean"));
    auto r = engine.sync(renderYaml(services("fits", 10)));
    INFO(toJson(r).dump(1).substr(0, 3000));
    REQUIRE(r.ok());
  }
  const Seconds clean = std::chrono::steady_clock::now() - cleanStart;
  // Now the range is full: 40 more Services find no address.
  auto o = roundOptions("full");
  Engine engine(*client, o);
  auto start = std::chrono::steady_clock::now();
  auto r = engine.sync(renderYaml(services("full", 40)));
  const Seconds took = std::chrono::steady_clock::now() - start;
  INFO("round: " << took.count() << " s, clean " << clean.count() << " s");
  // At most the 3 addresses left are taken (fewer if the allocator keeps
  // more to itself); every other Service fails with the same error.
  CHECK(r.phase == Phase::Failed);
  CHECK(r.summary.failed >= 37);
  CHECK(r.summary.failed <= 40);
  CHECK(appliedSecrets(r) == 10);
  auto message = checkGroupedReport(r, r.summary.failed);
  CHECK(message.find("range is full") != std::string::npos);
  CHECK(took <= bound(o, config, clean, 1, Seconds(1)));
}
