#include "gitfed/daemon/config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "gitfed/git/ref.h"
#include "gitfed/git/url.h"
#include "gitfed/render/document_reader.h"
#include "gitfed/render/selector.h"
#include "gitfed/status/report.h"

namespace gitfed::daemon {
namespace {

using nlohmann::json;
using Values = std::vector<std::string>;
using Setter = std::function<Result<void>(AgentConfig&, const Values&)>;

// One setting: its flag, its key in the config file, and how a value is set.
struct Option {
  std::string flag;   // without "--"
  std::string key;    // dotted path in the file
  std::string arg;    // placeholder for --help ("" for a boolean)
  std::string help;
  bool list = false;  // repeatable flag; comma-separated variable; array (or map) in the file
  Setter set;
  bool boolean() const { return arg.empty(); }
  std::string env() const {
    std::string e = "GITFED_";
    for (char c : flag) e += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return e;
  }
};

Result<bool> parseBool(const std::string& flag, const std::string& v) {
  std::string s = v;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "0" || s == "no" || s == "off") return false;
  return fail(flag + ": \"" + v + "\" is not a boolean (true or false)");
}

Result<double> parseNumber(const std::string& flag, const std::string& v, double lo, double hi) {
  try {
    std::size_t used = 0;
    double d = std::stod(v, &used);
    if (used == v.size() && std::isfinite(d) && d >= lo && d <= hi) return d;
  } catch (...) {
  }
  std::ostringstream range;
  range << lo << ".." << hi;
  return fail(flag + ": \"" + v + "\" is not a number in " + range.str());
}

Setter str(std::string AgentConfig::*field) {
  return [field](AgentConfig& c, const Values& v) -> Result<void> {
    c.*field = v.back();
    return {};
  };
}
template <class F>
Setter with(F f) {
  return [f](AgentConfig& c, const Values& v) -> Result<void> {
    f(c, v.back());
    return {};
  };
}
template <class F>
Setter duration(std::string flag, F f) {
  return [flag, f](AgentConfig& c, const Values& v) -> Result<void> {
    auto d = parseDuration(v.back());
    if (!d) return fail("--" + flag + ": \"" + v.back() + "\" is not a duration (e.g. 30s, 5m, 1h30m)");
    f(c, *d);
    return {};
  };
}
template <class F>
Setter boolean(std::string flag, F f) {
  return [flag, f](AgentConfig& c, const Values& v) -> Result<void> {
    auto b = parseBool("--" + flag, v.back());
    if (!b) return std::unexpected(b.error());
    f(c, *b);
    return {};
  };
}
template <class F>
Setter number(std::string flag, double lo, double hi, F f) {
  return [flag, lo, hi, f](AgentConfig& c, const Values& v) -> Result<void> {
    auto n = parseNumber("--" + flag, v.back(), lo, hi);
    if (!n) return std::unexpected(n.error());
    f(c, *n);
    return {};
  };
}

const std::vector<Option>& options() {
  static const std::vector<Option> table = [] {
    std::vector<Option> t;
    auto add = [&](std::string flag, std::string key, std::string arg, std::string help, Setter set, bool list = false) {
      t.push_back(Option{std::move(flag), std::move(key), std::move(arg), std::move(help), list, std::move(set)});
    };
    // ---- identity and source
    add("cluster", "cluster", "NAME", "this cluster's name in the fleet's registry (required)", str(&AgentConfig::cluster));
    add("label", "labels", "KEY=VALUE", "a local label of the cluster, over the registry's (repeatable)",
        [](AgentConfig& c, const Values& v) -> Result<void> {
          c.labels.clear();
          for (const auto& kv : v) {
            auto eq = kv.find('=');
            if (eq == std::string::npos) return fail("--label: \"" + kv + "\" is not KEY=VALUE");
            c.labels[kv.substr(0, eq)] = kv.substr(eq + 1);
          }
          return {};
        },
        true);
    add("repo", "repository.url", "URL", "the fleet repository (https://, ssh://, git://, file://; no credentials in it)",
        with([](AgentConfig& c, const std::string& s) { c.git.url = s; }));
    add("ref", "repository.ref", "REF", "branch (default main), refs/tags/NAME, or a 40-hex commit",
        with([](AgentConfig& c, const std::string& s) { c.git.ref = s; }));
    add("path", "repository.paths", "PATH", "a root path inside the repository (repeatable; default: all of it)",
        [](AgentConfig& c, const Values& v) -> Result<void> {
          c.git.paths = v;
          return {};
        },
        true);
    add("git-credentials-dir", "repository.credentialsDir", "DIR",
        "a mounted Secret: username, password, token, ca.crt, ssh-privatekey, known_hosts... (those present)",
        with([](AgentConfig& c, const std::string& s) { c.git.credentialsDir = s; }));
    add("git-username", "repository.username", "NAME", "https user name (not a secret)",
        with([](AgentConfig& c, const std::string& s) { c.git.username = s; }));
    auto file = [&](std::string flag, std::string key, std::filesystem::path GitConfig::*field, std::string help) {
      add(flag, "repository." + key, "FILE", help,
          with([field](AgentConfig& c, const std::string& s) { c.git.*field = s; }));
    };
    file("git-username-file", "usernameFile", &GitConfig::usernameFile, "https user name, from a file");
    file("git-password-file", "passwordFile", &GitConfig::passwordFile, "https password");
    file("git-token-file", "tokenFile", &GitConfig::tokenFile, "https access token (sent as the password)");
    file("git-ca-file", "caFile", &GitConfig::caFile, "PEM CAs for the https server (default: the system's)");
    file("git-ssh-key-file", "sshKeyFile", &GitConfig::sshKeyFile, "ssh private key");
    file("git-ssh-public-key-file", "sshPublicKeyFile", &GitConfig::sshPublicKeyFile, "ssh public key (optional)");
    file("git-ssh-passphrase-file", "sshPassphraseFile", &GitConfig::sshPassphraseFile, "passphrase of the ssh key");
    file("git-known-hosts-file", "knownHostsFile", &GitConfig::knownHostsFile, "known_hosts holding the ssh server's key");
    add("git-connect-timeout", "repository.connectTimeout", "DURATION", "TCP connect limit (default 10s)",
        duration("git-connect-timeout", [](AgentConfig& c, Duration d) { c.git.connectTimeout = d; }));
    add("git-io-timeout", "repository.ioTimeout", "DURATION", "no byte for this long fails (default 30s)",
        duration("git-io-timeout", [](AgentConfig& c, Duration d) { c.git.ioTimeout = d; }));
    add("git-timeout", "repository.operationTimeout", "DURATION", "one whole fetch or push (default 2m)",
        duration("git-timeout", [](AgentConfig& c, Duration d) { c.git.operationTimeout = d; }));
    // ---- the loop
    add("interval", "interval", "DURATION", "poll the source this often (default 60s)",
        duration("interval", [](AgentConfig& c, Duration d) { c.interval = d; }));
    add("jitter", "jitter", "FRACTION", "randomise each wait by +- this fraction (default 0.1)",
        number("jitter", 0, 0.9, [](AgentConfig& c, double d) { c.jitter = d; }));
    add("drift-interval", "driftInterval", "DURATION", "a full sync (drift check) at least this often (default 5m)",
        duration("drift-interval", [](AgentConfig& c, Duration d) { c.driftInterval = d; }));
    add("retry-min", "retryMin", "DURATION", "first retry after a failed round (default 5s; then doubling)",
        duration("retry-min", [](AgentConfig& c, Duration d) { c.retryMin = d; }));
    add("retry-max", "retryMax", "DURATION", "longest wait between retries (default 5m)",
        duration("retry-max", [](AgentConfig& c, Duration d) { c.retryMax = d; }));
    add("mode", "mode", "MODE", "self-heal (default: drift is corrected) or report-only",
        [](AgentConfig& c, const Values& v) -> Result<void> {
          if (v.back() == "self-heal") c.selfHeal = true;
          else if (v.back() == "report-only") c.selfHeal = false;
          else return fail("--mode: \"" + v.back() + "\" is neither self-heal nor report-only");
          return {};
        });
    add("prune", "prune", "", "delete owned objects no longer in Git (default true; --no-prune)",
        boolean("prune", [](AgentConfig& c, bool b) { c.prune = b; }));
    add("suspend", "suspend", "", "suspend the cluster: dry runs only, nothing applied or pruned (default false)",
        boolean("suspend", [](AgentConfig& c, bool b) { c.suspend = b; }));
    add("health-timeout", "healthTimeout", "DURATION", "wait this long for objects to become healthy (default 0)",
        duration("health-timeout", [](AgentConfig& c, Duration d) { c.healthTimeout = d; }));
    add("dependency-timeout", "dependencyTimeout", "DURATION",
        "wait this long for a config.kubernetes.io/depends-on dependency to become healthy (default 60s)",
        duration("dependency-timeout", [](AgentConfig& c, Duration d) { c.dependencyTimeout = d; }));
    add("inventory-id", "inventory.id", "ID", "names the inventory and labels owned objects (default: the cluster)",
        str(&AgentConfig::inventoryId));
    add("inventory-namespace", "inventory.namespace", "NS", "where the inventory ConfigMap lives (default gitfed-system)",
        str(&AgentConfig::inventoryNamespace));
    add("namespace", "defaultNamespace", "NS", "for objects written without one (default: the context's, else default)",
        str(&AgentConfig::defaultNamespace));
    // ---- status branch
    add("status", "status.enabled", "", "write reports to the status branch (default true; --no-status)",
        boolean("status", [](AgentConfig& c, bool b) { c.status.enabled = b; }));
    add("status-branch", "status.branch", "BRANCH", "the status branch (default gitfed-status)",
        with([](AgentConfig& c, const std::string& s) { c.status.branch = s; }));
    add("status-email", "status.email", "EMAIL", "the e-mail of status commits (default gitfed@localhost)",
        with([](AgentConfig& c, const std::string& s) { c.status.email = s; }));
    add("heartbeat", "status.heartbeat", "DURATION", "commit an unchanged report after this long (default 0: never)",
        duration("heartbeat", [](AgentConfig& c, Duration d) { c.status.heartbeat = d; }));
    add("status-refs", "status.clusterRefs", "",
        "also write each report to refs/gitfed/status/<cluster>; the branch then gets phase and revision changes only (default true; --no-status-refs)",
        boolean("status-refs", [](AgentConfig& c, bool b) { c.status.clusterRefs = b; }));
    add("status-signing-key", "status.signingKeyFile", "FILE", "an Ed25519 private key (PEM) signing the per-cluster reports",
        with([](AgentConfig& c, const std::string& s) { c.status.signingKeyFile = s; }));
    // ---- leader election
    add("leader-elect", "leaderElection.enabled", "", "one active agent per cluster via a Lease (default true)",
        boolean("leader-elect", [](AgentConfig& c, bool b) { c.leader.enabled = b; }));
    add("lease-name", "leaderElection.leaseName", "NAME", "default gitfed-<inventory id>",
        with([](AgentConfig& c, const std::string& s) { c.leader.leaseName = s; }));
    add("lease-namespace", "leaderElection.leaseNamespace", "NS", "default: the pod's namespace, else gitfed-system",
        with([](AgentConfig& c, const std::string& s) { c.leader.leaseNamespace = s; }));
    add("identity", "leaderElection.identity", "ID", "this agent in the Lease (default: $POD_NAME or host, + suffix)",
        with([](AgentConfig& c, const std::string& s) { c.leader.identity = s; }));
    add("lease-duration", "leaderElection.leaseDuration", "DURATION", "default 15s",
        duration("lease-duration", [](AgentConfig& c, Duration d) { c.leader.leaseDuration = d; }));
    add("renew-deadline", "leaderElection.renewDeadline", "DURATION", "default 10s",
        duration("renew-deadline", [](AgentConfig& c, Duration d) { c.leader.renewDeadline = d; }));
    add("retry-period", "leaderElection.retryPeriod", "DURATION", "default 2s",
        duration("retry-period", [](AgentConfig& c, Duration d) { c.leader.retryPeriod = d; }));
    // ---- the API server
    add("kubeconfig", "kube.kubeconfig", "FILE", "default: in cluster, else $KUBECONFIG, else ~/.kube/config",
        with([](AgentConfig& c, const std::string& s) { c.kube.kubeconfig = s; }));
    add("context", "kube.context", "NAME", "a kubeconfig context", with([](AgentConfig& c, const std::string& s) {
          c.kube.context = s;
        }));
    add("service-account-dir", "kube.serviceAccountDir", "DIR",
        "in cluster: token, ca.crt and namespace (default /var/run/secrets/kubernetes.io/serviceaccount)",
        with([](AgentConfig& c, const std::string& s) { c.kube.serviceAccountDir = s; }));
    add("qps", "kube.qps", "N", "client-side rate limit (default 1000)",
        number("qps", 0, 100000, [](AgentConfig& c, double d) { c.kube.qps = d; }));
    add("burst", "kube.burst", "N", "default 2000",
        number("burst", 1, 100000, [](AgentConfig& c, double d) { c.kube.burst = static_cast<int>(d); }));
    add("parallelism", "kube.parallelism", "N", "API requests in flight (default 16)",
        number("parallelism", 1, 256, [](AgentConfig& c, double d) { c.kube.parallelism = static_cast<unsigned>(d); }));
    // ---- operations
    add("http-address", "httpAddress", "[HOST]:PORT", "/healthz /readyz /metrics POST /trigger (default :8080; off)",
        str(&AgentConfig::httpAddress));
    add("cache-dir", "cacheDir", "DIR", "Git caches, kept across restarts (default /var/cache/gitfed)",
        with([](AgentConfig& c, const std::string& s) { c.cacheDir = s; }));
    add("log-level", "logLevel", "LEVEL", "trace, debug, info (default), warn, error", str(&AgentConfig::logLevel));
    add("log-format", "logFormat", "FORMAT", "json (default: one object per line) or text", str(&AgentConfig::logFormat));
    add("liveness-timeout", "livenessTimeout", "DURATION", "/healthz fails when a step makes no progress (no API request completes) this long (default 15m)",
        duration("liveness-timeout", [](AgentConfig& c, Duration d) { c.livenessTimeout = d; }));
    add("once", "once", "", "one reconcile, then exit (no election, no HTTP): 0 applied, 1 failed, 3 source unavailable, 4 status not written",
        boolean("once", [](AgentConfig& c, bool b) { c.once = b; }));
    return t;
  }();
  return table;
}

const Option* findFlag(const std::string& flag) {
  for (const auto& o : options())
    if (o.flag == flag) return &o;
  return nullptr;
}

std::string scalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    std::ostringstream s;
    s << v.get<double>();
    return s.str();
  }
  return v.dump();
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, ',')) {
    auto b = cur.find_first_not_of(" \t"), e = cur.find_last_not_of(" \t");
    out.push_back(b == std::string::npos ? std::string() : cur.substr(b, e - b + 1));
  }
  return out;
}

