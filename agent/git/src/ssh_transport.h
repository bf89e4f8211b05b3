#pragma once
// gitfed's ssh transport (internal): libgit2's smart protocol over libssh2,
// registered for ssh://, ssh+git://, git+ssh:// and scp-like URLs in place of
// libgit2's own. The difference is that the ssh connection outlives the
// operation: it goes back to a process-wide pool when the operation ends
// cleanly, and the next operation for the same server, user and key opens
// only a new channel on it (`exec git-upload-pack '<path>'`), as OpenSSH's
// ControlMaster does. A key exchange, the authentication and, on an OpenSSH
// server, the re-exec of sshd for a new connection are paid once, not at every
// poll.
//
// What does not change with reuse:
// - the host key is checked by the remote's certificate callback (the
//   configured known_hosts file) on every operation, also on a connection
//   taken from the pool, so a key removed from known_hosts refuses the next
//   operation; every new connection is verified before anything is sent;
// - credentials come from the remote's credentials callback (files), only for
//   a new connection; a connection is reused only for the same user and the
//   same key file (path, inode, size and mtime: a rotated Secret opens a new
//   one); nothing of the key or its passphrase is kept or logged;
// - every read and write is bounded by the operation's limits (see net.h):
//   libssh2's own timeout for each blocking call, the watchdog's shutdown of
//   the socket at the operation's deadline.
//
// A pooled connection that turns out dead (the server restarted, a network
// cut) is dropped and the operation connects again, transparently; one that
// does not answer a channel open within 5 s is presumed dead. Idle
// connections are closed after 5 minutes, and when the last Libgit2 goes.
// Thread-safe: a connection is used by one operation at a time.

#include <cstddef>

namespace gitfed::git::detail {

// After git_libgit2_init (libssh2 is initialised by libgit2 and by Libgit2).
int registerSshTransport();
// Closes the idle connections and unregisters (before git_libgit2_shutdown).
void unregisterSshTransport();

}  // namespace gitfed::git::detail
