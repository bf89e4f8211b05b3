#include "gitfed/status/writer.h"

#include <algorithm>
#include <cassert>
#include <thread>

namespace gitfed::status {
namespace {

using nlohmann::json;

std::optional<Clock::time_point> attemptTime(const json& doc) { return reportAttemptTime(doc); }

// Worth another attempt: the network, the server, a race. A refused
// credential or an invalid URL will not get better within one report.
bool retryable(const Error& e) {
  switch (e.code) {
    case ErrorCode::Network:
    case ErrorCode::Timeout:
    case ErrorCode::Rejected:
    case ErrorCode::Io:
    case ErrorCode::Internal:
      return true;
    default:
      return false;
  }
}

}  // namespace

const char* toString(WriteOutcome::Kind kind) {
  switch (kind) {
    case WriteOutcome::Kind::Committed: return "Committed";
    case WriteOutcome::Kind::Unchanged: return "Unchanged";
    case WriteOutcome::Kind::Superseded: return "Superseded";
  }
  return "?";
}

StatusWriter::StatusWriter(StatusStore& store, WriterOptions options, NowFn now, SleepFn sleep)
    : store_(store),
      options_(std::move(options)),
      now_(now ? std::move(now) : NowFn([] { return Clock::now(); })),
      sleep_(sleep ? std::move(sleep) : SleepFn([](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); })),
      rng_(std::random_device{}()) {}

bool StatusWriter::heartbeatDue(const json& previous) const {
  if (options_.heartbeat.count() <= 0) return false;
  auto last = attemptTime(previous);
  return !last || now_() - *last >= options_.heartbeat;
}

std::chrono::milliseconds backoffWindow(const WriterOptions& options, int attempt, std::chrono::milliseconds lastAttempt,
                                        std::size_t clusters) {
  long long cap = options.backoffMax.count();
  if (clusters > 0) {
    long long fleet = static_cast<long long>(std::min<std::size_t>(clusters, 1'000'000)) * options.backoffPerCluster.count();
    cap = std::clamp<long long>(fleet, std::min<long long>(options.backoffMin.count(), cap), cap);
  }
  long long slot = std::max<long long>(options.backoffBase.count(), lastAttempt.count());
  long long window = slot << std::min(std::max(attempt, 1) - 1, 16);
  return std::chrono::milliseconds(std::min(window, cap));
}

std::chrono::milliseconds StatusWriter::backoff(int attempt, std::chrono::milliseconds lastAttempt) {
  // Full jitter: uniform in [0, window].
  auto window = backoffWindow(options_, attempt, lastAttempt, clusters_);
  std::uniform_int_distribution<long long> pick(0, std::max<long long>(window.count(), 1));
  return std::chrono::milliseconds(pick(rng_));
}

std::string reportHeadline(const json& doc) {
  auto at = [&](const char* section, const char* key) -> std::string {
    if (!doc.is_object()) return {};
    auto s = doc.find(section);
    if (s == doc.end() || !s->is_object()) return {};
    auto v = s->find(key);
    return v != s->end() && v->is_string() ? v->get<std::string>() : std::string();
  };
  return at("sync", "phase") + " " + at("source", "revision") + " " + at("sync", "appliedRevision");
}

Result<WriteOutcome> StatusWriter::write(ClusterStatus report, const Redactor& redactor) {
  const std::string context = "status " + options_.cluster;
  if (!isValidClusterName(options_.cluster))
    return git::fail(ErrorCode::InvalidArgument, "invalid cluster name \"" + options_.cluster + "\"", context);
  if (report.name != options_.cluster)
    return git::fail(ErrorCode::InvalidArgument, "the report is about cluster \"" + report.name + "\"", context);
  const auto started = std::chrono::steady_clock::now();
  limitObjects(report);
  redactor.apply(report);
  const json doc = toJson(report);
  const std::string content = toYamlText(report);
  if (!options_.clusterRef) {
    auto out = writeBranch(report, doc, content, /*headlineOnly=*/false);
    if (out) out->elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    return out;
  }
  if (!refWriter_) {
    ClusterRefWriter::Options o;
    o.cluster = options_.cluster;
    o.heartbeat = options_.heartbeat;
    o.deadline = options_.deadline;
    o.maxAttempts = std::max(options_.maxAttempts, 1);
    refWriter_.emplace(*options_.clusterRef, o, options_.signer, now_, sleep_);
  }
  WriteOutcome out;
  const std::string headline = reportHeadline(doc);
  const bool branchSame = branchHeadline_ && *branchHeadline_ == headline;
  if (refWriter_->knownUnchanged(doc) && branchSame) return out;  // no network at all
  if (!refWriter_->knownUnchanged(doc)) {
    git::Signature author{"gitfed " + options_.cluster, options_.email, now_()};
    auto ref = refWriter_->write(doc, content, commitMessage(report), author);
    if (!ref) return std::unexpected(ref.error());
    out.commit = ref->commit;
    out.sequence = ref->sequence;
    out.attempts = ref->attempts;
    out.refElapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    switch (ref->kind) {
      case RefWriteOutcome::Kind::Committed: out.kind = WriteOutcome::Kind::Committed; break;
      case RefWriteOutcome::Kind::Unchanged: out.kind = WriteOutcome::Kind::Unchanged; break;
      case RefWriteOutcome::Kind::Superseded: out.kind = WriteOutcome::Kind::Superseded; break;
    }
    // A newer report of this cluster is on its ref: its writer brings the
    // branch up to date, an older one must not.
    if (out.kind == WriteOutcome::Kind::Superseded) {
      out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      return out;
    }
  }
  if (!branchSame) {
    // The clusters reporting: what the ref's connection advertised, or the branch's files.
    std::size_t fleet = std::max(clusters_, options_.clusterRef->fleetSize());
    if (fleet > 1 && options_.branchSpreadPerCluster.count() > 0) {
      long long window = std::min<long long>(static_cast<long long>(std::min<std::size_t>(fleet, 1'000'000)) *
                                                 options_.branchSpreadPerCluster.count(),
                                             options_.backoffMax.count());
      std::uniform_int_distribution<long long> pick(0, std::max<long long>(window, 1));
      sleep_(std::chrono::milliseconds(pick(rng_)));
    }
    auto branch = writeBranch(report, doc, content, /*headlineOnly=*/true);
    if (!branch) {
      out.branchError = branch.error();
    } else {
      out.branch = branch->kind;
      out.branchCommit = branch->commit;
      out.branchAttempts = branch->attempts;
    }
  }
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return out;
}

