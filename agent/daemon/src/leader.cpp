#include "gitfed/daemon/leader.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <spdlog/spdlog.h>

namespace gitfed::daemon {

using nlohmann::json;
using std::chrono::milliseconds;

std::string formatMicroTime(std::chrono::system_clock::time_point t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us % 1'000'000));
  return buf;
}

std::string defaultIdentity() {
  std::string base;
  if (const char* pod = std::getenv("POD_NAME"); pod && *pod) {
    base = pod;
  } else {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) base = host;
  }
  if (base.empty()) base = "gitfed";
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(rd()));
  return base + "_" + suffix;
}

LeaderElector::LeaderElector(kube::KubeClient& client, LeaseOptions options, std::shared_ptr<kube::Clock> clock,
                             std::uint64_t seed)
    : client_(client), options_(std::move(options)), clock_(std::move(clock)), rng_(seed) {}

std::string LeaderElector::path(bool item) const {
  std::string p = "/apis/coordination.k8s.io/v1/namespaces/" + options_.ns + "/leases";
  return item ? p + "/" + options_.name : p;
}

json LeaderElector::leaseObject(const json& spec, const json* previous) const {
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", options_.name}, {"namespace", options_.ns}}},
                {"spec", spec}};
  // The update carries the resourceVersion it read: optimistic concurrency.
  if (previous && previous->contains("metadata")) {
    const auto& md = (*previous)["metadata"];
    if (md.contains("resourceVersion")) lease["metadata"]["resourceVersion"] = md["resourceVersion"];
    if (md.contains("labels")) lease["metadata"]["labels"] = md["labels"];
    if (md.contains("annotations")) lease["metadata"]["annotations"] = md["annotations"];
  }
  return lease;
}

void LeaderElector::setLeader(bool leading) {
  if (leader_.exchange(leading) == leading) return;
  if (onChange) onChange(leading);
}

bool LeaderElector::tryAcquireOrRenew() {
  const auto wallNow = clock_->wallNow();
  const auto now = clock_->now();
  const std::string nowText = formatMicroTime(wallNow);
  const long long durationSeconds = std::max<long long>(1, (options_.leaseDuration.count() + 999) / 1000);

  othersExpiry_.reset();
  auto current = client_.request("GET", path(true));
  if (!current) {
    if (!current.error().notFound()) {
      spdlog::warn("leader election: reading Lease {}/{}: {}", options_.ns, options_.name, current.error().format());
      return false;
    }
    json spec = {{"holderIdentity", options_.identity},
                 {"leaseDurationSeconds", durationSeconds},
                 {"acquireTime", nowText},
                 {"renewTime", nowText},
                 {"leaseTransitions", 0}};
    json body = leaseObject(spec, nullptr);
    auto made = client_.request("POST", path(false), &body);
    if (!made) {
      spdlog::info("leader election: creating Lease {}/{}: {}", options_.ns, options_.name, made.error().format());
      return false;
    }
    observedObject_ = *made;
    observedSpec_ = made->value("spec", json::object());
    observedTime_ = now;
    {
      std::lock_guard lock(mu_);
      holder_ = options_.identity;
      lastContact_ = now;
    }
    return true;
  }
  json spec = current->value("spec", json::object());
  if (spec != observedSpec_) {
    observedSpec_ = spec;
    observedTime_ = now;
  }
  observedObject_ = *current;
  const std::string holder = spec.value("holderIdentity", "");
  {
    std::lock_guard lock(mu_);
    holder_ = holder;
    lastContact_ = now;
  }
  // The duration the holder announced; client-go uses it for expiry.
  long long announced = spec.value("leaseDurationSeconds", durationSeconds);
  if (!holder.empty() && holder != options_.identity && observedTime_ + std::chrono::seconds(announced) > now) {
    othersExpiry_ = observedTime_ + std::chrono::seconds(announced);
    return false;  // held by another, not expired
  }

  json next = {{"holderIdentity", options_.identity},
               {"leaseDurationSeconds", durationSeconds},
               {"renewTime", nowText}};
  const long long transitions = spec.value("leaseTransitions", 0LL);
  if (holder == options_.identity) {
    next["acquireTime"] = spec.value("acquireTime", nowText);
    next["leaseTransitions"] = transitions;
  } else {
    next["acquireTime"] = nowText;
    next["leaseTransitions"] = transitions + 1;
  }
  json body = leaseObject(next, &*current);
  auto updated = client_.request("PUT", path(true), &body);
  if (!updated) {
    if (updated.error().status == 409)
      spdlog::debug("leader election: Lease {}/{} changed under us", options_.ns, options_.name);
    else
      spdlog::warn("leader election: updating Lease {}/{}: {}", options_.ns, options_.name, updated.error().format());
    return false;
  }
  observedObject_ = *updated;
  observedSpec_ = updated->value("spec", json::object());
  observedTime_ = now;
  std::lock_guard lock(mu_);
  holder_ = options_.identity;
  return true;
}

