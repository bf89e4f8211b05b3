#include "gitfed/daemon/source_stage.h"

#include <spdlog/spdlog.h>

namespace gitfed::daemon {

git::RemoteOptions remoteOptions(const GitConfig& c) {
  git::RemoteOptions r;
  r.url = c.url;
  auto& k = r.credentials;
  k.username = c.username;
  k.usernameFile = c.usernameFile;
  k.passwordFile = c.passwordFile;
  k.tokenFile = c.tokenFile;
  k.caFile = c.caFile;
  k.sshKeyFile = c.sshKeyFile;
  k.sshPublicKeyFile = c.sshPublicKeyFile;
  k.sshPassphraseFile = c.sshPassphraseFile;
  k.knownHostsFile = c.knownHostsFile;
  if (!c.credentialsDir.empty()) {
    // The keys of a Secret mounted as a directory: each file fills a setting
    // that was not given otherwise. (kubernetes.io/basic-auth and
    // kubernetes.io/ssh-auth Secrets use these names.)
    auto fill = [&](std::filesystem::path& field, const char* name) {
      std::error_code ec;
      auto p = c.credentialsDir / name;
      if (field.empty() && std::filesystem::exists(p, ec)) field = p;
    };
    fill(k.usernameFile, "username");
    fill(k.passwordFile, "password");
    fill(k.tokenFile, "token");
    fill(k.caFile, "ca.crt");
    fill(k.sshKeyFile, "ssh-privatekey");
    fill(k.sshPublicKeyFile, "ssh-publickey");
    fill(k.sshPassphraseFile, "ssh-passphrase");
    fill(k.knownHostsFile, "known_hosts");
    if (!k.usernameFile.empty() && !k.username.empty()) k.usernameFile.clear();  // the explicit name wins
  }
  r.timeouts.connect = c.connectTimeout;
  r.timeouts.io = c.ioTimeout;
  r.timeouts.operation = c.operationTimeout;
  return r;
}

Result<std::unique_ptr<GitSourceStage>> GitSourceStage::open(const GitConfig& config,
                                                              const std::filesystem::path& cacheDir) {
  auto ref = git::parseRef(config.ref);
  if (!ref) return fail("--ref: " + ref.error().format());
  git::SourceConfig sc;
  sc.remote = remoteOptions(config);
  sc.ref = *ref;
  sc.cacheDir = cacheDir;
  auto source = git::Source::open(std::move(sc));
  if (!source) return fail("source: " + source.error().format());
  return std::unique_ptr<GitSourceStage>(new GitSourceStage(std::move(*source), config.url, config.ref));
}

Result<SourcePoll> GitSourceStage::poll() {
  const auto started = std::chrono::steady_clock::now();
  auto r = source_.sync();
  SourcePoll p;
  p.took = std::chrono::steady_clock::now() - started;
  if (!r) return fail(r.error().format());
  p.revision = r->commit;
  p.stale = r->stale;
  if (r->staleReason) p.staleReason = r->staleReason->format();
  p.fetched = r->fetched;
  if (r->recloned) spdlog::warn("source: the cache was damaged and was fetched again");
  return p;
}

Result<std::unique_ptr<render::SourceTree>> GitSourceStage::tree(const std::string& revision) {
  auto t = source_.tree(revision);
  if (!t) return fail(t.error().format());
  return std::unique_ptr<render::SourceTree>(std::move(*t));
}

}  // namespace gitfed::daemon
