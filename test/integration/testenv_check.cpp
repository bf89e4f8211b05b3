// Checks that a C++ integration test finds the environment through testenv.h:
// every documented variable is set and the files it names exist.
#include <cstdio>
#include <filesystem>
#include <string_view>

#include "testenv.h"

int main() {
  int failures = 0;
  int passes = 0;
  auto expect = [&](bool ok, std::string_view what) {
    std::printf("%s - %.*s\n", ok ? "ok" : "not ok", static_cast<int>(what.size()), what.data());
    ++(ok ? passes : failures);
  };
  for (std::string_view key : {"GITFED_TEST_APISERVER", "GITFED_TEST_KUBE_TOKEN", "GITFED_TEST_HTTPS_URL",
                               "GITFED_TEST_HTTPS_USER", "GITFED_TEST_HTTPS_PASSWORD", "GITFED_TEST_SSH_URL",
                               "GITFED_TEST_GIT_URL", "GITFED_TEST_FILE_URL"}) {
    expect(gitfed::testenv::get(key).has_value(), key);
  }
  for (std::string_view key : {"GITFED_TEST_KUBECONFIG", "GITFED_TEST_KUBE_CA", "GITFED_TEST_KUBE_CLIENT_CERT",
                               "GITFED_TEST_KUBE_CLIENT_KEY", "GITFED_TEST_HTTPS_CA", "GITFED_TEST_SSH_KEY",
                               "GITFED_TEST_SSH_KNOWN_HOSTS", "GITFED_TEST_GIT_ROOT"}) {
    const auto v = gitfed::testenv::get(key);
    expect(v && std::filesystem::exists(*v), key);
  }
  expect(gitfed::testenv::require("GITFED_TEST_APISERVER").starts_with("https://127.0.0.1:"),
         "apiserver on loopback over https");
  std::printf("testenv: %d checks passed, %d failed\n", passes, failures);
  return failures == 0 ? 0 : 1;
}