Result<WriteOutcome> StatusWriter::writeBranch(const ClusterStatus& report, const json& doc, const std::string& content,
                                               bool headlineOnly) {
  const std::string context = "status " + options_.cluster;
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  };
  const std::string file = path();
  const std::string headline = reportHeadline(doc);

  // Nothing but timestamps changed since what we last wrote: no network at all.
  if (!headlineOnly && lastWritten_ && sameExceptTimestamps(*lastWritten_, doc) && !heartbeatDue(*lastWritten_))
    return WriteOutcome{WriteOutcome::Kind::Unchanged, {}, 0, elapsed()};
  git::Signature author{"gitfed " + options_.cluster, options_.email, now_()};
  std::string message = commitMessage(report);
  std::optional<Error> lastError;
  int attempts = 0;
  std::chrono::milliseconds lastAttempt{0};
  for (int round = 0; round < options_.maxAttempts && elapsed() < options_.deadline; ++round) {
    if (round > 0) sleep_(backoff(round, lastAttempt));
    const auto attemptStarted = std::chrono::steady_clock::now();
    auto attemptTook = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - attemptStarted);
    };
    auto tip = store_.fetch(file);
    if (!tip) {
      if (!retryable(tip.error())) return std::unexpected(withContext(tip.error(), context));
      lastError = tip.error();
      lastAttempt = attemptTook();
      continue;
    }
    if (tip->clusters > 0) clusters_ = tip->clusters;
    bool heartbeat = false;
    if (tip->file) {
      auto previous = parseReportJson(*tip->file);
      if (previous) {
        auto theirs = attemptTime(*previous);
        auto ours = report.sync.lastAttemptAt;
        if (theirs && ours && *theirs > *ours) {
          lastWritten_ = *previous;
          branchHeadline_ = reportHeadline(*previous);
          return WriteOutcome{WriteOutcome::Kind::Superseded, *tip->commit, attempts, elapsed()};
        }
        if (headlineOnly && reportHeadline(*previous) == headline) {
          lastWritten_ = *previous;
          branchHeadline_ = headline;
          return WriteOutcome{WriteOutcome::Kind::Unchanged, *tip->commit, attempts, elapsed()};
        }
        if (sameExceptTimestamps(*previous, doc)) {
          if (headlineOnly || !heartbeatDue(*previous)) {
            lastWritten_ = *previous;
            branchHeadline_ = headline;
            return WriteOutcome{WriteOutcome::Kind::Unchanged, *tip->commit, attempts, elapsed()};
          }
          heartbeat = true;
        }
      }
    }
    auto commit = store_.commit(tip->commit, file, content, author, heartbeat ? message + " (heartbeat)" : message);
    if (!commit) return std::unexpected(withContext(commit.error(), context));
    ++attempts;
    auto pushed = store_.push(*commit);
    lastAttempt = attemptTook();
    if (!pushed) {
      if (!retryable(pushed.error())) return std::unexpected(withContext(pushed.error(), context));
      lastError = pushed.error();
      continue;
    }
    if (pushed->accepted) {
      lastWritten_ = doc;
      branchHeadline_ = headline;
      return WriteOutcome{WriteOutcome::Kind::Committed, *commit, attempts, elapsed()};
    }
    lastError = Error{ErrorCode::Rejected, {}, "push refused: " + pushed->reason};
  }
  Error e = lastError.value_or(Error{ErrorCode::Rejected, {}, "no attempt was made"});
  return git::fail(e.code,
                   "gave up after " + std::to_string(attempts) + " pushes in " + std::to_string(elapsed().count()) +
                       " ms; last: " + e.format(),
                   context);
}

}  // namespace gitfed::status