Result<void> setFromFile(AgentConfig& c, const Option& o, const json& v, const std::string& name) {
  const std::string where = name + ": " + o.key;
  Values values;
  if (o.list) {
    if (o.key == "labels") {
      if (!v.is_object()) return fail(where + ": must be a map of label keys to values");
      for (const auto& [k, val] : v.items()) {
        if (val.is_object() || val.is_array() || val.is_null()) return fail(where + "." + k + ": must be a string");
        values.push_back(k + "=" + scalarText(val));
      }
      if (values.empty()) {
        c.labels.clear();
        return {};
      }
    } else {
      if (!v.is_array()) return fail(where + ": must be a list");
      for (const auto& item : v) {
        if (item.is_object() || item.is_array() || item.is_null()) return fail(where + ": items must be strings");
        values.push_back(scalarText(item));
      }
      if (values.empty()) return fail(where + ": must not be empty");
    }
  } else {
    if (v.is_object() || v.is_array() || v.is_null()) return fail(where + ": must be a single value");
    if (o.boolean() && !v.is_boolean() && !v.is_string()) return fail(where + ": must be true or false");
    values.push_back(scalarText(v));
  }
  auto r = o.set(c, values);
  if (!r) return fail(name + ": " + o.key + ": " + r.error().message.substr(r.error().message.find(": ") + 2));
  return {};
}

