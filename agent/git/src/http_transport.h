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
//   sent; a refusal is worded by the remote's certificate callback;
// - redirects are never followed (the credentials are for the configured
//   host only); a 3xx is an error that names where it pointed;
// - the credentials come from the remote's connect options (the
//   `Authorization` header RemoteSession builds from the files, sent with
//   the first request) or, after a 401, from its credentials callback; a
//   connection is reused for any request to the same host, port and TLS
//   settings, since basic authentication is per request;
// - no proxy from the environment is used;
// - every request is bounded by the operation's limits (see net.h): connect
//   timeout, the operation's deadline, and no byte moved for `io`.
//
// A pooled connection the server closed meanwhile is detected by libcurl and
// replaced; one that fails mid-request is not reused. Idle connections are
// closed after 2 minutes (libcurl's limit), and when the last Libgit2 goes.
// Thread-safe: a pooled handle is used by one request at a time.

namespace gitfed::git::detail {

// After git_libgit2_init; initialises libcurl (counted).
int registerHttpTransport();
// Closes the idle connections and unregisters (before git_libgit2_shutdown).
void unregisterHttpTransport();

}  // namespace gitfed::git::detail
