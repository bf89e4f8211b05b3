// gitfed_status_writer: one agent's status writer as a process of its own,
// for the concurrent-writers test and the status-push benchmark. Writes N
// reports of one cluster (each different: summary.objects = 1..N) to the
// status branch of a remote, and prints one line per report:
//   <index> <outcome> <pushes> <milliseconds>
//
// usage: gitfed_status_writer --url URL --cluster NAME --cache DIR [--reports N]
//          [--username-file F --password-file F] [--ca-file F]
//          [--ssh-key F --known-hosts F] [--branch B] [--deadline-ms MS] [--first K]
//          [--backoff-base-ms MS] [--backoff-max-ms MS] [--backoff-per-cluster-ms MS]
//          [--cluster-ref] [--signing-key PEM] [--new-revision] [--interval-ms MS]
// (--first K: the reports are numbered from K, so a second run writes new content;
//  --cluster-ref: the per-cluster ref too, the branch on headline changes only
//  (issue 15), and the line goes on with "ref-ms=<ms> seq=<n> branch=<outcome>
//  branch-pushes=<n>"; --new-revision: each report is about a new revision (a
//  headline change), --revision K with the revision numbered K whatever the
//  report's index; --interval-ms: one report every MS, from the start, not
//  after the last one ended: heartbeats)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <thread>

#include "gitfed/git/libgit2.h"
#include "gitfed/status/cluster_ref.h"
#include "gitfed/status/signing.h"
#include "gitfed/status/writer.h"

using namespace gitfed;

int main(int argc, char** argv) {
  git::RemoteOptions remote;
  std::string cluster, cache, branch = "gitfed-status";
  int reports = 1, first = 1;
  long deadlineMs = 60000, backoffBaseMs = -1, backoffMaxMs = -1, backoffPerClusterMs = -1, intervalMs = 0;
  bool useRef = false, newRevision = false;
  long fixedRevision = -1;
  std::string signingKey;
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--cluster-ref" || flag == "--new-revision") {
      (flag == "--cluster-ref" ? useRef : newRevision) = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", flag.c_str());
      return 2;
    }
    std::string value = argv[i + 1];
    if (flag == "--url") remote.url = value;
    else if (flag == "--cluster") cluster = value;
    else if (flag == "--cache") cache = value;
    else if (flag == "--reports") reports = std::atoi(value.c_str());
    else if (flag == "--username-file") remote.credentials.usernameFile = value;
    else if (flag == "--password-file") remote.credentials.passwordFile = value;
    else if (flag == "--ca-file") remote.credentials.caFile = value;
    else if (flag == "--ssh-key") remote.credentials.sshKeyFile = value;
    else if (flag == "--known-hosts") remote.credentials.knownHostsFile = value;
    else if (flag == "--branch") branch = value;
    else if (flag == "--deadline-ms") deadlineMs = std::atol(value.c_str());
    else if (flag == "--first") first = std::atoi(value.c_str());
    else if (flag == "--backoff-base-ms") backoffBaseMs = std::atol(value.c_str());
    else if (flag == "--backoff-max-ms") backoffMaxMs = std::atol(value.c_str());
    else if (flag == "--backoff-per-cluster-ms") backoffPerClusterMs = std::atol(value.c_str());
    else if (flag == "--signing-key") signingKey = value;
    else if (flag == "--revision") fixedRevision = std::atol(value.c_str());
    else if (flag == "--interval-ms") intervalMs = std::atol(value.c_str());
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (remote.url.empty() || cluster.empty() || cache.empty()) {
    std::fprintf(stderr, "usage: gitfed_status_writer --url URL --cluster NAME --cache DIR [--reports N] ...\n");
    return 2;
  }
  git::Libgit2 lib;
  auto store = status::GitStatusStore::open(cache, remote, branch);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().format().c_str());
    return 1;
  }
  status::WriterOptions options;
  options.cluster = cluster;
  options.email = cluster + "@gitfed.test";
  options.deadline = std::chrono::milliseconds(deadlineMs);
  options.maxAttempts = 1000;
  if (backoffBaseMs >= 0) options.backoffBase = std::chrono::milliseconds(backoffBaseMs);
  if (backoffMaxMs >= 0) options.backoffMax = std::chrono::milliseconds(backoffMaxMs);
  if (backoffPerClusterMs >= 0) options.backoffPerCluster = std::chrono::milliseconds(backoffPerClusterMs);
  // Each report a heartbeat: due a little before the next one starts.
  if (intervalMs > 0) options.heartbeat = std::chrono::seconds(std::max(1L, intervalMs / 1000 - 1));
  if (useRef) {
    auto ref = status::GitClusterRefStore::open(cache, remote, cluster);
    if (!ref) {
      std::fprintf(stderr, "%s\n", ref.error().format().c_str());
      return 1;
    }
    options.clusterRef = std::move(*ref);
  }
  if (!signingKey.empty()) {
    auto signer = status::ReportSigner::load(signingKey);
    if (!signer) {
      std::fprintf(stderr, "%s\n", signer.error().format().c_str());
      return 1;
    }
    options.signer = std::move(*signer);
  }
  status::StatusWriter writer(**store, options);
  const auto start = std::chrono::steady_clock::now();
  for (int i = first; i < first + reports; ++i) {
    if (intervalMs > 0) std::this_thread::sleep_until(start + std::chrono::milliseconds(intervalMs * (i - first)));
    status::ClusterStatus r;
    r.name = cluster;
    r.source = {remote.url, "main", std::string(40, '0')};
    if (newRevision) {
      std::string hex = std::to_string(fixedRevision >= 0 ? fixedRevision : i);
      r.source.revision = std::string(40 - hex.size(), '0') + hex;
      r.sync.appliedRevision = r.source.revision;
    }
    r.sync.phase = status::Phase::Synced;
    r.sync.lastAttemptAt = status::Clock::now();
    r.sync.lastSuccessAt = r.sync.lastAttemptAt;
    r.summary.objects = static_cast<std::size_t>(intervalMs > 0 ? first : i);  // heartbeats: the same report
    r.summary.synced = r.summary.objects;
    r.agentVersion = "writer-test";
    auto out = writer.write(r);
    if (!out) {
      std::fprintf(stderr, "report %d: %s\n", i, out.error().format().c_str());
      return 1;
    }
    // When the ref's write was done, on the wall clock (the benchmark's "readable at").
    long long refAt = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch() - (out->elapsed - out->refElapsed))
                          .count();
    if (useRef)
      std::printf("%d %s %d %lld ref-ms=%lld ref-at=%lld seq=%llu branch=%s branch-pushes=%d%s\n", i,
                  status::toString(out->kind), out->attempts, static_cast<long long>(out->elapsed.count()),
                  static_cast<long long>(out->refElapsed.count()), refAt, static_cast<unsigned long long>(out->sequence),
                  out->branchError ? "Error" : status::toString(out->branch), out->branchAttempts,
                  out->branchError ? (" branch-error=" + out->branchError->format()).c_str() : "");
    else
      std::printf("%d %s %d %lld\n", i, status::toString(out->kind), out->attempts,
                  static_cast<long long>(out->elapsed.count()));
    std::fflush(stdout);
  }
  return 0;
}
