// Many agents, one status branch (issue 5): 20 writer processes, each writing
// several reports of its own cluster at the same time, through the real https
// server (git http-backend). Afterwards: every cluster's last report is on the
// branch, history is linear, every commit changed exactly its author's file
// and nothing else (no file of another cluster was ever overwritten), and
// each cluster's reports appear in order. Also: a push refused per ref by a
// server hook is detected and retried.

#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "git_itest.h"
#include "gitfed/git/libgit2.h"
#include "gitfed/status/writer.h"

using namespace gitfed;
using namespace gitfed::git::itest;

namespace {

struct WriterRun {
  int status = -1;
  std::string out, err;
};

// Starts `n` writer processes at once and waits for all of them.
std::vector<WriterRun> runWriters(const ServerRepo& repo, const TempDir& secrets, int n, int reports) {
  auto o = httpsOptions(repo.httpsUrl(), secrets);
  std::vector<std::pair<pid_t, std::filesystem::path>> children;
  std::fflush(stdout);  // a child must not write this process's buffered output
  std::fflush(stderr);
  for (int i = 0; i < n; ++i) {
    auto dir = secrets.path() / ("agent-" + std::to_string(i));
    std::filesystem::create_directories(dir);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      std::string out = (dir / "out").string(), err = (dir / "err").string();
      (void)!std::freopen(out.c_str(), "w", stdout);
      (void)!std::freopen(err.c_str(), "w", stderr);
      std::string cluster = "cluster-" + std::to_string(i);
      std::string cache = (dir / "cache").string();
      std::string count = std::to_string(reports);
      ::execl(GITFED_STATUS_WRITER, GITFED_STATUS_WRITER, "--url", o.url.c_str(), "--cluster", cluster.c_str(),
              "--cache", cache.c_str(), "--reports", count.c_str(), "--username-file",
              o.credentials.usernameFile.c_str(), "--password-file", o.credentials.passwordFile.c_str(), "--ca-file",
              o.credentials.caFile.c_str(), "--deadline-ms", "120000", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    children.emplace_back(pid, dir);
  }
  std::vector<WriterRun> runs;
  for (auto& [pid, dir] : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    runs.push_back({WIFEXITED(status) ? WEXITSTATUS(status) : -1, gitfed::test::readAll(dir / "out"),
                    gitfed::test::readAll(dir / "err")});
  }
  return runs;
}

}  // namespace

TEST_CASE("20 writer processes, 5 reports each, one status branch", "[writers]") {
  constexpr int kWriters = 20, kReports = 5;
  ServerRepo repo("writers");
  TempDir secrets;
  auto t0 = std::chrono::steady_clock::now();
  auto runs = runWriters(repo, secrets, kWriters, kReports);
  double took = secondsSince(t0);
  long long worst = 0;
  int pushes = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    INFO("writer " << i << ": " << runs[i].err);
    CHECK(runs[i].status == 0);
    std::istringstream in(runs[i].out);
    int index, attempts;
    std::string kind;
    long long ms;
    int lines = 0;
    while (in >> index >> kind >> attempts >> ms) {
      CHECK(kind == "Committed");
      worst = std::max(worst, ms);
      pushes += attempts;
      ++lines;
    }
    CHECK(lines == kReports);
  }
  WARN(kWriters << " writers x " << kReports << " reports in " << took << " s; " << pushes
                << " pushes; slowest report " << worst << " ms");

