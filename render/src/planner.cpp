#include "gitfed/render/planner.h"

#include <algorithm>
#include <numeric>

namespace gitfed::render {

std::uint32_t fnv1Hash32(std::string_view a, std::string_view b) {
  std::uint32_t h = 2166136261u;
  for (std::string_view part : {a, b})
    for (char c : part) {
      h *= 16777619u;
      h ^= static_cast<unsigned char>(c);
    }
  return h;
}

IndexedPlan planReplicasIndexed(const std::vector<const std::string*>& names,
                                const std::vector<std::optional<ClusterPreference>>& preferences,
                                std::int64_t totalReplicas, bool rebalance, std::string_view key,
                                const std::vector<std::int64_t>& currentReplicas,
                                const std::vector<std::int64_t>& estimatedCapacity) {
  const std::size_t n = names.size();
  IndexedPlan out{std::vector<std::int64_t>(n, 0), std::vector<std::int64_t>(n, 0)};
  auto& plan = out.replicas;
  auto capacity = [&](std::size_t i) { return i < estimatedCapacity.size() ? estimatedCapacity[i] : -1; };
  auto current = [&](std::size_t i) { return i < currentReplicas.size() ? currentReplicas[i] : -1; };
  // Weight descending, then hash ascending (KubeFed's byWeight). gitfed adds
  // the preferred-affinity score between them (0 when absent) and the name as
  // the last key, so an exact hash tie is ordered too (Go's sort is not stable).
  // The keys are copied next to each other so the sort reads no pointer but
  // the name, and that only on a full tie.
  struct Rank {
    std::int64_t weight;
    std::int64_t score;
    std::uint32_t hash;
    std::uint32_t index;
  };
  std::vector<Rank> ranks;
  ranks.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    if (preferences[i])
      ranks.push_back({preferences[i]->weight, preferences[i]->preferredScore, fnv1Hash32(*names[i], key),
                       static_cast<std::uint32_t>(i)});
  std::sort(ranks.begin(), ranks.end(), [&](const Rank& a, const Rank& b) {
    if (a.weight != b.weight) return a.weight > b.weight;
    if (a.score != b.score) return a.score > b.score;
    if (a.hash != b.hash) return a.hash < b.hash;
    return *names[a.index] < *names[b.index];
  });
  std::vector<std::size_t> order;
  order.reserve(ranks.size());
  for (const Rank& r : ranks) order.push_back(r.index);

  std::int64_t remaining = totalReplicas;
  for (std::size_t i : order) {
    std::int64_t m = std::min(preferences[i]->minReplicas, remaining);
    if (capacity(i) >= 0) m = std::min(m, capacity(i));
    remaining -= m;
    plan[i] = m;
  }

  std::vector<std::int64_t> preallocated(n, 0);
  if (!rebalance) {
    for (std::size_t i : order) {
      std::int64_t planned = plan[i];
      if (current(i) < 0 || current(i) <= planned) continue;
      std::int64_t target = current(i);
      if (preferences[i]->maxReplicas) target = std::min(*preferences[i]->maxReplicas, target);
      if (capacity(i) >= 0) target = std::min(capacity(i), target);
      std::int64_t extra = std::max<std::int64_t>(0, std::min(target - planned, remaining));
      remaining -= extra;
      preallocated[i] = extra;
      plan[i] = extra + planned;
    }
  }

  std::vector<std::int64_t> overflow(n, 0);
  std::vector<std::size_t> active = order, next;
  for (bool modified = true; modified && remaining > 0;) {
    modified = false;
    std::int64_t weightSum = 0;
    for (std::size_t i : active) weightSum += preferences[i]->weight;
    next.clear();
    const std::int64_t distribute = remaining;
    for (std::size_t i : active) {
      if (weightSum <= 0) break;
      const ClusterPreference& p = *preferences[i];
      std::int64_t start = plan[i];
      // The share of this pass, rounded up: earlier clusters take it first.
      std::int64_t extra = std::min((distribute * p.weight + weightSum - 1) / weightSum, remaining);
      std::int64_t used = std::min(extra, preallocated[i]);
      preallocated[i] -= used;
      extra -= used;
      if (used > 0) modified = true;
      std::int64_t total = start + extra;
      bool full = false;
      if (p.maxReplicas && total > *p.maxReplicas) {
        total = *p.maxReplicas;
        full = true;
      }
      if (capacity(i) >= 0 && total > capacity(i)) {
        overflow[i] = total - capacity(i);
        total = capacity(i);
        full = true;
      }
      if (!full) next.push_back(i);
      remaining -= total - start;
      plan[i] = total;
      if (total > start) modified = true;
    }
    std::swap(active, next);
  }
  // rebalance=false: overflow only for replicas that could not be placed anywhere.
  for (std::size_t i = 0; i < n; ++i) out.overflow[i] = rebalance ? overflow[i] : std::max<std::int64_t>(0, std::min(overflow[i], remaining));
  return out;
}

std::int64_t planShareIndexed(const std::vector<const std::string*>& names,
                              const std::vector<std::optional<ClusterPreference>>& preferences,
                              std::int64_t totalReplicas, std::string_view key, std::size_t self) {
  const std::size_t n = names.size();
  if (self >= n || !preferences[self]) return 0;
  std::int64_t sumMin = 0;
  for (const auto& p : preferences)
    if (p) {
      if (p->weight < 0 || p->minReplicas < 0 || (p->maxReplicas && *p->maxReplicas < p->minReplicas))
        return planReplicasIndexed(names, preferences, totalReplicas, false, key).replicas[self];
      sumMin += p->minReplicas;
    }
  const ClusterPreference& me = *preferences[self];
  std::optional<std::uint32_t> myHash;
  // Does cluster j come before `self` in the planner's order?
  auto before = [&](std::size_t j) {
    const ClusterPreference& p = *preferences[j];
    if (p.weight != me.weight) return p.weight > me.weight;
    if (p.preferredScore != me.preferredScore) return p.preferredScore > me.preferredScore;
    if (!myHash) myHash = fnv1Hash32(*names[self], key);
    std::uint32_t h = fnv1Hash32(*names[j], key);
    if (h != *myHash) return h < *myHash;
    return *names[j] < *names[self];
  };
  // Minimums, in order: when they exhaust the total, a cluster gets its minimum
  // out of what the clusters before it left, and nothing is distributed after.
  if (sumMin >= totalReplicas) {
    std::int64_t taken = 0;
    for (std::size_t j = 0; j < n; ++j)
      if (j != self && preferences[j] && before(j)) taken += preferences[j]->minReplicas;
    return std::min(me.minReplicas, std::max<std::int64_t>(0, totalReplicas - taken));
  }
  std::vector<std::int64_t> plan(n, 0), share(n, 0), rounded(n, 0);
  std::vector<std::size_t> active, next;
  active.reserve(n);
  for (std::size_t j = 0; j < n; ++j)
    if (preferences[j]) {
      plan[j] = preferences[j]->minReplicas;
      active.push_back(j);
    }
  std::int64_t remaining = totalReplicas - sumMin;
  while (remaining > 0) {
    std::int64_t weightSum = 0;
    for (std::size_t j : active) weightSum += preferences[j]->weight;
    if (weightSum <= 0) break;
    const std::int64_t distribute = remaining;
    std::int64_t sum = 0;
    bool selfActive = false;
    std::int64_t lastWeight = -1, lastRounded = 0;  // one division per run of equal weights
    for (std::size_t j : active) {
      const ClusterPreference& p = *preferences[j];
      if (p.weight != lastWeight) {
        lastWeight = p.weight;
        lastRounded = (distribute * p.weight + weightSum - 1) / weightSum;
      }
      rounded[j] = lastRounded;
      std::int64_t s = lastRounded;
      if (p.maxReplicas) s = std::min(s, *p.maxReplicas - plan[j]);
      share[j] = s;
      sum += s;
      selfActive = selfActive || j == self;
    }
    if (sum >= distribute) {  // this pass runs out: the order decides
      if (!selfActive) return plan[self];
      std::int64_t taken = 0;
      for (std::size_t j : active)
        if (j != self && before(j)) taken += share[j];
      return plan[self] + std::max<std::int64_t>(0, std::min(share[self], distribute - taken));
    }
    next.clear();
    bool modified = false;
    for (std::size_t j : active) {
      const ClusterPreference& p = *preferences[j];
      bool full = p.maxReplicas && plan[j] + rounded[j] > *p.maxReplicas;
      plan[j] += share[j];
      modified = modified || share[j] > 0;
      if (!full) next.push_back(j);
    }
    remaining -= sum;
    std::swap(active, next);
    if (!modified) break;
  }
  return plan[self];
}

ReplicaPlan planReplicas(const PlannerInput& in) {
  std::vector<const std::string*> names;
  std::vector<std::optional<ClusterPreference>> prefs;
  std::vector<std::int64_t> current, capacity;
  auto star = in.preferences.find("*");
  for (const auto& cluster : in.availableClusters) {
    names.push_back(&cluster);
    auto it = in.preferences.find(cluster);
    if (it == in.preferences.end()) it = star;  // not merged with "*": an entry stands alone
    prefs.push_back(it == in.preferences.end() ? std::nullopt : std::optional(it->second));
    auto c = in.currentReplicas.find(cluster);
    current.push_back(c == in.currentReplicas.end() ? -1 : c->second);
    auto e = in.estimatedCapacity.find(cluster);
    capacity.push_back(e == in.estimatedCapacity.end() ? -1 : e->second);
  }
  auto plan = planReplicasIndexed(names, prefs, in.totalReplicas, in.rebalance, in.key, current, capacity);
  ReplicaPlan out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out.replicas[*names[i]] = plan.replicas[i];
    if (plan.overflow[i] > 0) out.overflow[*names[i]] = plan.overflow[i];
  }
  return out;
}

}  // namespace gitfed::render