// Every leaf key of the document must be a known setting: a typo is an error,
// not a silently ignored setting.
Result<void> walkFile(AgentConfig& c, const json& doc, const std::string& prefix, const std::string& name) {
  for (const auto& [k, v] : doc.items()) {
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    const Option* match = nullptr;
    bool isPrefix = false;
    for (const auto& o : options()) {
      if (o.key == key) match = &o;
      else if (o.key.starts_with(key + ".")) isPrefix = true;
    }
    if (match) {
      if (auto r = setFromFile(c, *match, v, name); !r) return r;
    } else if (isPrefix) {
      if (!v.is_object()) return fail(name + ": " + key + ": must be a map");
      if (auto r = walkFile(c, v, key, name); !r) return r;
    } else {
      return fail(name + ": unknown setting \"" + key + "\"");
    }
  }
  return {};
}

bool validHttpAddress(const std::string& a) {
  if (a == "off") return true;
  auto colon = a.rfind(':');
  if (colon == std::string::npos) return false;
  std::string port = a.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) return false;
  return std::stoi(port) <= 65535;
}

bool validRootPath(const std::string& p) {
  if (p.empty()) return true;
  if (p.front() == '/' || p.find('\\') != std::string::npos) return false;
  std::istringstream in(p);
  std::string part;
  while (std::getline(in, part, '/'))
    if (part == ".." || part == ".") return false;
  return true;
}

