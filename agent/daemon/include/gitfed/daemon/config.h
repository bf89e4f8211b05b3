#pragma once
// AgentConfig: everything `gitfed agent` is told, and where it comes from.
// Each setting has one flag (--drift-interval), one environment variable
// (GITFED_DRIFT_INTERVAL: the flag upper-cased, '-' -> '_') and one key of the
// config file (driftInterval, or a dotted path such as repository.url), a YAML
// or JSON file usually mounted from a ConfigMap. Precedence: flags > environment
// > file > defaults, per setting (a list given on the command line replaces the
// file's list; it is not appended to).
//
// The configuration holds no secret: credentials are named by file (a mounted
// Secret) and read by gitfed::git and gitfed::kube when they connect, so the
// effective configuration can be logged as a whole (toJson).
//
// Plain values and pure functions (the file is read by loadConfig only);
// thread-safe to copy.

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gitfed/daemon/error.h"

namespace gitfed::daemon {

using Duration = std::chrono::milliseconds;

struct GitConfig {
  std::string url;                   // required
  std::string ref = "main";          // a branch, a tag (refs/tags/NAME) or a 40-hex commit
  std::vector<std::string> paths{""};  // root paths inside the repository ("" = all of it)
  // A mounted Secret: the files it holds, by name, fill the settings below
  // that are not set otherwise: username, password, token, ca.crt,
  // ssh-privatekey, ssh-publickey, ssh-passphrase, known_hosts.
  std::filesystem::path credentialsDir;
  std::string username;
  std::filesystem::path usernameFile, passwordFile, tokenFile, caFile;
  std::filesystem::path sshKeyFile, sshPublicKeyFile, sshPassphraseFile, knownHostsFile;
  Duration connectTimeout{10'000}, ioTimeout{30'000}, operationTimeout{120'000};
};

struct StatusConfig {
  bool enabled = true;
  std::string branch = "gitfed-status";
  std::string email = "gitfed@localhost";
  Duration heartbeat{0};  // commit an unchanged report after this long; 0: never
  // Issue 15: every report also goes to refs/gitfed/status/<cluster>, and the
  // branch gets headline changes only (docs/status-spec.md). Off
  // (--no-status-refs): every report to the branch, as before issue 15.
  bool clusterRefs = true;
  std::filesystem::path signingKeyFile;  // Ed25519 PEM signing the per-cluster reports; empty: unsigned
};

struct LeaderConfig {
  bool enabled = true;
  std::string leaseName;       // default: "gitfed-" + inventory id
  std::string leaseNamespace;  // default: the pod's namespace, else gitfed-system
  std::string identity;        // default: $POD_NAME or the host name, plus a random suffix
  // client-go's usual timings.
  Duration leaseDuration{15'000}, renewDeadline{10'000}, retryPeriod{2'000};
};

struct KubeAccess {
  std::string kubeconfig;  // empty: in cluster when KUBERNETES_SERVICE_HOST is set, else $KUBECONFIG, ~/.kube/config
  std::string context;
  // The service-account files when running in cluster (token, ca.crt, namespace).
  std::filesystem::path serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";
  double qps = 1000;
  int burst = 2000;
  unsigned parallelism = 16;
};

struct AgentConfig {
  std::string cluster;  // required: the cluster's name in the registry
  std::map<std::string, std::string> labels;  // local labels, over the registry's
  GitConfig git;

  Duration interval{60'000};      // how often the source is polled for a new commit
  double jitter = 0.1;            // each wait is interval * (1 +- jitter)
  Duration driftInterval{300'000};  // a full sync (drift check) at least this often
  Duration retryMin{5'000}, retryMax{300'000};  // backoff after a failed round
  bool selfHeal = true;           // else report-only: drift is reported, not corrected
  bool prune = true;
  bool suspend = false;  // apply nothing (agent/daemon/README.md, "Suspension")
  Duration healthTimeout{0};      // wait up to this long for objects to become healthy
  Duration dependencyTimeout{std::chrono::seconds(60)};  // for a depends-on dependency to become healthy
  std::string inventoryId;        // default: the cluster name
  std::string inventoryNamespace = "gitfed-system";
  std::string defaultNamespace;   // default: the kube context's, else "default"

  StatusConfig status;
  LeaderConfig leader;
  KubeAccess kube;

  std::string httpAddress = ":8080";  // /healthz /readyz /metrics /trigger; "off" disables
  std::filesystem::path cacheDir = "/var/cache/gitfed";
  std::string logLevel = "info";      // trace debug info warn error
  std::string logFormat = "json";     // json or text
  bool once = false;                  // one reconcile, then exit with its status
  Duration livenessTimeout{900'000};  // /healthz fails when one step runs longer

  std::string configFile;  // where the file settings came from ("" when none)
};

// Where the setting values come from. `env` looks a variable up (nullopt when
// unset); `readFile` returns a file's content (for --config).
struct ConfigSources {
  std::vector<std::string> args;  // after "agent"
  std::function<std::optional<std::string>(const std::string&)> env;
  std::function<Result<std::string>(const std::string&)> readFile;
};

// Outcome of parsing: a configuration, or "help" (print usage, exit 0), or
// "print" (--print-config: print the effective configuration, exit 0).
struct ParsedConfig {
  AgentConfig config;
  bool help = false;
  bool print = false;
};

// Parses and checks everything; the error names the flag, variable or key.
Result<ParsedConfig> parseConfig(const ConfigSources& sources);

// parseConfig over the process's environment and files.
Result<ParsedConfig> loadConfig(const std::vector<std::string>& args);

// The config file's text (YAML or JSON) applied over `config`.
Result<void> applyConfigFile(AgentConfig& config, const std::string& text, const std::string& name);

// Fills defaults that depend on other settings (inventory id, lease name) and
// checks the whole: cluster name, URL, ref, durations, label syntax.
Result<void> finish(AgentConfig& config);

// "90s", "5m", "1h30m", "250ms", or a plain number of seconds.
std::optional<Duration> parseDuration(std::string_view text);
std::string formatDuration(Duration d);

// The effective configuration (for the startup log line and `--print-config`).
nlohmann::json toJson(const AgentConfig& config);

// The option reference printed by `gitfed agent --help`.
std::string usage();

}  // namespace gitfed::daemon
