// gitfed_git_bench: the gitfed side of bench/git/run-git (the "Speed"
// section). Each mode prints one line per measured iteration:
//   <mode> <iteration> <milliseconds> [details]
//
//   nochange  URL CACHE N [creds]        sync() of an unchanged remote, N times (after one priming sync)
//   fetchone  URL CACHE WORK N [creds]   N times: a commit changing one file is pushed from the
//                                        work tree WORK (git CLI, not timed), then sync() (timed)
//   render    REPO COMMIT CHECKOUT CLUSTER N
//                                        load + render for CLUSTER from the Git tree of COMMIT, and
//                                        from the checkout CHECKOUT on disk, N times each
// creds: --username-file F --password-file F --ca-file F --ssh-key F --known-hosts F

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gitfed/git/libgit2.h"
#include "gitfed/git/repository.h"
#include "gitfed/git/source.h"
#include "gitfed/render/renderer.h"

using namespace gitfed;
using Clock = std::chrono::steady_clock;

namespace {

double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

void parseCreds(std::vector<std::string>& args, git::RemoteOptions& o) {
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i + 1 < args.size()) {
      const std::string& f = args[i];
      const std::string& v = args[i + 1];
      bool used = true;
      if (f == "--username-file") o.credentials.usernameFile = v;
      else if (f == "--password-file") o.credentials.passwordFile = v;
      else if (f == "--ca-file") o.credentials.caFile = v;
      else if (f == "--ssh-key") o.credentials.sshKeyFile = v;
      else if (f == "--known-hosts") o.credentials.knownHostsFile = v;
      else used = false;
      if (used) {
        ++i;
        continue;
      }
    }
    rest.push_back(args[i]);
  }
  args = rest;
}

int die(const std::string& m) {
  std::fprintf(stderr, "gitfed_git_bench: %s\n", m.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return die("usage: gitfed_git_bench nochange|fetchone|render ...");
  std::string mode = args[0];
  args.erase(args.begin());
  git::Libgit2 lib;
  git::RemoteOptions remote;
  parseCreds(args, remote);

  if (mode == "nochange" || mode == "fetchone") {
    std::size_t need = mode == "nochange" ? 3 : 4;
    if (args.size() != need) return die("wrong arguments for " + mode);
    remote.url = args[0];
    git::SourceConfig config;
    config.remote = remote;
    config.cacheDir = args[1];
    int n = std::atoi(args.back().c_str());
    auto source = git::Source::open(config);
    if (!source) return die(source.error().format());
    auto prime = source->sync();
    if (!prime || prime->stale) return die(prime ? prime->staleReason->format() : prime.error().format());
    for (int i = 1; i <= n; ++i) {
      if (mode == "fetchone") {
        std::string work = args[2];
        std::string cmd = "cd '" + work + "' && echo \"# rev " + std::to_string(i) +
                          "\" >> apps/d0/f0.yaml && git commit -qam 'bench " + std::to_string(i) +
                          "' && git push -q origin HEAD:main";
        if (std::system(cmd.c_str()) != 0) return die("pushing a commit failed");
      }
      auto t0 = Clock::now();
      auto r = source->sync();
      double ms = msSince(t0);
      if (!r || r->stale) return die(r ? r->staleReason->format() : r.error().format());
      if (mode == "nochange" && r->fetched) return die("the no-change check fetched");
      if (mode == "fetchone" && !r->fetched) return die("nothing was fetched");
      std::printf("%s %d %.3f objects=%u bytes=%llu\n", mode.c_str(), i, ms, r->stats.objects,
                  static_cast<unsigned long long>(r->stats.bytes));
    }
    return 0;
  }

  if (mode == "render") {
    if (args.size() != 5) return die("render REPO COMMIT CHECKOUT CLUSTER N");
    int n = std::atoi(args[4].c_str());
    auto repo = git::Repository::open(args[0]);
    if (!repo) return die(repo.error().format());
    for (int i = 1; i <= n; ++i) {
      for (const char* from : {"git-tree", "checkout"}) {
        auto t0 = Clock::now();
        render::Repository loaded;
        std::size_t warnings = 0;
        if (std::string(from) == "git-tree") {
          auto tree = repo->tree(args[1]);  // opening the tree is part of the cost
          if (!tree) return die(tree.error().format());
          loaded = render::loadRepository(**tree, {});
          warnings = (*tree)->warnings().size();
        } else {
          render::DiskSourceTree disk(args[2]);
          loaded = render::loadRepository(disk, {});
        }
        auto result = render::renderCluster(loaded, args[3]);
        double ms = msSince(t0);
        if (!result.ok()) return die(std::string(from) + ": " + result.errors.front().format());
        std::printf("render-%s %d %.3f files=%zu objects=%zu warnings=%zu\n", from, i, ms, loaded.files,
                    result.objects.size(), warnings);
      }
    }
    return 0;
  }
  return die("unknown mode " + mode);
}
