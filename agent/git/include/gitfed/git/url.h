#pragma once
// RemoteUrl: a Git remote's address, checked before anything connects to it.
// Credentials never live in a URL: one with a password (or, for http, git and
// file, any user name at all) is refused, so no URL the agent logs, reports or
// hands to libgit2 can hold a secret. Pure; thread-safe.

#include <string>
#include <string_view>

#include "gitfed/git/error.h"

namespace gitfed::git {

struct RemoteUrl {
  enum class Scheme { Https, Http, Ssh, Git, File };
  Scheme scheme = Scheme::Https;
  std::string user;  // ssh only: the login name (not a secret); empty when absent
  std::string host;  // empty for file://; IPv6 without brackets
  int port = 0;      // 0 when absent (the scheme's default)
  std::string path;  // as written, e.g. "/fleet.git" (scp-like: "org/fleet.git")
  std::string text;  // the URL handed to libgit2 (safe to log)

  // The port that is actually used (443, 80, 22, 9418; 0 for file).
  int effectivePort() const;
  bool isNetwork() const { return scheme != Scheme::File; }
};

// Accepts https://, http://, ssh://, git://, file:// URLs, scp-like
// `user@host:path`, and an absolute path (as file://). Refuses passwords,
// user names outside ssh, queries, fragments, whitespace and control
// characters.
Result<RemoteUrl> parseRemoteUrl(std::string_view url);

const char* toString(RemoteUrl::Scheme scheme);

}  // namespace gitfed::git
