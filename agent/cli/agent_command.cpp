// `gitfed agent`: the long-running agent (or one round with --once). Parses
// the configuration, connects to the API server and the Git remote, and runs
// gitfed::daemon::Agent until SIGTERM/SIGINT. Process-wide state (libcurl,
// libgit2, signals, malloc arenas) is set up here, before any thread starts.

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "cli/commands.h"
#include "gitfed/daemon/agent.h"
#include "gitfed/daemon/config.h"
#include "gitfed/daemon/logging.h"
#include "gitfed/daemon/metered_client.h"
#include "gitfed/git/libgit2.h"
#include "gitfed/kube/config.h"
#include "gitfed/kube/curl_client.h"
#include "gitfed/status/cluster_ref.h"
#include "gitfed/status/signing.h"
#include "gitfed/status/store.h"

namespace gitfed::cli {
namespace {

using daemon::logEvent;

kube::Result<kube::Config> kubeConfigFor(const daemon::AgentConfig& c, bool& inCluster) {
  inCluster = false;
  if (!c.kube.kubeconfig.empty()) return kube::loadKubeconfig(c.kube.kubeconfig, c.kube.context);
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST"); host && *host) {
    kube::InClusterPaths paths;
    paths.tokenFile = c.kube.serviceAccountDir / "token";
    paths.caFile = c.kube.serviceAccountDir / "ca.crt";
    paths.namespaceFile = c.kube.serviceAccountDir / "namespace";
    inCluster = true;
    return kube::inClusterConfig(paths);
  }
  return kube::defaultConfig(std::nullopt, c.kube.context);
}

int agentCommand(const Args& args) {
  auto parsed = daemon::loadConfig(args);
  if (!parsed) {
    std::fprintf(stderr, "gitfed agent: %s\n(gitfed agent --help for the options)\n", parsed.error().message.c_str());
    return 2;
  }
  if (parsed->help) {
    std::fputs(daemon::usage().c_str(), stdout);
    return 0;
  }
  daemon::AgentConfig config = std::move(parsed->config);
  if (parsed->print) {
    std::printf("%s\n", daemon::toJson(config).dump(2).c_str());
    return 0;
  }
  daemon::setUpLogging(config.logFormat, config.logLevel, {{"cluster", config.cluster}});

  // A long-running process whose rounds allocate and free tens of MB: one
  // malloc arena (instead of eight per core) and a fixed mmap threshold (big
  // buffers such as LIST pages go straight back to the system instead of
  // raising glibc's dynamic threshold and staying in the heap) keep the
  // resident size close to what is in use. Measured on 10,000 objects
  // (bench/agent/README.md): peak 61.8 -> 57.5 MB, idle 26 -> 24 MB, rounds
  // ~10% slower (the engine's threads wait on the API server, not malloc).
  ::mallopt(M_ARENA_MAX, 1);
  ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  ::signal(SIGPIPE, SIG_IGN);
  // SIGTERM and SIGINT are taken by one thread (sigwait); every thread
  // started from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);  // wakes the signal thread when the agent ends by itself
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  kube::CurlGlobal curl;
  git::Libgit2 libgit2;

  bool inCluster = false;
  auto kubeConfig = kubeConfigFor(config, inCluster);
  if (!kubeConfig) {
    logEvent(spdlog::level::critical, "no API server configuration", {{"error", kubeConfig.error().format()}});
    return 2;
  }
  kubeConfig->qps = config.kube.qps;
  kubeConfig->burst = config.kube.burst;
  kubeConfig->maxInFlight = static_cast<int>(config.kube.parallelism);
  kubeConfig->userAgent = "gitfed-agent/" GITFED_VERSION;
  auto client = kube::CurlKubeClient::create(*kubeConfig);
  if (!client) {
    logEvent(spdlog::level::critical, "cannot use the API server", {{"error", client.error().format()}});
    return 2;
  }
  daemon::AgentMetrics metrics;
  daemon::MeteredKubeClient metered(**client, [&metrics](const std::string& verb, const std::string& code) {
    metrics.kubeRequests.inc({verb, code});
  });

  if (config.leader.leaseNamespace.empty())
    config.leader.leaseNamespace = inCluster && !kubeConfig->defaultNamespace.empty() ? kubeConfig->defaultNamespace
                                                                                      : "gitfed-system";
  if (config.leader.identity.empty()) config.leader.identity = daemon::defaultIdentity();
  {
    nlohmann::json shown = daemon::toJson(config);
    shown["kube"]["server"] = kubeConfig->server;
    shown["kube"]["source"] = kubeConfig->source;
    logEvent(spdlog::level::info, "starting", {{"version", GITFED_VERSION}, {"config", shown}});
  }

  std::error_code ec;
  std::filesystem::create_directories(config.cacheDir, ec);
  daemon::AgentParts parts;
  parts.kube = &metered;
  parts.contextNamespace = inCluster ? std::string() : kubeConfig->defaultNamespace;
  parts.agentVersion = GITFED_VERSION;
  auto source = daemon::GitSourceStage::open(config.git, config.cacheDir / "source");
  if (!source) {
    logEvent(spdlog::level::critical, "cannot open the source", {{"error", source.error().message}});
    return 2;
  }
  parts.source = std::move(*source);
  if (config.status.enabled) {
    auto store = status::GitStatusStore::open(config.cacheDir / "status", daemon::remoteOptions(config.git),
                                              config.status.branch);
    if (!store) {
      logEvent(spdlog::level::critical, "cannot open the status cache", {{"error", store.error().format()}});
      return 2;
    }
    status::WriterOptions w;
    w.cluster = config.cluster;
    w.email = config.status.email;
    w.heartbeat = std::chrono::duration_cast<std::chrono::seconds>(config.status.heartbeat);
    w.deadline = std::chrono::seconds(20);  // then the publisher retries with its own backoff
    if (config.status.clusterRefs) {
      auto ref = status::GitClusterRefStore::open(config.cacheDir / "status", daemon::remoteOptions(config.git),
                                                  config.cluster);
      if (!ref) {
        logEvent(spdlog::level::critical, "cannot open the status cache", {{"error", ref.error().format()}});
        return 2;
      }
      w.clusterRef = std::move(*ref);
    }
    if (!config.status.signingKeyFile.empty()) {
      auto signer = status::ReportSigner::load(config.status.signingKeyFile);
      if (!signer) {
        logEvent(spdlog::level::critical, "cannot load the status signing key", {{"error", signer.error().format()}});
        return 2;
      }
      w.signer = std::move(*signer);
    }
    parts.status = std::make_unique<daemon::StatusPublisher>(
        std::move(*store), w, [&metrics](const std::string& outcome) { metrics.statusWrites.inc({outcome}); });
  }
  // Leader election has a client of its own (as client-go advises): its
  // requests never queue behind a big sync's, one attempt each (the elector
  // retries every retryPeriod) with a deadline well inside renewDeadline.
  std::unique_ptr<kube::CurlKubeClient> leaseClient;
  std::unique_ptr<daemon::MeteredKubeClient> meteredLease;
  if (config.leader.enabled && !config.once) {
    kube::Config lc = *kubeConfig;
    lc.retry.maxAttempts = 1;
    lc.requestTimeout = std::max(std::chrono::milliseconds(1000), config.leader.renewDeadline / 2);
    lc.operationTimeout = lc.requestTimeout;
    lc.connectTimeout = std::min(lc.connectTimeout, lc.requestTimeout);
    lc.maxInFlight = 2;
    lc.qps = 0;
    auto made = kube::CurlKubeClient::create(lc);
    if (!made) {
      logEvent(spdlog::level::critical, "cannot use the API server", {{"error", made.error().format()}});
      return 2;
    }
    leaseClient = std::move(*made);
    meteredLease = std::make_unique<daemon::MeteredKubeClient>(
        *leaseClient, [&metrics](const std::string& verb, const std::string& code) { metrics.kubeRequests.inc({verb, code}); });
    daemon::LeaseOptions lease{config.leader.leaseName, config.leader.leaseNamespace, config.leader.identity,
                               config.leader.leaseDuration, config.leader.renewDeadline, config.leader.retryPeriod};
    parts.elector = std::make_unique<daemon::LeaderElector>(*meteredLease, lease);
  }
  // Events (agent/daemon/README.md) on a client of their own too: a write
  // never waits behind a sync's requests and gives up after 5 s, one attempt.
  kube::Config eventsConfig = *kubeConfig;
  eventsConfig.retry.maxAttempts = 1;
  eventsConfig.requestTimeout = eventsConfig.operationTimeout = std::chrono::seconds(5);
  eventsConfig.connectTimeout = std::min(eventsConfig.connectTimeout, eventsConfig.requestTimeout);
  eventsConfig.maxInFlight = 1;
  eventsConfig.qps = 0;
  auto eventsClient = kube::CurlKubeClient::create(eventsConfig);
  if (!eventsClient) {
    logEvent(spdlog::level::critical, "cannot use the API server", {{"error", eventsClient.error().format()}});
    return 2;
  }
  daemon::MeteredKubeClient meteredEvents(**eventsClient, [&metrics](const std::string& verb, const std::string& code) {
    metrics.kubeRequests.inc({verb, code});
  });
  parts.events = &meteredEvents;

  daemon::Agent agent(config, std::move(parts), metrics);
  if (config.once) return agent.runOnce();

  std::thread signalThread([&agent, &signals] {
    int count = 0;
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGUSR1) return;
      if (++count > 1) {
        logEvent(spdlog::level::warn, "second signal: exiting at once", {{"signal", sig}});
        std::_Exit(128 + sig);
      }
      logEvent(spdlog::level::info, "signal received: shutting down", {{"signal", sig}});
      agent.stop();
    }
  });
  int status = agent.run();
  pthread_kill(signalThread.native_handle(), SIGUSR1);
  signalThread.join();
  return status;
}

}  // namespace

GITFED_COMMAND("agent", "run the agent: keep this cluster in sync with the fleet repository", agentCommand);

}  // namespace gitfed::cli