bool isDnsLabel(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return s.front() != '-' && s.back() != '-';
}

}  // namespace

std::optional<Duration> parseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string s(text);
  // A plain number: seconds.
  try {
    std::size_t used = 0;
    double v = std::stod(s, &used);
    if (used == s.size()) {
      if (v < 0 || !std::isfinite(v)) return std::nullopt;
      return Duration(static_cast<long long>(std::llround(v * 1000)));
    }
  } catch (...) {
    return std::nullopt;
  }
  // Go's syntax: a sequence of NUMBER UNIT with units h, m, s, ms.
  double total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return std::nullopt;
    double v = 0;
    try {
      std::size_t used = 0;
      v = std::stod(s.substr(start, i - start), &used);
      if (used != i - start) return std::nullopt;
    } catch (...) {
      return std::nullopt;
    }
    std::size_t u = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string unit = s.substr(u, i - u);
    double ms = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000 : -1;
    if (ms < 0) return std::nullopt;
    total += v * ms;
  }
  if (!std::isfinite(total) || total > 1e15) return std::nullopt;
  return Duration(static_cast<long long>(std::llround(total)));
}

std::string formatDuration(Duration d) {
  auto ms = d.count();
  if (ms == 0) return "0s";
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  auto s = ms / 1000;
  std::string out;
  if (s >= 3600) out += std::to_string(s / 3600) + "h", s %= 3600;
  if (s >= 60) out += std::to_string(s / 60) + "m", s %= 60;
  if (s > 0) out += std::to_string(s) + "s";
  return out;
}

