#pragma once
// Access to the integration test environment (test/env/README.md) from C++.
//
// The ctest fixtures start a cluster and the Git servers and write their
// addresses and credentials to the file named by $GITFED_TEST_ENV, one
// KEY=VALUE per line ('#' starts a comment line; values are never quoted and
// contain no whitespace). A variable set in the process environment wins over
// the file, so a test can be pointed at other servers by hand.
//
//   #include "testenv.h"       // link gitfed::testenv
//   auto url = gitfed::testenv::require("GITFED_TEST_HTTPS_URL");
//
// Thread-safe: the file is read once, on first use.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace gitfed::testenv {

namespace detail {
inline const std::map<std::string, std::string, std::less<>>& fileValues() {
  static const auto values = [] {
    std::map<std::string, std::string, std::less<>> out;
    const char* path = std::getenv("GITFED_TEST_ENV");
    if (path == nullptr || *path == '\0') return out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      const auto eq = line.find('=');
      if (eq == std::string::npos || eq == 0) continue;
      out.insert_or_assign(line.substr(0, eq), line.substr(eq + 1));
    }
    return out;
  }();
  return values;
}
}  // namespace detail

// The value of KEY (process environment first, then the env file), if set.
inline std::optional<std::string> get(std::string_view key) {
  const std::string k(key);
  if (const char* v = std::getenv(k.c_str()); v != nullptr) return std::string(v);
  const auto& values = detail::fileValues();
  if (auto it = values.find(key); it != values.end()) return it->second;
  return std::nullopt;
}

// The value of KEY; aborts the test program with a clear message when the
// environment is missing (a test without its fixture is a harness error).
inline std::string require(std::string_view key) {
  if (auto v = get(key)) return *v;
  const char* path = std::getenv("GITFED_TEST_ENV");
  std::fprintf(stderr,
               "gitfed::testenv: %.*s is not set (GITFED_TEST_ENV=%s); run the test through ctest "
               "so that its fixtures start the environment (test/env/README.md)\n",
               static_cast<int>(key.size()), key.data(), path ? path : "(unset)");
  std::abort();
}

}  // namespace gitfed::testenv
