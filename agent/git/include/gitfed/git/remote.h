#pragma once
// How to reach a remote: its URL, where the credentials are (files only: a
// mounted Secret), and the time limits of every network operation. Secrets are
// read from the files at each connection (a rotated Secret needs no restart),
// handed to libgit2 and wiped; they never appear in an Error or a log line.
// Plain values; thread-safe to copy.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace gitfed::git {

struct Credentials {
  // https: basic authentication with a user name and a password or a token.
  std::string username;                  // not a secret; default "git" when only a token is given
  std::filesystem::path usernameFile;    // or the user name from a file
  std::filesystem::path passwordFile;    // the password
  std::filesystem::path tokenFile;       // an access token, sent as the basic-auth password
  std::filesystem::path caFile;          // PEM CAs that verify the server; default: the system's bundle
  // ssh: a private key, and the server's host key in a known_hosts file
  // (required: an ssh server that is not listed there is refused).
  std::filesystem::path sshKeyFile;
  std::filesystem::path sshPublicKeyFile;   // optional
  std::filesystem::path sshPassphraseFile;  // when the key is encrypted
  std::filesystem::path knownHostsFile;
  std::string sshUser;                      // when the URL has none; default "git"
};

struct Timeouts {
  std::chrono::milliseconds connect{10'000};     // TCP connect
  std::chrono::milliseconds io{30'000};          // no byte received or sent for this long
  std::chrono::milliseconds operation{120'000};  // one whole ls, fetch or push
};

struct RemoteOptions {
  std::string url;
  Credentials credentials;
  Timeouts timeouts;
};

// One ref the remote advertises.
struct RemoteRef {
  std::string name;    // "refs/heads/main"
  std::string oid;     // 40 hex
  std::string peeled;  // for an annotated tag: the object it points to ("" otherwise)
};

// A ref update the server refused, as reported per ref by the push protocol.
struct PushResult {
  bool accepted = false;
  std::string reason;  // e.g. "non-fast-forward", "hook declined", "failed to lock"
};

struct TransferStats {
  unsigned objects = 0;        // objects received
  std::uint64_t bytes = 0;     // bytes received
};

}  // namespace gitfed::git