Result<void> applyConfigFile(AgentConfig& config, const std::string& text, const std::string& name) {
  std::size_t first = text.find_first_not_of(" \t\r\n");
  auto read = first != std::string::npos && text[first] == '{' ? render::readJsonDocument(text) : render::readYamlStream(text);
  if (!read.errors.empty()) return fail(name + ": " + read.errors.front().format());
  if (read.documents.empty()) return {};  // an empty file sets nothing
  if (read.documents.size() > 1) return fail(name + ": one document expected, found " + std::to_string(read.documents.size()));
  const json& doc = read.documents.front().value;
  if (!doc.is_object()) return fail(name + ": must be a map of settings");
  return walkFile(config, doc, "", name);
}

Result<void> finish(AgentConfig& c) {
  if (c.cluster.empty()) return fail("--cluster is required (or GITFED_CLUSTER, or cluster: in the config file)");
  if (!status::isValidClusterName(c.cluster))
    return fail("--cluster: \"" + c.cluster + "\" is not a valid cluster name (lowercase letters, digits, '-', '.')");
  for (const auto& [k, v] : c.labels)
    if (!render::isValidLabelKey(k) || !render::isValidLabelValue(v))
      return fail("--label: " + k + "=" + v + " is not a valid label");
  if (c.git.url.empty()) return fail("--repo is required (or GITFED_REPO, or repository.url: in the config file)");
  if (auto u = git::parseRemoteUrl(c.git.url); !u) return fail("--repo: " + u.error().format());
  if (auto r = git::parseRef(c.git.ref); !r) return fail("--ref: " + r.error().format());
  if (c.git.paths.empty()) c.git.paths = {""};
  for (const auto& p : c.git.paths)
    if (!validRootPath(p)) return fail("--path: \"" + p + "\" must be relative, without . or .. components");
  if (c.interval < Duration(100)) return fail("--interval: at least 100ms");
  if (c.driftInterval < c.interval) c.driftInterval = c.interval;
  if (c.retryMin <= Duration(0)) return fail("--retry-min: must be positive");
  if (c.retryMax < c.retryMin) return fail("--retry-max: must not be shorter than --retry-min");
  if (c.inventoryId.empty()) {
    // The cluster name may hold dots; the inventory id is a DNS label.
    for (char ch : c.cluster) c.inventoryId += ch == '.' ? '-' : ch;
    if (c.inventoryId.size() > 63) c.inventoryId.resize(63);
    while (!c.inventoryId.empty() && c.inventoryId.back() == '-') c.inventoryId.pop_back();
  }
  if (!isDnsLabel(c.inventoryId)) return fail("--inventory-id: \"" + c.inventoryId + "\" is not a DNS label");
  if (!isDnsLabel(c.inventoryNamespace)) return fail("--inventory-namespace: \"" + c.inventoryNamespace + "\" is not a DNS label");
  if (!c.defaultNamespace.empty() && !isDnsLabel(c.defaultNamespace))
    return fail("--namespace: \"" + c.defaultNamespace + "\" is not a DNS label");
  if (c.status.enabled) {
    if (!git::isValidRefName(c.status.branch)) return fail("--status-branch: \"" + c.status.branch + "\" is not a branch name");
    if (c.status.email.empty() || c.status.email.find_first_of("<>\n") != std::string::npos)
      return fail("--status-email: \"" + c.status.email + "\" is not an e-mail address");
  }
  auto& l = c.leader;
  if (l.leaseName.empty()) l.leaseName = "gitfed-" + c.inventoryId;
  if (l.leaseName.size() > 253) return fail("--lease-name: too long");
  if (!l.leaseNamespace.empty() && !isDnsLabel(l.leaseNamespace))
    return fail("--lease-namespace: \"" + l.leaseNamespace + "\" is not a DNS label");
  // client-go's checks: the leader renews before the lease can expire, and
  // retries more than once within the renew deadline.
  if (l.leaseDuration <= l.renewDeadline) return fail("--lease-duration must be longer than --renew-deadline");
  if (l.renewDeadline.count() <= l.retryPeriod.count() * 12 / 10)
    return fail("--renew-deadline must be longer than 1.2 x --retry-period");
  if (l.retryPeriod < Duration(100)) return fail("--retry-period: at least 100ms");
  if (!validHttpAddress(c.httpAddress)) return fail("--http-address: \"" + c.httpAddress + "\" is not [HOST]:PORT or off");
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
  if (!levels.contains(c.logLevel)) return fail("--log-level: \"" + c.logLevel + "\" is not trace, debug, info, warn or error");
  if (c.logFormat != "json" && c.logFormat != "text") return fail("--log-format: json or text");
  if (c.cacheDir.empty()) return fail("--cache-dir: must not be empty");
  return {};
}

