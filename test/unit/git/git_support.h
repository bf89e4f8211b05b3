#pragma once
// Helpers for the gitfed::git unit tests: the git CLI with an isolated
// configuration (it builds the test repositories, as a user would), and raw
// tree objects for the hostile trees git itself refuses to make.

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "support/run.h"

namespace gitfed::test {

inline std::string gitEnv() {
  return "env -u GIT_DIR -u GIT_WORK_TREE -u GIT_SSL_CAINFO GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null "
         "GIT_AUTHOR_NAME=tester GIT_AUTHOR_EMAIL=tester@example.org GIT_COMMITTER_NAME=tester "
         "GIT_COMMITTER_EMAIL=tester@example.org ";
}

// Runs `git -C dir ARGS`; fails the test when git fails. Returns stdout without
// the trailing newline.
inline std::string gitCli(const std::filesystem::path& dir, const std::string& args) {
  auto r = run(gitEnv() + "git -C " + shellQuote(dir.string()) + " " + args);
  INFO("git " << args << "\n" << r.err);
  REQUIRE(r.status == 0);
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

inline std::string configMap(const std::string& name, const std::string& value = "v") {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: default\ndata:\n  k: " + value + "\n";
}

// A work tree with one commit on `main`; returns its directory.
inline std::filesystem::path initRepo(const TempDir& tmp, const std::string& name = "work") {
  auto dir = tmp.path() / name;
  std::filesystem::create_directories(dir);
  gitCli(dir, "init -q -b main");
  return dir;
}

inline std::string commitAll(const std::filesystem::path& dir, const std::string& message) {
  gitCli(dir, "add -A");
  gitCli(dir, "commit -q --allow-empty -m " + shellQuote(message));
  return gitCli(dir, "rev-parse HEAD");
}

inline std::string rawOid(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// A tree object written as-is (no validation): entries of mode, name, hex id.
struct RawTreeEntry {
  std::string mode;
  std::string name;
  std::string oid;
};
inline std::string writeRawTree(const std::filesystem::path& repo, const std::vector<RawTreeEntry>& entries,
                                const TempDir& tmp) {
  std::string data;
  for (const auto& e : entries) data += e.mode + " " + e.name + std::string(1, '\0') + rawOid(e.oid);
  auto file = tmp.write("rawtree.bin", data);
  return gitCli(repo, "hash-object -t tree --literally -w " + shellQuote(file.string()));
}

inline std::string writeBlob(const std::filesystem::path& repo, const std::string& content, const TempDir& tmp) {
  auto file = tmp.write("blob.bin", content);
  return gitCli(repo, "hash-object -w " + shellQuote(file.string()));
}

}  // namespace gitfed::test
