#pragma once
// Libgit2: the process's one owner of libgit2's global state
// (git_libgit2_init/shutdown). The CLI and the daemon create one in main()
// before any other gitfed::git call and keep it until they exit; tests may
// create one per test (the count nests). The first instance also registers
// gitfed's socket stream, which gives libgit2 1.5 its connect, idle and
// per-operation time limits (see src/net.h). Not copyable; construct and
// destroy it on one thread.

namespace gitfed::git {

class Libgit2 {
 public:
  Libgit2();
  ~Libgit2();
  Libgit2(const Libgit2&) = delete;
  Libgit2& operator=(const Libgit2&) = delete;

  // True while an instance exists (for asserts).
  static bool active();
};

}  // namespace gitfed::git
