#include "gitfed/daemon/agent.h"

#include <malloc.h>

#include <map>

#include "gitfed/daemon/logging.h"
#include "gitfed/daemon/process_metrics.h"
#include "gitfed/daemon/report.h"
#include "gitfed/daemon/round_events.h"
#include "gitfed/git/tree_source.h"
#include "gitfed/sync/error_groups.h"
#include "gitfed/render/renderer.h"
#include "gitfed/status/redact.h"
#include "suspension.h"

namespace gitfed::daemon {
namespace {

using nlohmann::json;
using std::chrono::steady_clock;

double unixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::int64_t steadyMs(SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Every Secret value a repository holds (plain Secrets, the templates of
// federated ones, and override values aimed at their data), so render errors
// and reports can be scrubbed of them.
void learnSecrets(const render::Repository& repo, status::Redactor& redactor) {
  for (const auto& d : repo.documents) {
    if (!d.federated) {
      if (d.kind == "Secret") redactor.learn(d.value());
      continue;
    }
    if (d.target.kind != "Secret") continue;
    const json v = d.value();
    json secret = v.contains("spec") && v["spec"].is_object() ? v["spec"].value("template", json::object()) : json::object();
    if (!secret.is_object()) continue;
    secret["apiVersion"] = "v1";
    secret["kind"] = "Secret";
    redactor.learn(secret);
    for (const auto& o : d.overrides)
      for (const auto& item : o.items) {
        const std::string& p = item.path.text;
        bool data = p.starts_with("/data"), stringData = p.starts_with("/stringData");
        if (!data && !stringData) continue;
        json values = json::object();
        auto collect = [&](const json& x, auto&& self) -> void {
          if (x.is_string()) values["v" + std::to_string(values.size())] = x;
          else if (x.is_object() || x.is_array())
            for (const auto& y : x) self(y, self);
        };
        collect(item.value, collect);
        redactor.learn(json{{"apiVersion", "v1"}, {"kind", "Secret"}, {data ? "data" : "stringData", values}});
      }
  }
}

std::size_t countAction(const sync::SyncReport& r, sync::Action a) {
  std::size_t n = 0;
  for (const auto& o : r.objects) n += o.action == a;
  return n;
}

sync::SyncOptions syncOptionsFor(const AgentConfig& c, const std::string& contextNamespace) {
  sync::SyncOptions s;
  s.inventoryId = c.inventoryId;
  s.inventoryNamespace = c.inventoryNamespace;
  s.defaultNamespace = !c.defaultNamespace.empty() ? c.defaultNamespace
                       : !contextNamespace.empty() ? contextNamespace
                                                   : "default";
  s.driftMode = c.selfHeal ? sync::DriftMode::SelfHeal : sync::DriftMode::ReportOnly;
  s.prune = c.prune;
  s.parallelism = c.kube.parallelism;
  s.healthTimeout = c.healthTimeout;
  s.dependencyTimeout = c.dependencyTimeout;
  return s;
}

ScheduleOptions scheduleOptionsFor(const AgentConfig& c) {
  return ScheduleOptions{c.interval, c.jitter, c.driftInterval, c.retryMin, c.retryMax};
}

}  // namespace

AgentMetrics::AgentMetrics()
    : reconcileDuration(registry.histogram("gitfed_reconcile_duration_seconds",
                                           "Duration of reconcile rounds that synced (render + sync), by resulting phase.",
                                           durationBuckets(), {"phase"})),
      reconciles(registry.counter("gitfed_reconciles_total", "Sync rounds, by resulting phase and reason.",
                                  {"phase", "reason"})),
      lastSuccess(registry.gauge("gitfed_last_success_timestamp_seconds",
                                 "Unix time of the last round that applied its revision without failure.")),
      lastAttempt(registry.gauge("gitfed_last_attempt_timestamp_seconds", "Unix time of the last sync round.")),
      objects(registry.gauge("gitfed_objects", "Desired objects by state after the last sync round (pruned: deleted in it).",
                             {"state"})),
      gitFetchDuration(registry.histogram("gitfed_git_fetch_duration_seconds",
                                          "Duration of source polls (ls-remote, and a fetch when the ref moved), by result.",
                                          durationBuckets(), {"result"})),
      kubeRequests(registry.counter("gitfed_kube_requests_total",
                                    "Kubernetes API calls by verb and HTTP status (200 for success; error: no response).",
                                    {"verb", "code"})),
      leader(registry.gauge("gitfed_leader", "1 when this agent holds the Lease and reconciles, else 0.")),
      sourceStale(registry.gauge("gitfed_source_stale", "1 when the last poll could not read the remote.")),
      statusWrites(registry.counter("gitfed_status_writes_total",
                                    "Reports handed to the status branch, by outcome (Committed, Unchanged, Superseded, Error).",
                                    {"outcome"})),
      info(registry.gauge("gitfed_build_info", "Always 1; the agent's version and cluster.", {"version", "cluster"})),
      phase(registry.gauge("gitfed_phase",
                           "1 for the phase of the last report (Synced, Progressing, Drifted, Failed, Stale), 0 for the others.",
                           {"phase"})),
      revisionBehind(registry.gauge("gitfed_revision_behind",
                                    "1 while the newest revision of the source (as last polled) is not the last applied one.")),
      revisionBehindSince(registry.gauge("gitfed_revision_behind_since_timestamp_seconds",
                                         "Unix time since which the newest revision has not been applied; 0 when it is.")),
      pollInterval(registry.gauge("gitfed_poll_interval_seconds", "How often the source is polled (the interval setting).")),
      driftMode(registry.gauge("gitfed_drift_mode", "1 for the drift mode in use (self-heal or report-only), 0 for the other.",
                               {"mode"})),
      suspended(registry.gauge("gitfed_suspended",
                               "1 while the cluster is suspended (registry entry, ConfigMap gitfed-suspend or --suspend).")),
      residentMemory(registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.")),
      cpuSeconds(registry.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")),
      startTime(registry.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")) {
  startTime.set(processStartTime().value_or(unixSeconds(std::chrono::system_clock::now())));
  registry.onScrape([this] {
    residentMemory.set(residentMemoryBytes());
    cpuSeconds.raiseTo(::gitfed::daemon::cpuSeconds());
  });
}

Agent::Agent(AgentConfig config, AgentParts parts, AgentMetrics& metrics)
    : config_(std::move(config)),
      parts_(std::move(parts)),
      metrics_(metrics),
      progressClient_(*parts_.kube,
                      [this](const std::string&, const std::string&) {
                        lastProgressMs_ = steadyMs(steady_clock::now());
                      }),
      engine_(progressClient_, syncOptionsFor(config_, parts_.contextNamespace)),
      schedule_(scheduleOptionsFor(config_)) {
  metrics_.info.set({parts_.agentVersion, config_.cluster}, 1);
  metrics_.pollInterval.set(std::chrono::duration<double>(config_.interval).count());
  metrics_.driftMode.set({"self-heal"}, config_.selfHeal ? 1 : 0);
  metrics_.driftMode.set({"report-only"}, config_.selfHeal ? 0 : 1);
  metrics_.leader.set(parts_.elector ? 0 : 1);
  effectiveLabels_ = config_.labels;
  if (parts_.events) {
    // About the inventory ConfigMap, in its namespace (README "Events").
    EventSource source;
    source.involved = {"v1", "ConfigMap", config_.inventoryNamespace, "gitfed-inventory-" + config_.inventoryId, ""};
    source.instance = !config_.leader.identity.empty() ? config_.leader.identity : "gitfed-agent";
    events_ = std::make_unique<EventRecorder>(*parts_.events, EventCorrelator(source, kube::systemClock()));
  }
  if (parts_.elector) {
    parts_.elector->onChange = [this](bool leading) {
      metrics_.leader.set(leading ? 1 : 0);
      logEvent(spdlog::level::info, leading ? "leading" : "not leading",
               {{"lease", parts_.elector->options().ns + "/" + parts_.elector->options().name},
                {"identity", parts_.elector->options().identity}});
      {
        std::lock_guard lock(mu_);
        // A new leader starts with a full round.
        if (leading) triggered_ = true;
      }
      cv_.notify_all();
    };
  }
}

Agent::~Agent() {
  stop();
  if (electorThread_.joinable()) electorThread_.join();
  http_.stop();
}

void Agent::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

void Agent::trigger() {
  {
    std::lock_guard lock(mu_);
    triggered_ = true;
  }
  cv_.notify_all();
}

bool Agent::leading() const { return !parts_.elector || parts_.elector->isLeader(); }

bool Agent::healthy() const {
  if (!inStep_) return true;
  auto now = steadyMs(steady_clock::now());
  return now - std::max(stepStartedMs_.load(), lastProgressMs_.load()) < config_.livenessTimeout.count();
}

bool Agent::ready() const {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
  }
  if (leading()) return roundDone_.load();
  // A standby is ready while it is in touch with the API server.
  auto contact = parts_.elector->lastContact();
  return contact && steady_clock::now() - *contact < 2 * config_.leader.leaseDuration + config_.leader.retryPeriod * 3;
}

json Agent::lastReport() const {
  std::lock_guard lock(mu_);
  return lastReportJson_;
}

void Agent::record(const status::ClusterStatus& report, const status::Redactor& redactor) {
  for (auto p : {status::Phase::Synced, status::Phase::Progressing, status::Phase::Drifted, status::Phase::Failed,
                 status::Phase::Stale})
    metrics_.phase.set({status::toString(p)}, p == report.sync.phase ? 1 : 0);
  status::ClusterStatus redacted = report;
  redactor.apply(redacted);
  status::limitSize(redacted);  // redaction may lengthen a value: the bound holds for what is written
  lastReport_ = redacted;
  lastPublishedStale_ = redacted.sync.phase == status::Phase::Stale;
  {
    std::lock_guard lock(mu_);
    lastReportJson_ = status::toJson(redacted);
  }
  if (parts_.status) parts_.status->publish(std::move(redacted), redactor);
}

RoundResult Agent::round(bool triggered) {
  RoundResult result;
  const auto started = steady_clock::now();
  stepStartedMs_ = steadyMs(started);
  inStep_ = true;
  struct StepEnd {
    std::atomic<bool>& flag;
    ~StepEnd() { flag = false; }
  } stepEnd{inStep_};

  ReportContext context;
  context.cluster = config_.cluster;
  context.labels = effectiveLabels_;
  context.url = parts_.source->url();
  context.ref = parts_.source->ref();
  context.agentVersion = parts_.agentVersion;
  context.now = std::chrono::system_clock::now();

  auto poll = parts_.source->poll();
  if (!poll) {
    metrics_.gitFetchDuration.observe({"error"}, std::chrono::duration<double>(steady_clock::now() - started).count());
    metrics_.sourceStale.set(1);
    result.stale = result.noRevision = true;
    result.ok = false;
    result.phase = status::Phase::Stale;
    logEvent(spdlog::level::err, "source not read and no revision cached", {{"error", poll.error().message}});
    context.revision = lastReport_ ? lastReport_->source.revision : "";
    if (!lastPublishedStale_ || lastReport_->sync.message.find(poll.error().message) == std::string::npos)
      record(asStale(lastReport_, context, poll.error().message), status::Redactor{});
    emit(sourceStaleEvent(""), status::Redactor{});
    roundDone_ = true;
    return result;
  }
  const std::string fetchResult = poll->stale ? "stale" : poll->fetched ? "changed" : "unchanged";
  metrics_.gitFetchDuration.observe({fetchResult}, poll->took.count());
  metrics_.sourceStale.set(poll->stale ? 1 : 0);
  result.revision = poll->revision;
  result.stale = poll->stale;
  context.revision = poll->revision;
  if (poll->stale) {
    logEvent(spdlog::level::warn, "source not read; keeping the last revision",
             {{"revision", poll->revision}, {"error", poll->staleReason}});
    emit(sourceStaleEvent(poll->revision), status::Redactor{});
  }

  result.reason = schedule_.decide(started, poll->revision, triggered);
  // Suspended by the ConfigMap: resumed as soon as it is gone.
  if (result.reason == SyncReason::None && suspendedByConfigMap_) {
    std::string warning;
    if (!configMapSuspension(*parts_.kube, config_.inventoryNamespace, warning) && warning.empty())
      result.reason = SyncReason::Resumed;
  }
  if (result.reason == SyncReason::None) {
    // Nothing to sync; report a change of the source's state only.
    if (poll->stale && !lastPublishedStale_ && lastReport_) {
      record(asStale(lastReport_, context, poll->staleReason), status::Redactor{});
    } else if (!poll->stale && lastPublishedStale_ && lastSyncReport_) {
      status::ClusterStatus back = *lastSyncReport_;
      back.sync.lastAttemptAt = context.now;
      record(back, status::Redactor{});
    }
    result.phase = lastReport_ ? lastReport_->sync.phase : status::Phase::Synced;
    result.ok = !lastReport_ || lastReport_->sync.phase != status::Phase::Failed;
    measureLag(poll->revision, context.now);
    roundDone_ = true;
    return result;
  }

  syncRevision(*poll, result.reason, result);
  measureLag(poll->revision, std::chrono::system_clock::now());
  result.seconds = std::chrono::duration<double>(steady_clock::now() - started).count();
  roundDone_ = true;
  return result;
}

status::ClusterStatus Agent::syncRevision(const SourcePoll& poll, SyncReason reason, RoundResult& result) {
  const auto started = steady_clock::now();
  ReportContext context;
  context.cluster = config_.cluster;
  context.url = parts_.source->url();
  context.ref = parts_.source->ref();
  context.revision = poll.revision;
  context.agentVersion = parts_.agentVersion;
  context.now = std::chrono::system_clock::now();
  status::Redactor redactor;
  status::ClusterStatus report;
  json fields = {{"revision", poll.revision}, {"reason", toString(reason)}};

  auto tree = parts_.source->tree(poll.revision);
  std::optional<sync::SyncReport> synced;
  if (!tree) {
    render::Diagnostic d{"", 0, "cannot read revision " + poll.revision + ": " + tree.error().message};
    context.labels = effectiveLabels_;
    report = fromRenderErrors({d}, context, lastSyncReport_);
    emit(renderFailedEvent(poll.revision, {d}), redactor);
  } else {
    render::LoadOptions load;
    load.roots = config_.git.paths;
    auto repo = render::loadRepository(**tree, load);
    if (auto* g = dynamic_cast<git::GitTreeSource*>(tree->get()))
      for (const auto& w : g->warnings()) logEvent(spdlog::level::warn, "source tree", {{"warning", w}});
    learnSecrets(repo, redactor);
    auto rendered = render::renderCluster(std::move(repo), config_.cluster, config_.labels);
    tree->reset();  // the tree's cache is not needed any more
    effectiveLabels_ = rendered.cluster.labels;
    context.labels = effectiveLabels_;
    for (const auto& e : rendered.errors)
      logEvent(spdlog::level::err, "render error",
               {{"file", e.path}, {"line", e.line}, {"tenant", e.tenant}, {"error", redactor.scrub(e.message)},
                {"revision", poll.revision}});
    if (!rendered.platformOk()) {
      report = fromRenderErrors(rendered.errors, context, lastSyncReport_);
      emit(renderFailedEvent(poll.revision, rendered.errors), redactor);
    } else {
      // Errors only in tenants' files: the rest is synced (the engine
      // reports them, and keeps those tenants' objects).
      for (const auto& o : rendered.objects) redactor.learn(o.value);
      std::string warning;
      auto suspension = suspensionOf(rendered, config_.suspend, *parts_.kube, config_.inventoryNamespace, warning);
      if (!warning.empty()) logEvent(spdlog::level::warn, "suspension unknown", {{"warning", warning}});
      // The round that finds the ConfigMap gone is named for it, unless a new
      // revision or a trigger started it (agent/daemon/README.md, "Suspension").
      if (suspendedByConfigMap_ && !suspension &&
          (reason == SyncReason::DriftCheck || reason == SyncReason::Retry || reason == SyncReason::Unsettled)) {
        reason = SyncReason::Resumed;
        fields["reason"] = toString(reason);
        result.reason = reason;
      }
      suspendedByConfigMap_ = suspension && suspension->fromConfigMap;
      metrics_.suspended.set(suspension ? 1 : 0);
      if (suspension) {
        // A dry run: what resuming would change; nothing applied, healed or pruned.
        synced = engine_.preview(std::move(rendered));
        report = fromSync(*synced, context, lastSyncReport_);
        report.sync.appliedRevision = lastSyncReport_ ? lastSyncReport_->sync.appliedRevision : std::string();
        report.sync.lastSuccessAt = lastSyncReport_ ? lastSyncReport_->sync.lastSuccessAt : std::nullopt;
        report.sync.message = suspendedMessage(*suspension) + "; " + synced->message;
        report.sync.suspended = status::ClusterStatus::Sync::Suspended{suspension->by, suspension->reason};
        fields["suspendedBy"] = suspension->by;
      } else {
        synced = engine_.sync(std::move(rendered));
        report = fromSync(*synced, context, lastSyncReport_);
        emit(syncEvent(poll.revision, *synced, config_.selfHeal), redactor);
      }
      // One line per group of objects failing with the same error, not one per object.
      for (const auto& g : sync::groupErrors(synced->objects)) {
        const auto& first = synced->objects[g.members.front()];
        if (g.count == 1) {
          logEvent(spdlog::level::err, "object failed",
                   {{"object", first.ref.id()}, {"tenant", first.tenant}, {"error", redactor.scrub(first.error)}});
          continue;
        }
        json examples = json::array();
        for (std::size_t k = 0; k < g.members.size() && k < sync::kGroupExamples; ++k)
          examples.push_back(synced->objects[g.members[k]].ref.id());
        logEvent(spdlog::level::err, "objects failed",
                 {{"count", g.count}, {"objects", std::move(examples)}, {"tenant", g.tenant},
                  {"error", redactor.scrub(g.message)}});
      }
      fields["applied"] = synced->stats.applies;
      fields["created"] = countAction(*synced, sync::Action::Created);
      fields["updated"] = countAction(*synced, sync::Action::Updated);
      fields["healed"] = countAction(*synced, sync::Action::Healed);
      fields["pruned"] = synced->summary.pruned;
      fields["drifted"] = synced->summary.drifted;
      fields["requests"] = synced->stats.lists + synced->stats.gets + synced->stats.applies + synced->stats.dryRuns +
                           synced->stats.deletes + synced->stats.inventoryWrites;
    }
  }
  result.synced = true;
  result.ok = report.sync.phase != status::Phase::Failed;
  result.phase = report.sync.phase;
  // Objects still rolling out: the schedule follows them up.
  const std::size_t unsettled = report.sync.phase == status::Phase::Progressing
                                    ? std::max<std::size_t>(1, report.summary.progressing + report.objects.size())
                                    : 0;
  schedule_.synced(steady_clock::now(), poll.revision, result.ok, unsettled);
  lastSyncReport_ = report;
  if (poll.stale) report = asStale(report, context, poll.staleReason), result.phase = status::Phase::Stale;

  const double seconds = std::chrono::duration<double>(steady_clock::now() - started).count();
  const std::string phase = status::toString(report.sync.phase);
  metrics_.reconcileDuration.observe({phase}, seconds);
  metrics_.reconciles.inc({phase, toString(reason)});
  metrics_.lastAttempt.set(unixSeconds(context.now));
  if (result.ok) metrics_.lastSuccess.set(unixSeconds(context.now));
  metrics_.objects.clear();
  const auto& s = report.summary;
  metrics_.objects.set({"Synced"}, static_cast<double>(s.synced));
  metrics_.objects.set({"Drifted"}, static_cast<double>(s.drifted));
  metrics_.objects.set({"Missing"}, static_cast<double>(s.missing));
  metrics_.objects.set({"Failed"}, static_cast<double>(s.failed));
  metrics_.objects.set({"Progressing"}, static_cast<double>(s.progressing));
  metrics_.objects.set({"Pruned"}, static_cast<double>(s.pruned));

  fields["phase"] = phase;
  fields["objects"] = s.objects;
  fields["errors"] = report.sync.errors.size();
  fields["seconds"] = std::round(seconds * 1000) / 1000;
  if (!report.sync.message.empty()) fields["message"] = redactor.scrub(report.sync.message);
  logEvent(result.ok ? spdlog::level::info : spdlog::level::warn, "reconciled", fields);
  record(report, redactor);
  // Give what the round allocated back to the system (objects, lists, trees).
  ::malloc_trim(0);
  return report;
}

void Agent::emit(std::optional<RoundEvent> event, const status::Redactor& redactor) {
  if (!events_ || !event) return;
  event->message = redactor.scrub(std::move(event->message));  // built without Secret values; scrubbed all the same
  events_->record(*event);
}

void Agent::measureLag(const std::string& newest, std::chrono::system_clock::time_point now) {
  lag_.update(newest, lastSyncReport_ ? lastSyncReport_->sync.appliedRevision : std::string(), now);
  metrics_.revisionBehind.set(lag_.behind() ? 1 : 0);
  metrics_.revisionBehindSince.set(lag_.since() ? unixSeconds(*lag_.since()) : 0);
}

std::string Agent::effectiveLeaseNamespace() const {
  return parts_.elector ? parts_.elector->options().ns : std::string();
}

void Agent::setUpHttp() {
  const auto text = "text/plain; charset=utf-8";
  http_.route("GET", "/healthz", [this, text](const HttpRequest&) {
    return healthy() ? HttpResponse{200, text, "ok\n"} : HttpResponse{503, text, "reconcile loop stuck\n"};
  });
  http_.route("GET", "/readyz", [this, text](const HttpRequest&) {
    return ready() ? HttpResponse{200, text, "ok\n"} : HttpResponse{503, text, "not ready\n"};
  });
  http_.route("GET", "/metrics", [this](const HttpRequest&) {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.registry.render()};
  });
  http_.route("GET", "/status", [this](const HttpRequest&) {
    json body = {{"leader", leading()},
                 {"identity", parts_.elector ? parts_.elector->options().identity : ""},
                 {"holder", parts_.elector ? parts_.elector->observedHolder() : ""},
                 {"report", lastReport()}};
    return HttpResponse{200, "application/json", body.dump(2) + "\n"};
  });
  http_.route("POST", "/trigger", [this](const HttpRequest&) {
    if (!leading()) {
      json body = {{"triggered", false},
                   {"reason", "not the leader"},
                   {"holder", parts_.elector ? parts_.elector->observedHolder() : ""}};
      return HttpResponse{503, "application/json", body.dump() + "\n"};
    }
    trigger();
    logEvent(spdlog::level::info, "trigger received");
    return HttpResponse{202, "application/json", json{{"triggered", true}}.dump() + "\n"};
  });
}

bool Agent::waitUntil(SteadyTime deadline) {
  std::unique_lock lock(mu_);
  const bool wasLeading = leading();
  cv_.wait_until(lock, deadline, [&] { return stopping_ || triggered_ || leading() != wasLeading; });
  return stopping_;
}

int Agent::runOnce(std::chrono::milliseconds flushTimeout) {
  RoundResult r;
  try {
    r = round(true);
  } catch (const std::exception& e) {
    logEvent(spdlog::level::critical, "round failed", {{"error", e.what()}});
    return 1;
  }
  if (events_ && !events_->flush(std::chrono::seconds(5)))
    logEvent(spdlog::level::warn, "events not all written in time");
  // A source that cannot be read is most likely the status branch's server
  // too: do not wait long for it.
  if (r.stale) {
    if (parts_.status) parts_.status->flush(std::min(flushTimeout, std::chrono::milliseconds(5000)));
    return 3;
  }
  bool written = !parts_.status || parts_.status->flush(flushTimeout);
  if (!r.ok) return 1;
  if (!written) {
    logEvent(spdlog::level::err, "status report not written in time", {{"timeoutMs", flushTimeout.count()}});
    return 4;
  }
  return 0;
}

int Agent::run() {
  if (config_.httpAddress != "off") {
    setUpHttp();
    if (auto r = http_.start(config_.httpAddress); !r) {
      logEvent(spdlog::level::critical, "cannot serve HTTP", {{"error", r.error().message}});
      return 2;
    }
    logEvent(spdlog::level::info, "serving HTTP", {{"address", config_.httpAddress}, {"port", http_.port()}});
  }
  if (parts_.elector) {
    electorThread_ = std::thread([this] {
      parts_.elector->run(
          [this] {
            std::lock_guard lock(mu_);
            return stopping_;
          },
          [this](std::chrono::milliseconds d) {
            std::unique_lock lock(mu_);
            return cv_.wait_for(lock, d, [&] { return stopping_; });
          });
    });
  }
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) break;
      if (!leading()) {
        // A standby waits for the Lease.
        cv_.wait(lock, [&] { return stopping_ || leading(); });
        continue;
      }
    }
    bool triggered = false;
    {
      std::lock_guard lock(mu_);
      triggered = std::exchange(triggered_, false);
    }
    try {
      round(triggered);
    } catch (const std::exception& e) {
      // A bug, not a condition of the world: log it and carry on after a pause.
      logEvent(spdlog::level::critical, "round failed", {{"error", e.what()}});
      schedule_.synced(steady_clock::now(), schedule_.lastRevision(), false);
    }
    if (waitUntil(schedule_.nextPoll(steady_clock::now()))) break;
  }
  logEvent(spdlog::level::info, "stopping");
  // The Lease first, so a standby takes over at once; then the last report
  // (bounded: the pod's grace period is 30 s).
  if (electorThread_.joinable()) electorThread_.join();
  if (parts_.elector) parts_.elector->release();
  if (parts_.status && !parts_.status->flush(std::chrono::seconds(5)))
    logEvent(spdlog::level::warn, "the last report may not be on the status branch");
  if (events_ && !events_->flush(std::chrono::seconds(2))) logEvent(spdlog::level::warn, "events not all written in time");
  http_.stop();
  logEvent(spdlog::level::info, "stopped");
  return 0;
}

}  // namespace gitfed::daemon