Result<ParsedConfig> parseConfig(const ConfigSources& sources) {
  ParsedConfig out;
  AgentConfig& c = out.config;
  // Flags first (collected, applied last), so --config is known before the file.
  std::map<const Option*, Values> flags;
  std::optional<std::string> configFile;
  const auto& args = sources.args;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "-h" || a == "--help") {
      out.help = true;
      return out;
    }
    if (!a.starts_with("--")) return fail("unexpected argument \"" + a + "\" (gitfed agent takes only options)");
    std::string name = a.substr(2), value;
    bool hasValue = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1), name = name.substr(0, eq), hasValue = true;
    }
    if (name == "print-config") {
      out.print = true;
      continue;
    }
    if (name == "config") {
      if (!hasValue) {
        if (i + 1 >= args.size()) return fail("--config needs a file");
        value = args[++i];
      }
      configFile = value;
      continue;
    }
    const Option* o = findFlag(name);
    if (!o && name.starts_with("no-")) {
      o = findFlag(name.substr(3));
      if (o && o->boolean() && !hasValue) {
        flags[o] = {"false"};
        continue;
      }
      o = nullptr;
    }
    if (!o) return fail("unknown option --" + name);
    if (o->boolean()) {
      flags[o] = {hasValue ? value : "true"};
      continue;
    }
    if (!hasValue) {
      if (i + 1 >= args.size()) return fail("--" + name + " needs a value (" + o->arg + ")");
      value = args[++i];
    }
    auto& v = flags[o];
    if (!o->list) v.clear();
    v.push_back(value);
  }
  auto env = [&](const std::string& name) { return sources.env ? sources.env(name) : std::nullopt; };
  if (!configFile) configFile = env("GITFED_CONFIG");
  if (configFile && !configFile->empty()) {
    if (!sources.readFile) return fail("--config: files cannot be read here");
    auto text = sources.readFile(*configFile);
    if (!text) return fail("--config: " + text.error().message);
    if (auto r = applyConfigFile(c, *text, *configFile); !r) return std::unexpected(r.error());
    c.configFile = *configFile;
  }
  for (const auto& o : options()) {
    auto v = env(o.env());
    if (!v) continue;
    Values values = o.list ? splitList(*v) : Values{*v};
    if (o.list && v->empty()) values.clear();
    if (values.empty()) {
      if (o.flag == "label") c.labels.clear();
      continue;
    }
    if (auto r = o.set(c, values); !r) return fail(o.env() + ": " + r.error().message.substr(r.error().message.find(": ") + 2));
  }
  for (const auto& o : options()) {
    auto it = flags.find(&o);
    if (it == flags.end()) continue;
    if (auto r = o.set(c, it->second); !r) return std::unexpected(r.error());
  }
  if (auto r = finish(c); !r) return std::unexpected(r.error());
  return out;
}