milliseconds LeaderElector::step() {
  const auto now = clock_->now();
  if (isLeader()) {
    if (tryAcquireOrRenew()) {
      lastRenew_ = clock_->now();
    } else if (now - lastRenew_ >= options_.renewDeadline) {
      spdlog::warn("leader election: Lease {}/{} not renewed for {} ms: no longer leading", options_.ns, options_.name,
                   options_.renewDeadline.count());
      setLeader(false);
    }
    return options_.retryPeriod;
  }
  if (tryAcquireOrRenew()) {
    lastRenew_ = clock_->now();
    spdlog::info("leader election: acquired Lease {}/{} as {}", options_.ns, options_.name, options_.identity);
    setLeader(true);
    return options_.retryPeriod;
  }
  if (othersExpiry_) {
    // A standby: read often enough to see renewals promptly, and be there
    // when the Lease expires.
    std::uniform_real_distribution<double> jitter(0.0, 0.2);
    const double half = static_cast<double>(options_.retryPeriod.count()) / 2.0;
    auto poll = milliseconds(static_cast<long long>(half + jitter(rng_) * half));
    auto untilExpiry = std::chrono::duration_cast<milliseconds>(*othersExpiry_ - clock_->now()) + milliseconds(1);
    return std::max(milliseconds(1), std::min(poll, untilExpiry));
  }
  // client-go: wait.JitterUntil(..., RetryPeriod, 1.2, ...).
  std::uniform_real_distribution<double> jitter(0.0, 1.2);
  return milliseconds(options_.retryPeriod.count() +
                      static_cast<long long>(jitter(rng_) * static_cast<double>(options_.retryPeriod.count())));
}

void LeaderElector::run(const std::function<bool()>& stop, const std::function<bool(milliseconds)>& wait) {
  while (!stop()) {
    milliseconds d{0};
    try {
      d = step();
    } catch (const std::exception& e) {
      spdlog::error("leader election: {}", e.what());
      d = options_.retryPeriod;
    }
    if (wait(d)) break;
  }
}

void LeaderElector::release() {
  if (!isLeader()) return;
  setLeader(false);
  const std::string nowText = formatMicroTime(clock_->wallNow());
  json spec = {{"holderIdentity", ""},
               {"leaseDurationSeconds", 1},
               {"acquireTime", nowText},
               {"renewTime", nowText},
               {"leaseTransitions", observedSpec_.value("leaseTransitions", 0LL)}};
  json body = leaseObject(spec, &observedObject_);
  auto r = client_.request("PUT", path(true), &body);
  if (!r)
    spdlog::warn("leader election: releasing Lease {}/{}: {}", options_.ns, options_.name, r.error().format());
  else
    spdlog::info("leader election: released Lease {}/{}", options_.ns, options_.name);
}

std::string LeaderElector::observedHolder() const {
  std::lock_guard lock(mu_);
  return holder_;
}

std::optional<std::chrono::steady_clock::time_point> LeaderElector::lastContact() const {
  std::lock_guard lock(mu_);
  return lastContact_;
}

}  // namespace gitfed::daemon
