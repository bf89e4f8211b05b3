#pragma once
// LeaderElector: one active agent per cluster, on a coordination.k8s.io/v1
// Lease, the way client-go's leaderelection package does it:
//
// - a candidate takes the Lease when it is free (no holder, or released) or
//   expired; expiry is judged on the candidate's own monotonic clock,
//   leaseDuration after it last saw the record change, never from the
//   timestamps in it (no clock skew);
// - while another agent holds it, a standby reads it every retryPeriod/2
//   (jittered by up to 20%), so that it sees the holder's last renewal at most
//   that late, and its next attempt is never later than the moment the Lease
//   expires: a dead leader is replaced leaseDuration + ~1 s after its last
//   renewal (client-go reads every retryPeriod jittered by up to 1.2x and
//   may take up to leaseDuration + 2 x 2.2 x retryPeriod). Otherwise (no
//   Lease, errors) a candidate retries every retryPeriod jittered by 1.2x;
// - every write is an update with the resourceVersion it read, so two
//   candidates cannot both win (the loser gets 409 Conflict);
// - the leader renews every retryPeriod; when no renewal succeeded for
//   renewDeadline it stops leading (leaseDuration > renewDeadline leaves the
//   margin in which no other agent can have taken over);
// - release() (on SIGTERM) writes an empty holder with a 1 s duration, so a
//   standby takes over at its next attempt instead of after leaseDuration.
//
// isLeader() is thread-safe (an atomic); step(), run() and release() are
// called from one thread (the elector's own), onChange from that thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "gitfed/kube/client.h"
#include "gitfed/kube/clock.h"

namespace gitfed::daemon {

struct LeaseOptions {
  std::string name;
  std::string ns;
  std::string identity;
  std::chrono::milliseconds leaseDuration{15'000};
  std::chrono::milliseconds renewDeadline{10'000};
  std::chrono::milliseconds retryPeriod{2'000};
};

class LeaderElector {
 public:
  LeaderElector(kube::KubeClient& client, LeaseOptions options,
                std::shared_ptr<kube::Clock> clock = kube::systemClock(), std::uint64_t seed = std::random_device{}());

  // Called with true when this agent starts leading, false when it stops.
  std::function<void(bool leading)> onChange;

  // One attempt to take or renew the Lease; true when this agent holds it afterwards.
  bool tryAcquireOrRenew();

  // One step of the election loop (an attempt and its consequences); returns
  // how long to wait before the next step.
  std::chrono::milliseconds step();

  // Steps until `stop` returns true; `wait(d)` sleeps up to d and returns
  // early (true) when stopping.
  void run(const std::function<bool()>& stop, const std::function<bool(std::chrono::milliseconds)>& wait);

  // Gives the Lease up if held (and stops leading). Best effort: one update.
  void release();

  bool isLeader() const { return leader_.load(); }
  // The holder the last read saw ("" when none), and when a read last succeeded.
  std::string observedHolder() const;
  std::optional<std::chrono::steady_clock::time_point> lastContact() const;
  const LeaseOptions& options() const { return options_; }

 private:
  std::string path(bool item) const;
  nlohmann::json leaseObject(const nlohmann::json& spec, const nlohmann::json* previous) const;
  void setLeader(bool leading);

  kube::KubeClient& client_;
  LeaseOptions options_;
  std::shared_ptr<kube::Clock> clock_;
  std::mt19937_64 rng_;
  std::atomic<bool> leader_{false};

  nlohmann::json observedSpec_;      // the record as last read or written
  nlohmann::json observedObject_;    // the whole Lease (for its resourceVersion)
  std::chrono::steady_clock::time_point observedTime_{};
  // When the Lease held by another agent expires (observedTime_ + its
  // announced duration); unset when it is free, ours, or could not be read.
  std::optional<std::chrono::steady_clock::time_point> othersExpiry_;
  std::chrono::steady_clock::time_point lastRenew_{};
  mutable std::mutex mu_;  // guards the two below (read by other threads)
  std::string holder_;
  std::optional<std::chrono::steady_clock::time_point> lastContact_;
};

// "2026-11-21T10:00:00.123456Z": the Lease's MicroTime.
std::string formatMicroTime(std::chrono::system_clock::time_point t);

// $POD_NAME or the host name, "_" and 8 random hex digits.
std::string defaultIdentity();

}  // namespace gitfed::daemon
