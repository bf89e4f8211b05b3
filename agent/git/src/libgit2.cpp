#include "gitfed/git/libgit2.h"

#include <git2.h>
#include <libssh2.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "http_transport.h"
#include "net.h"
#include "session.h"
#include "ssh_transport.h"

namespace gitfed::git {
namespace {
std::atomic<int> gInstances{0};
}

Libgit2::Libgit2() {
  int count = git_libgit2_init();
  if (count < 0) {
    const git_error* e = git_error_last();
    std::fprintf(stderr, "gitfed: libgit2 initialisation failed: %s\n", e && e->message ? e->message : "unknown error");
    std::abort();
  }
  if (count == 1) {
    // Streams are registered per libgit2 lifetime: shutdown forgets them.
    if (detail::registerTimedSocketStream() < 0) {
      std::fprintf(stderr, "gitfed: cannot register the socket stream with libgit2\n");
      std::abort();
    }
    // gitfed's ssh transport (connections kept between operations) in
    // place of libgit2's; libssh2 is initialised for it here too (counted).
    if (libssh2_init(0) != 0 || detail::registerSshTransport() < 0) {
      std::fprintf(stderr, "gitfed: cannot register the ssh transport with libgit2\n");
      std::abort();
    }
    // gitfed's http(s) transport (libcurl, connections kept between
    // operations) in place of libgit2's; libcurl is initialised for it (counted).
    if (detail::registerHttpTransport() < 0) {
      std::fprintf(stderr, "gitfed: cannot register the http transport with libgit2\n");
      std::abort();
    }
    // Objects are verified against their ids when read (a corrupt cache shows).
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 1);
  }
  ++gInstances;
}

Libgit2::~Libgit2() {
  if (--gInstances == 0) {
    detail::unregisterSshTransport();  // closes the idle ssh connections
    detail::unregisterHttpTransport();  // closes the idle http connections
    libssh2_exit();
  }
  git_libgit2_shutdown();
}

bool Libgit2::active() { return gInstances.load() > 0; }

}  // namespace gitfed::git
