// Config from a kubeconfig file (the only file that calls yaml-cpp) or from
// the in-cluster service-account files.

#include "gitfed/kube/config.h"
#include "gitfed/kube/status.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace gitfed::kube {
namespace {

Error configError(std::string target, std::string message) {
  return Error{0, "InvalidConfig", std::move(message), std::move(target)};
}

std::optional<std::string> readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

// A named entry ("clusters", "users", "contexts") of a kubeconfig.
std::optional<YAML::Node> findNamed(const YAML::Node& root, const char* list, const std::string& name) {
  const YAML::Node items = root[list];
  if (!items || !items.IsSequence()) return std::nullopt;
  for (const auto& item : items)
    if (item.IsMap() && item["name"] && item["name"].IsScalar() && item["name"].Scalar() == name) return item;
  return std::nullopt;
}

std::string scalar(const YAML::Node& map, const char* key) {
  if (!map || !map.IsMap()) return {};
  const YAML::Node v = map[key];
  return v && v.IsScalar() ? v.Scalar() : std::string();
}

bool present(const YAML::Node& map, const char* key) { return map && map.IsMap() && map[key] && !map[key].IsNull(); }

struct Loader {
  std::string target;
  std::filesystem::path baseDir;

  std::filesystem::path resolve(const std::string& file) const {
    std::filesystem::path p(file);
    return p.is_relative() ? baseDir / p : p;
  }

  // PEM from "<field>-data" (base64) or "<field>" (a file), or "" when neither.
  Result<std::string> pem(const YAML::Node& map, const std::string& where, const char* fileKey,
                          const char* dataKey) const {
    const std::string data = scalar(map, dataKey);
    const std::string file = scalar(map, fileKey);
    std::string out;
    if (!data.empty()) {
      auto decoded = base64Decode(data);
      if (!decoded) return std::unexpected(configError(target, where + ": " + dataKey + " is not valid base64"));
      out = std::move(*decoded);
    } else if (!file.empty()) {
      auto content = readFile(resolve(file));
      if (!content)
        return std::unexpected(configError(target, where + ": cannot read " + fileKey + " " + resolve(file).string()));
      out = std::move(*content);
    } else {
      return std::string();
    }
    if (out.find("-----BEGIN ") == std::string::npos)
      return std::unexpected(configError(target, where + ": " + (data.empty() ? fileKey : dataKey) + " is not PEM"));
    return out;
  }

  Result<Config> load(std::string_view text, std::string_view contextName) const {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      return std::unexpected(configError(target, std::string("not valid YAML: ") + e.what()));
    }
    if (!root.IsMap()) return std::unexpected(configError(target, "not a kubeconfig (expected a mapping)"));
    try {
      return fromRoot(root, contextName);
    } catch (const YAML::Exception& e) {
      return std::unexpected(configError(target, std::string("malformed: ") + e.what()));
    }
  }