  auto bare = repo.bare;
  const std::string branch = "gitfed-status";
  CHECK(gitCli(bare, "rev-list --count " + branch) == std::to_string(kWriters * kReports));
  CHECK(gitCli(bare, "rev-list --min-parents=2 --count " + branch) == "0");  // no merges
  CHECK(gitCli(bare, "rev-list --max-parents=0 --count " + branch) == "1");  // one root
  // Oldest first: author, then the files the commit changed relative to its parent.
  std::string log = gitCli(bare, "log --reverse --format=@%an --name-status --no-renames " + branch);
  std::istringstream in(log);
  std::string line, author;
  std::map<std::string, int> lastSeen;  // cluster -> last report number seen in history
  int commits = 0, badChanges = 0, outOfOrder = 0;
  std::vector<std::string> shas;
  {
    std::istringstream revs(gitCli(bare, "rev-list --reverse " + branch));
    std::string sha;
    while (revs >> sha) shas.push_back(sha);
  }
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '@') {
      author = line.substr(1 + std::string("gitfed ").size());
      ++commits;
      continue;
    }
    // "M\tclusters/x.yaml" or "A\tclusters/x.yaml": exactly the author's file.
    if (line.substr(2) != "clusters/" + author + ".yaml" || (line[0] != 'M' && line[0] != 'A')) {
      ++badChanges;
      UNSCOPED_INFO("commit " << commits << " by " << author << " changed " << line);
      continue;
    }
    auto report = status::parseReport(gitCli(bare, "show " + shas[static_cast<std::size_t>(commits - 1)] + ":clusters/" + author + ".yaml"));
    REQUIRE(report);
    int n = static_cast<int>(report->summary.objects);
    if (n != lastSeen[author] + 1) ++outOfOrder;
    lastSeen[author] = n;
  }
  CHECK(commits == kWriters * kReports);
  CHECK(badChanges == 0);
  CHECK(outOfOrder == 0);
  // The branch's tip holds every cluster's last report.
  std::string files = gitCli(bare, "ls-tree -r --name-only " + branch);
  CHECK(std::count(files.begin(), files.end(), '\n') + 1 == kWriters);
  for (int i = 0; i < kWriters; ++i) {
    std::string cluster = "cluster-" + std::to_string(i);
    auto last = status::parseReport(gitCli(bare, "show " + branch + ":clusters/" + cluster + ".yaml"));
    REQUIRE(last);
    CHECK(last->summary.objects == kReports);
  }

  // `gitfed status` reads the same branch over https with the same credential files.
  auto o = httpsOptions(repo.httpsUrl(), secrets);
  std::string flags = " --username-file " + shellQuote(o.credentials.usernameFile.string()) + " --ca-file " +
                      shellQuote(o.credentials.caFile.string()) + " " + shellQuote(repo.httpsUrl());
  auto table = gitfed::test::run(shellQuote(GITFED_BINARY) + " status --password-file " +
                                 shellQuote(o.credentials.passwordFile.string()) + flags);
  INFO(table.err);
  REQUIRE(table.status == 0);
  CHECK(table.out.find("\n20 clusters; 0 not on the newest revision (*); 0 stale\n") != std::string::npos);
  CHECK(table.out.find("cluster-19  Synced") != std::string::npos);
  auto wrong = secrets.write("wrong-password", "not-the-password\n");
  auto refused = gitfed::test::run(shellQuote(GITFED_BINARY) + " status --password-file " + shellQuote(wrong.string()) + flags);
  CHECK(refused.status == 1);
  CHECK(refused.err.find("refused the credentials") != std::string::npos);
  CHECK(refused.err.find("not-the-password") == std::string::npos);
  CHECK(refused.err.find(env("GITFED_TEST_HTTPS_PASSWORD")) == std::string::npos);
}

TEST_CASE("a push refused per ref by a server hook is detected and retried", "[writers][hook]") {
  git::Libgit2 lib;
  ServerRepo repo("writers-hook");
  TempDir secrets, cache;
  // A pre-receive hook that declines the first two pushes.
  auto counter = secrets.path() / "declined";
  auto hook = repo.bare / "hooks" / "pre-receive";
  writeFile(hook, "#!/bin/sh\nn=$(cat " + shellQuote(counter.string()) + " 2>/dev/null || echo 0)\n"
                  "echo $((n+1)) > " + shellQuote(counter.string()) + "\n"
                  "if [ \"$n\" -lt 2 ]; then echo 'declined by test hook' >&2; exit 1; fi\nexit 0\n");
  std::filesystem::permissions(hook, std::filesystem::perms::owner_all);

  auto o = httpsOptions(repo.httpsUrl(), secrets);
  auto store = status::GitStatusStore::open(cache.path(), o);
  REQUIRE(store);
  // The raw push reports the refusal as a result, not an error.
  auto& r = (*store)->repository();
  auto commit = r.commitFile(std::nullopt, "clusters/x.yaml", "x: 1\n", {"gitfed x", "x@test", {}}, "x");
  REQUIRE(commit);
  REQUIRE(r.setRef("refs/gitfed/test", *commit, "test"));
  auto refused = r.push(o, "refs/gitfed/test", "refs/heads/gitfed-status");
  REQUIRE(refused);
  CHECK_FALSE(refused->accepted);
  CHECK(refused->reason.find("declined") != std::string::npos);
  CHECK(gitfed::test::readAll(counter) == "1\n");

  // The writer retries through the second refusal and lands.
  status::WriterOptions wo;
  wo.cluster = "c1";
  status::StatusWriter writer(**store, wo);
  status::ClusterStatus report;
  report.name = "c1";
  report.sync.lastAttemptAt = status::Clock::now();
  auto out = writer.write(report);
  INFO((out ? "" : out.error().format()));
  REQUIRE(out);
  CHECK(out->kind == status::WriteOutcome::Kind::Committed);
  CHECK(out->attempts == 2);
  CHECK(gitCli(repo.bare, "rev-parse gitfed-status") == out->commit);
}
