#include "gitfed/status/cluster_ref_writer.h"

#include <algorithm>

namespace gitfed::status {

using nlohmann::json;

std::optional<Clock::time_point> reportAttemptTime(const json& doc) {
  if (!doc.is_object()) return std::nullopt;
  auto sync = doc.find("sync");
  if (sync == doc.end() || !sync->is_object()) return std::nullopt;
  auto t = sync->find("lastAttemptAt");
  if (t == sync->end() || !t->is_string()) return std::nullopt;
  return parseTime(t->get<std::string>());
}

ClusterRefWriter::ClusterRefWriter(ClusterRefStore& store, Options options, std::shared_ptr<const ReportSigner> signer,
                                   NowFn now, SleepFn sleep)
    : store_(store),
      options_(std::move(options)),
      signer_(std::move(signer)),
      now_(std::move(now)),
      sleep_(std::move(sleep)),
      rng_(std::random_device{}()) {}

bool ClusterRefWriter::heartbeatDue(const json& previous) const {
  if (options_.heartbeat.count() <= 0) return false;
  auto last = reportAttemptTime(previous);
  return !last || now_() - *last >= options_.heartbeat;
}

bool ClusterRefWriter::knownUnchanged(const json& doc) const {
  return lastWritten_ && sameExceptTimestamps(*lastWritten_, doc) && !heartbeatDue(*lastWritten_);
}

Result<RefWriteOutcome> ClusterRefWriter::write(const json& doc, const std::string& content, const std::string& summary,
                                                const git::Signature& author) {
  const std::string context = "status ref " + options_.cluster;
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::steady_clock::now() - started; };
  const auto ours = reportAttemptTime(doc);
  std::optional<Error> lastError;
  int attempts = 0;
  for (int round = 0; round < options_.maxAttempts && elapsed() < options_.deadline; ++round) {
    if (round > 0) {
      long long window = std::min<long long>(options_.retryMax.count(),
                                             options_.retryBase.count() << std::min(round - 1, 10));
      std::uniform_int_distribution<long long> pick(0, std::max<long long>(window, 1));
      sleep_(std::chrono::milliseconds(pick(rng_)));
    }
    // What the server holds now: the comparison is always against it, never
    // against the cache or memory (restarts, leader changes).
    auto held = store_.fetch();
    if (!held) {
      if (held.error().code == ErrorCode::Auth || held.error().code == ErrorCode::InvalidArgument ||
          held.error().code == ErrorCode::HostKey || held.error().code == ErrorCode::Certificate)
        return std::unexpected(withContext(held.error(), context));
      lastError = held.error();
      continue;
    }
    std::uint64_t sequence = 1;
    bool heartbeat = false;
    if (*held) {
      sequence = (*held)->trailers.sequence + 1;
      auto previous = parseReportJson((*held)->content);
      if (previous && (*held)->trailers.cluster == options_.cluster) {
        auto theirs = reportAttemptTime(*previous);
        if (theirs && ours && *theirs > *ours) {
          lastWritten_ = *previous;
          return RefWriteOutcome{RefWriteOutcome::Kind::Superseded, (*held)->commit, (*held)->trailers.sequence, attempts};
        }
        if (sameExceptTimestamps(*previous, doc)) {
          if (!heartbeatDue(*previous)) {
            lastWritten_ = *previous;
            return RefWriteOutcome{RefWriteOutcome::Kind::Unchanged, (*held)->commit, (*held)->trailers.sequence,
                                   attempts};
          }
          heartbeat = true;
        }
      }
    }
    RefTrailers trailers{options_.cluster, sequence, {}};
    if (signer_) {
      auto sig = signer_->sign(options_.cluster, sequence, content);
      if (!sig) return std::unexpected(withContext(sig.error(), context));
      trailers.signature = std::move(*sig);
    }
    auto commit = store_.commit(content, author, refCommitMessage(heartbeat ? summary + " (heartbeat)" : summary, trailers));
    if (!commit) return std::unexpected(withContext(commit.error(), context));
    ++attempts;
    auto pushed = store_.push(*commit);
    if (!pushed) {
      if (pushed.error().code == ErrorCode::Auth) return std::unexpected(withContext(pushed.error(), context));
      lastError = pushed.error();
      continue;
    }
    if (pushed->accepted) {
      lastWritten_ = doc;
      return RefWriteOutcome{RefWriteOutcome::Kind::Committed, *commit, sequence, attempts};
    }
    lastError = Error{ErrorCode::Rejected, {}, "push refused: " + pushed->reason};
  }
  Error e = lastError.value_or(Error{ErrorCode::Rejected, {}, "no attempt was made"});
  return git::fail(e.code, "gave up after " + std::to_string(attempts) + " pushes; last: " + e.format(), context);
}

}  // namespace gitfed::status