  Result<Config> fromRoot(const YAML::Node& root, std::string_view contextName) const {
    std::string ctxName(contextName);
    if (ctxName.empty()) ctxName = scalar(root, "current-context");
    if (ctxName.empty()) return std::unexpected(configError(target, "no context given and no current-context"));
    const auto ctxEntry = findNamed(root, "contexts", ctxName);
    if (!ctxEntry) return std::unexpected(configError(target, "context \"" + ctxName + "\" not found"));
    const YAML::Node ctx = (*ctxEntry)["context"];
    const std::string clusterName = scalar(ctx, "cluster");
    const std::string userName = scalar(ctx, "user");
    if (clusterName.empty()) return std::unexpected(configError(target, "context \"" + ctxName + "\" names no cluster"));

    Config c;
    c.source = target + " context " + ctxName;
    c.defaultNamespace = scalar(ctx, "namespace");

    const auto clusterEntry = findNamed(root, "clusters", clusterName);
    if (!clusterEntry) return std::unexpected(configError(target, "cluster \"" + clusterName + "\" not found"));
    const YAML::Node cluster = (*clusterEntry)["cluster"];
    const std::string where = "cluster \"" + clusterName + "\"";
    c.server = scalar(cluster, "server");
    if (c.server.empty()) return std::unexpected(configError(target, where + ": no server"));
    if (!c.server.starts_with("https://"))
      return std::unexpected(configError(target, where + ": server " + c.server + " is not https:// (TLS is required)"));
    if (present(cluster, "insecure-skip-tls-verify") && cluster["insecure-skip-tls-verify"].as<bool>(true))
      return std::unexpected(configError(target, where + ": insecure-skip-tls-verify is refused (TLS is always verified)"));
    if (present(cluster, "proxy-url")) return std::unexpected(configError(target, where + ": proxy-url is not supported"));
    c.tlsServerName = scalar(cluster, "tls-server-name");
    auto ca = pem(cluster, where, "certificate-authority", "certificate-authority-data");
    if (!ca) return std::unexpected(ca.error());
    if (ca->empty())
      return std::unexpected(configError(target, where + ": no certificate-authority or certificate-authority-data "
                                                 "(the system trust store is not used for API servers)"));
    c.caPem = std::move(*ca);

    if (!userName.empty()) {
      const auto userEntry = findNamed(root, "users", userName);
      if (!userEntry) return std::unexpected(configError(target, "user \"" + userName + "\" not found"));
      const YAML::Node user = (*userEntry)["user"];
      const std::string uwhere = "user \"" + userName + "\"";
      for (const char* unsupported : {"exec", "auth-provider", "username", "password", "as", "impersonate"})
        if (present(user, unsupported))
          return std::unexpected(configError(target, uwhere + ": " + unsupported + " is not supported"));
      c.token = scalar(user, "token");
      if (c.token.empty() && present(user, "tokenFile")) {
        const auto file = resolve(scalar(user, "tokenFile"));
        if (!readFile(file)) return std::unexpected(configError(target, uwhere + ": cannot read tokenFile " + file.string()));
        c.tokenFile = file.string();
      }
      auto cert = pem(user, uwhere, "client-certificate", "client-certificate-data");
      if (!cert) return std::unexpected(cert.error());
      auto key = pem(user, uwhere, "client-key", "client-key-data");
      if (!key) return std::unexpected(key.error());
      if (cert->empty() != key->empty())
        return std::unexpected(configError(target, uwhere + (cert->empty() ? ": client-key without client-certificate"
                                                                          : ": client-certificate without client-key")));
      c.clientCertPem = std::move(*cert);
      c.clientKeyPem = std::move(*key);
    }
    return c;
  }
};

}  // namespace

Result<Config> parseKubeconfig(std::string_view text, const std::filesystem::path& baseDir, std::string_view context) {
  return Loader{"kubeconfig", baseDir}.load(text, context);
}

Result<Config> loadKubeconfig(const std::filesystem::path& path, std::string_view context) {
  const std::string target = "kubeconfig " + path.string();
  auto text = readFile(path);
  if (!text) return std::unexpected(configError(target, "cannot read the file"));
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  return Loader{target, dir}.load(*text, context);
}

Result<Config> inClusterConfig(const InClusterPaths& paths) {
  const std::string target = "in-cluster config";
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  const std::string host = paths.host ? *paths.host : env("KUBERNETES_SERVICE_HOST");
  const std::string port = paths.port ? *paths.port : env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty())
    return std::unexpected(configError(target, "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set"));
  Config c;
  c.source = "in-cluster";
  c.server = "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  auto ca = readFile(paths.caFile);
  if (!ca || ca->find("-----BEGIN ") == std::string::npos)
    return std::unexpected(configError(target, "cannot read a PEM CA from " + paths.caFile.string()));
  c.caPem = std::move(*ca);
  if (!readFile(paths.tokenFile))
    return std::unexpected(configError(target, "cannot read the token file " + paths.tokenFile.string()));
  c.tokenFile = paths.tokenFile.string();
  if (auto ns = readFile(paths.namespaceFile)) {
    std::string n = *ns;
    while (!n.empty() && (n.back() == '\n' || n.back() == ' ' || n.back() == '\r')) n.pop_back();
    c.defaultNamespace = std::move(n);
  }
  return c;
}

Result<Config> defaultConfig(const std::optional<std::filesystem::path>& kubeconfig, std::string_view context) {
  if (kubeconfig) return loadKubeconfig(*kubeconfig, context);
  const char* inCluster = std::getenv("KUBERNETES_SERVICE_HOST");
  if (inCluster && *inCluster && context.empty()) return inClusterConfig();
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string first(env);
    first = first.substr(0, first.find(':'));
    if (!first.empty()) return loadKubeconfig(first, context);
  }
  const char* home = std::getenv("HOME");
  if (!home || !*home)
    return std::unexpected(configError("kubeconfig", "no --kubeconfig, no KUBECONFIG, no HOME and not in a cluster"));
  return loadKubeconfig(std::filesystem::path(home) / ".kube" / "config", context);
}

}  // namespace gitfed::kube
