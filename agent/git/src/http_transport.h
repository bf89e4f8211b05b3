#pragma once
// gitfed's http(s) transport (internal): libgit2's smart protocol (stateless
// RPC: GET info/refs, then POST git-upload-pack / git-receive-pack) over
// libcurl, registered for http:// and https:// in place of libgit2's own.
// The difference is that connections outlive the operation: each request
// borrows a libcurl handle from a process-wide pool, and its connection cache
// (TCP and TLS, OpenSSL) stays open for the next check, fetch or push to the
// same server (HTTP keep-alive), as git's CLI and Go's net/http do. libgit2's
// own transport opened a connection and a TLS handshake (mbedTLS) per
// operation: most of the CPU of a status write, on both sides.
//
// What does not change with reuse:
// - the server's certificate is verified by libcurl against the configured CA
//   file only (no other CA directory), for the URL's host, before anything is
//   sent; a refusal names the host, the CA file and libcurl's reason;
// - redirects are never followed (the credentials are for the configured
//   host only); a 3xx is an error that names where it pointed;
// - the credentials come from the remote's connect options (the
//   `Authorization` header RemoteSession builds from the files) and go with
//   every request; a 401 is an error worded by unauthorizedError() (none
//   configured, or refused: naming the file). A connection is reused for any
//   request to the same host, port and TLS settings, since basic
//   authentication is per request;
// - no proxy from the environment is used;
// - every request is bounded by the operation's limits (see net.h): connect
//   timeout, the operation's deadline, and no byte moved for `io`.
//
// HttpExchange (below) is the request underneath, usable without libgit2: the
// status writer's one-request fetch (RemoteSession::fetchPack) uses it.
//
// A pooled connection the server closed meanwhile is detected by libcurl and
// replaced; one that fails mid-request is not reused. Idle connections are
// closed after 2 minutes (libcurl's limit), and when the last Libgit2 goes.
// Thread-safe: a pooled handle is used by one request at a time.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "gitfed/git/error.h"

namespace gitfed::git::detail {

// One request of Git's smart HTTP protocol.
struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // extra headers ("Authorization: Basic ..." among them)
  std::string caFile;                // the only CAs trusted (PEM)
  bool post = false;
  std::string body;
  std::string contentType;  // of the request body (POST)
  std::string expectType;   // what a 200 must be ("application/x-git-upload-pack-result")
};

// One request on a pooled connection, under the calling thread's operation
// limits (DeadlineScope; none: 2 minutes). The request goes out at the first
// read(). Not thread-safe; used by one thread.
class HttpExchange {
 public:
  explicit HttpExchange(HttpRequest request);
  ~HttpExchange();
  HttpExchange(const HttpExchange&) = delete;
  HttpExchange& operator=(const HttpExchange&) = delete;

  // Up to `size` bytes of the response's body; 0 at its end. Anything but a
  // 200 of the expected type is an Error that says what came back (a 401 is
  // ErrorCode::Auth with unauthorized() true, for the caller to word with
  // what it knows of the credentials). Certificate, Timeout and Network
  // errors name the server.
  Result<std::size_t> read(char* buffer, std::size_t size);
  bool unauthorized() const;

  struct State;

 private:
  std::unique_ptr<State> s_;
};

// After git_libgit2_init; initialises libcurl (counted).
int registerHttpTransport();
// Closes the idle connections and unregisters (before git_libgit2_shutdown).
void unregisterHttpTransport();

}  // namespace gitfed::git::detail