Result<ParsedConfig> loadConfig(const std::vector<std::string>& args) {
  ConfigSources s;
  s.args = args;
  s.env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
  s.readFile = [](const std::string& path) -> Result<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (ss.str().size() > (1u << 20)) return fail(path + ": larger than 1 MiB");
    return ss.str();
  };
  return parseConfig(s);
}

json toJson(const AgentConfig& c) {
  auto p = [](const std::filesystem::path& f) { return f.string(); };
  const auto& g = c.git;
  json repo = {{"url", g.url},
               {"ref", g.ref},
               {"paths", g.paths},
               {"connectTimeout", formatDuration(g.connectTimeout)},
               {"ioTimeout", formatDuration(g.ioTimeout)},
               {"operationTimeout", formatDuration(g.operationTimeout)}};
  // File names only: never their content.
  auto optional = [&](const char* key, const std::filesystem::path& f) {
    if (!f.empty()) repo[key] = p(f);
  };
  optional("credentialsDir", g.credentialsDir);
  if (!g.username.empty()) repo["username"] = g.username;
  optional("usernameFile", g.usernameFile);
  optional("passwordFile", g.passwordFile);
  optional("tokenFile", g.tokenFile);
  optional("caFile", g.caFile);
  optional("sshKeyFile", g.sshKeyFile);
  optional("sshPublicKeyFile", g.sshPublicKeyFile);
  optional("sshPassphraseFile", g.sshPassphraseFile);
  optional("knownHostsFile", g.knownHostsFile);
  return json{{"cluster", c.cluster},
              {"labels", c.labels},
              {"repository", repo},
              {"interval", formatDuration(c.interval)},
              {"jitter", c.jitter},
              {"driftInterval", formatDuration(c.driftInterval)},
              {"retryMin", formatDuration(c.retryMin)},
              {"retryMax", formatDuration(c.retryMax)},
              {"mode", c.selfHeal ? "self-heal" : "report-only"},
              {"prune", c.prune},
              {"suspend", c.suspend},
              {"healthTimeout", formatDuration(c.healthTimeout)},
              {"dependencyTimeout", formatDuration(c.dependencyTimeout)},
              {"inventory", {{"id", c.inventoryId}, {"namespace", c.inventoryNamespace}}},
              {"defaultNamespace", c.defaultNamespace},
              {"status",
               {{"enabled", c.status.enabled},
                {"branch", c.status.branch},
                {"email", c.status.email},
                {"heartbeat", formatDuration(c.status.heartbeat)},
                {"clusterRefs", c.status.clusterRefs},
                {"signingKeyFile", c.status.signingKeyFile.string()}}},
              {"leaderElection",
               {{"enabled", c.leader.enabled},
                {"leaseName", c.leader.leaseName},
                {"leaseNamespace", c.leader.leaseNamespace},
                {"identity", c.leader.identity},
                {"leaseDuration", formatDuration(c.leader.leaseDuration)},
                {"renewDeadline", formatDuration(c.leader.renewDeadline)},
                {"retryPeriod", formatDuration(c.leader.retryPeriod)}}},
              {"kube",
               {{"kubeconfig", c.kube.kubeconfig},
                {"context", c.kube.context},
                {"serviceAccountDir", p(c.kube.serviceAccountDir)},
                {"qps", c.kube.qps},
                {"burst", c.kube.burst},
                {"parallelism", c.kube.parallelism}}},
              {"httpAddress", c.httpAddress},
              {"cacheDir", p(c.cacheDir)},
              {"logLevel", c.logLevel},
              {"logFormat", c.logFormat},
              {"livenessTimeout", formatDuration(c.livenessTimeout)},
              {"once", c.once},
              {"configFile", c.configFile}};
}

std::string usage() {
  std::string u =
      "usage: gitfed agent [--config FILE] [options]\n"
      "\n"
      "Runs the agent: polls the fleet repository, renders it for this cluster,\n"
      "syncs the cluster to it (server-side apply, prune, drift correction) and\n"
      "writes a report to the status branch; one active agent per cluster (a\n"
      "Lease). Serves GET /healthz /readyz /metrics and POST /trigger.\n"
      "\n"
      "Every option is also an environment variable (--drift-interval:\n"
      "GITFED_DRIFT_INTERVAL; lists comma-separated) and a key of the config file\n"
      "(YAML or JSON; --config or GITFED_CONFIG). Flags win over the environment,\n"
      "which wins over the file. Booleans: --prune, --prune=false, --no-prune.\n"
      "--print-config prints the effective configuration (JSON) and exits.\n"
      "\n";
  for (const auto& o : options()) {
    std::string left = "  --" + o.flag + (o.arg.empty() ? "" : " " + o.arg);
    if (left.size() < 34) left.resize(34, ' ');
    else left += "\n" + std::string(34, ' ');
    u += left + o.help + "  [" + o.key + "]\n";
  }
  return u;
}

}  // namespace gitfed::daemon
