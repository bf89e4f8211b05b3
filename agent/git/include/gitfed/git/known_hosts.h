#pragma once
// KnownHosts: the ssh host keys a server may present, read from an OpenSSH
// known_hosts file (plain and hashed `|1|salt|hash` host names, patterns with
// `*`, `?` and `!negation`, `[host]:port` for other ports, `@revoked` lines;
// `@cert-authority` lines are ignored: host certificates are not supported).
// Immutable after loading; thread-safe.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/git/error.h"

namespace gitfed::git {

class KnownHosts {
 public:
  enum class Verdict {
    Match,          // an entry for the host holds exactly this key
    Unknown,        // no entry names the host
    Changed,        // the host is listed with a key of this type, and it is another key
    TypeNotListed,  // the host is listed, but with keys of other types only
    Revoked,        // the key is marked @revoked
  };

  static Result<KnownHosts> load(const std::filesystem::path& file);
  // `origin` names the text in errors (a file name).
  static Result<KnownHosts> parse(std::string_view text, std::string_view origin = "known_hosts");

  // `keyType` as in known_hosts ("ssh-ed25519"), `keyBlob` the key in wire
  // format (what the base64 field decodes to). Port 22 looks up `host`, other
  // ports `[host]:port`, as OpenSSH does.
  Verdict check(std::string_view host, int port, std::string_view keyType, std::string_view keyBlob) const;

  // The key types listed for the host (for error messages).
  std::vector<std::string> typesFor(std::string_view host, int port) const;

  std::size_t size() const { return entries_.size(); }

  // "[host]:port" or "host" for port 22.
  static std::string lookupName(std::string_view host, int port);

 private:
  struct Entry {
    enum class Marker { None, Revoked, CertAuthority };
    Marker marker = Marker::None;
    std::vector<std::string> patterns;  // plain patterns, possibly "!negated"
    std::string hashSalt, hashValue;    // hashed host name (|1|salt|hash), else empty
    std::string keyType;
    std::string keyBlob;
  };
  bool matchesHost(const Entry& e, const std::string& name) const;
  std::vector<Entry> entries_;
};

const char* toString(KnownHosts::Verdict verdict);

}  // namespace gitfed::git
