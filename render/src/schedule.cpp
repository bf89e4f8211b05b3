#include "gitfed/render/schedule.h"

#include <algorithm>
#include <array>
#include <limits>
#include <span>
#include <type_traits>

namespace gitfed::render {
namespace {

using nlohmann::json;

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

// Where a message points: a string, or a function that makes it (so that a
// document without errors builds no message).
template <class Where>
std::string place(const Where& where) {
  if constexpr (std::is_invocable_v<const Where&>)
    return where();
  else
    return std::string(where);
}

// Unknown fields are errors: a typo must not silently change a plan.
template <class Where>
Result<void> onlyFields(const json& object, std::span<const std::string_view> allowed, const Where& where) {
  if (!object.is_object()) return fail(place(where) + " must be a mapping");
  for (const auto& [field, v] : object.items())
    if (std::find(allowed.begin(), allowed.end(), field) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return fail(place(where) + ": unknown field \"" + field + "\" (expected " + list + ")");
    }
  return {};
}
template <class Where>
Result<void> onlyFields(const json& object, std::initializer_list<std::string_view> allowed, const Where& where) {
  return onlyFields(object, std::span<const std::string_view>(allowed.begin(), allowed.size()), where);
}

template <class Where>
Result<std::int64_t> integer(const json& v, const Where& where, std::int64_t min, std::int64_t max) {
  if (!v.is_number_integer()) return fail(place(where) + " must be an integer");
  std::int64_t n = v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max) ? max + 1 : v.get<std::int64_t>();
  if (n < min) return fail(place(where) + " must be at least " + std::to_string(min) + ", not " + std::to_string(n));
  if (n > max) return fail(place(where) + " must be at most " + std::to_string(max));
  return n;
}

template <class Where>
Result<bool> boolean(const json& v, const Where& where) {
  if (!v.is_boolean()) return fail(place(where) + " must be true or false");
  return v.get<bool>();
}

// A NodeSelectorTerm with clusters as nodes: matchExpressions only.
Result<Selector> term(const json& t, const std::string& where) {
  if (auto r = onlyFields(t, {"matchExpressions"}, where); !r) return std::unexpected(r.error());
  const json* e = member(t, "matchExpressions");
  if (!e || !e->is_array() || e->empty()) return fail(where + ".matchExpressions must be a non-empty list");
  auto s = selectorFromJson(json{{"matchExpressions", *e}});
  if (!s) return fail(where + ": " + s.error().message);
  return s;
}

}  // namespace

bool ClusterAffinity::allows(const Labels& labels) const {
  return required.empty() || std::ranges::any_of(required, [&](const Selector& s) { return s.matches(labels); });
}

std::int64_t ClusterAffinity::score(const Labels& labels) const {
  std::int64_t sum = 0;
  for (const auto& p : preferred)
    if (p.preference.matches(labels)) sum += p.weight;
  return sum;
}

std::string SpreadConstraint::describe() const {
  return "maxSkew " + std::to_string(maxSkew) + " over topologyKey " + topologyKey + ", " +
         (doNotSchedule ? "DoNotSchedule" : "ScheduleAnyway");
}

Result<ClusterAffinity> parseClusterAffinity(const json& a, const std::string& where) {
  constexpr const char* kRequired = "requiredDuringSchedulingIgnoredDuringExecution";
  constexpr const char* kPreferred = "preferredDuringSchedulingIgnoredDuringExecution";
  if (auto r = onlyFields(a, {kRequired, kPreferred}, where); !r) return std::unexpected(r.error());
  ClusterAffinity out;
  if (const json* req = member(a, kRequired)) {
    std::string at = where + "." + kRequired;
    if (auto r = onlyFields(*req, {"clusterSelectorTerms"}, at); !r) return std::unexpected(r.error());
    const json* terms = member(*req, "clusterSelectorTerms");
    if (!terms || !terms->is_array() || terms->empty()) return fail(at + ".clusterSelectorTerms must be a non-empty list");
    for (std::size_t i = 0; i < terms->size(); ++i) {
      auto t = term((*terms)[i], at + ".clusterSelectorTerms[" + std::to_string(i) + "]");
      if (!t) return std::unexpected(t.error());
      out.required.push_back(std::move(*t));
    }
  }
  if (const json* pref = member(a, kPreferred)) {
    std::string at = where + "." + kPreferred;
    if (!pref->is_array()) return fail(at + " must be a list");
    for (std::size_t i = 0; i < pref->size(); ++i) {
      std::string item = at + "[" + std::to_string(i) + "]";
      const json& p = (*pref)[i];
      if (auto r = onlyFields(p, {"weight", "preference"}, item); !r) return std::unexpected(r.error());
      const json* weight = member(p, "weight");
      if (!weight) return fail(item + ".weight is missing (1-100)");
      auto w = integer(*weight, item + ".weight", 1, 100);
      if (!w) return std::unexpected(w.error());
      const json* preference = member(p, "preference");
      if (!preference) return fail(item + ".preference is missing");
      auto t = term(*preference, item + ".preference");
      if (!t) return std::unexpected(t.error());
      out.preferred.push_back({*w, std::move(*t)});
    }
  }
  return out;
}

Result<std::vector<SpreadConstraint>> parseSpreadConstraints(const json& list, const std::string& where) {
  if (!list.is_array()) return fail(where + " must be a list");
  std::vector<SpreadConstraint> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string at = where + "[" + std::to_string(i) + "]";
    const json& c = list[i];
    if (auto r = onlyFields(c, {"maxSkew", "topologyKey", "whenUnsatisfiable"}, at); !r) return std::unexpected(r.error());
    SpreadConstraint sc;
    const json* skew = member(c, "maxSkew");
    if (!skew) return fail(at + ".maxSkew is missing (an integer, at least 1)");
    auto s = integer(*skew, at + ".maxSkew", 1, std::numeric_limits<std::int32_t>::max());
    if (!s) return std::unexpected(s.error());
    sc.maxSkew = *s;
    const json* key = member(c, "topologyKey");
    if (!key || !key->is_string() || !isValidLabelKey(key->get_ref<const std::string&>()))
      return fail(at + ".topologyKey must be a cluster label key");
    sc.topologyKey = key->get<std::string>();
    const json* when = member(c, "whenUnsatisfiable");
    if (!when || !when->is_string() ||
        (when->get_ref<const std::string&>() != "DoNotSchedule" && when->get_ref<const std::string&>() != "ScheduleAnyway"))
      return fail(at + ".whenUnsatisfiable must be DoNotSchedule or ScheduleAnyway");
    sc.doNotSchedule = when->get_ref<const std::string&>() == "DoNotSchedule";
    out.push_back(std::move(sc));
  }
  return out;
}

namespace {

// The members of `object` named in `names`, in that order, in one pass
// (nullptr: absent or null, as member() says). False at the first field not
// named (onlyFields then makes the message).
template <std::size_t N>
bool fieldsOf(const json& object, const std::array<std::string_view, N>& names, std::array<const json*, N>& slots) {
  slots.fill(nullptr);
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& field = it.key();
    std::size_t i = 0;
    while (i < N && names[i] != field) ++i;
    if (i == N) return false;
    slots[i] = it->is_null() ? nullptr : &*it;
  }
  return true;
}

constexpr std::array<std::string_view, 5> kSpecFields = {"targetKind", "totalReplicas", "rebalance",
                                                         "intersectWithClusterSelector", "clusters"};
constexpr std::array<std::string_view, 3> kPreferenceFields = {"weight", "minReplicas", "maxReplicas"};

}  // namespace

Result<ReplicaSchedulingSpec> parseReplicaSchedulingPreference(const json& doc, const std::string& id) {
  // Messages are made only when a check fails (every render reads every RSP).
  ReplicaSchedulingSpec out;
  for (const auto& [field, v] : doc.items())
    if (field != "apiVersion" && field != "kind" && field != "metadata" && field != "spec" && field != "status")
      return fail(id + ": unknown field \"" + field + "\" (expected apiVersion, kind, metadata, spec)");
  const json* spec = member(doc, "spec");
  if (!spec) return fail(id + ": spec is missing (targetKind and totalReplicas are required)");
  auto at = [&](const char* field) { return [&id, field] { return id + ": spec" + field; }; };
  std::array<const json*, kSpecFields.size()> specField{};
  if (!spec->is_object() || !fieldsOf(*spec, kSpecFields, specField))
    return std::unexpected(onlyFields(*spec, std::span<const std::string_view>(kSpecFields), at("")).error());
  const auto [kind, total, rebalance, intersect, clusters] = specField;
  if (!kind) return fail(id + ": spec.targetKind is missing (FederatedDeployment, FederatedReplicaSet or FederatedStatefulSet)");
  const std::string* kindText = kind->is_string() ? &kind->get_ref<const std::string&>() : nullptr;
  if (!kindText || !isScheduleTargetKind(*kindText))
    return fail(id + ": spec.targetKind must be FederatedDeployment, FederatedReplicaSet or FederatedStatefulSet, not " +
                kind->dump());
  out.targetKind = *kindText;
  if (!total) return fail(id + ": spec.totalReplicas is missing");
  auto t = integer(*total, at(".totalReplicas"), 0, kMaxScheduleNumber);
  if (!t) return std::unexpected(t.error());
  out.totalReplicas = *t;
  if (rebalance) {
    auto b = boolean(*rebalance, at(".rebalance"));
    if (!b) return std::unexpected(b.error());
    out.rebalance = *b;
  }
  if (intersect) {
    auto b = boolean(*intersect, at(".intersectWithClusterSelector"));
    if (!b) return std::unexpected(b.error());
    out.intersectWithClusterSelector = *b;
  }
  if (clusters) {
    if (!clusters->is_object()) return fail(id + ": spec.clusters must be a mapping (cluster name or \"*\" to preferences)");
    for (auto it = clusters->begin(); it != clusters->end(); ++it) {
      const std::string& name = it.key();
      const json& pref = *it;
      auto entry = [&](const char* field) { return [&id, &name, field] { return id + ": spec.clusters." + name + field; }; };
      if (pref.is_null()) {
        out.clusters[name] = ClusterPreference{};
        continue;
      }
      std::array<const json*, kPreferenceFields.size()> field{};
      if (!pref.is_object() || !fieldsOf(pref, kPreferenceFields, field))
        return std::unexpected(onlyFields(pref, std::span<const std::string_view>(kPreferenceFields), entry("")).error());
      ClusterPreference p;
      constexpr std::int64_t kMax = kMaxScheduleNumber;
      // KubeFed's CRD accepts negative numbers; gitfed refuses them (section 8.6).
      if (const json* v = field[0]) {
        auto n = integer(*v, entry(".weight"), 0, kMax);
        if (!n) return std::unexpected(n.error());
        p.weight = *n;
      }
      if (const json* v = field[1]) {
        auto n = integer(*v, entry(".minReplicas"), 0, kMax);
        if (!n) return std::unexpected(n.error());
        p.minReplicas = *n;
      }
      if (const json* v = field[2]) {
        auto n = integer(*v, entry(".maxReplicas"), 0, kMax);
        if (!n) return std::unexpected(n.error());
        p.maxReplicas = *n;
      }
      if (p.maxReplicas && p.minReplicas > *p.maxReplicas)
        return fail(entry("")() + ": minReplicas " + std::to_string(p.minReplicas) + " is greater than maxReplicas " +
                    std::to_string(*p.maxReplicas));
      out.clusters.emplace_hint(out.clusters.end(), name, p);
    }
  }
  completeScheduleClusters(out);
  return out;
}

bool isScheduleTargetKind(std::string_view kind) {
  return kind == "FederatedDeployment" || kind == "FederatedReplicaSet" || kind == "FederatedStatefulSet";
}

void completeScheduleClusters(ReplicaSchedulingSpec& spec) {
  if (spec.clusters.empty()) spec.clusters["*"] = ClusterPreference{0, std::nullopt, 1, 0};  // KubeFed's controller default
}

std::int64_t SpreadDomains::skew() const {
  if (counts.empty()) return 0;
  auto [lo, hi] = std::ranges::minmax_element(counts, {}, [](const auto& kv) { return kv.second; });
  return hi->second - lo->second;
}

std::string SpreadDomains::describe() const {
  std::string out;
  for (const auto& [domain, n] : counts) out += (out.empty() ? "" : ", ") + domain + ": " + std::to_string(n);
  return out;
}

SpreadDomains spreadDomains(const SpreadConstraint& c, const std::vector<const Labels*>& labels,
                            const std::vector<std::int64_t>& replicas) {
  SpreadDomains d;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    auto it = labels[i]->find(c.topologyKey);
    if (it != labels[i]->end()) d.counts[c.topologyKey + "=" + it->second] += replicas[i];
  }
  return d;
}

namespace {

// One move from the largest domain to the smallest; false when none is possible.
bool moveOne(const SpreadConstraint& c, const std::vector<const Labels*>& labels,
             const std::vector<std::optional<ClusterPreference>>& prefs, std::vector<std::int64_t>& replicas) {
  SpreadDomains d = spreadDomains(c, labels, replicas);
  if (d.skew() <= c.maxSkew) return false;
  auto [lo, hi] = std::ranges::minmax_element(d.counts, {}, [](const auto& kv) { return kv.second; });
  std::string from = hi->first, to = lo->first;
  auto domainOf = [&](std::size_t i) {
    auto it = labels[i]->find(c.topologyKey);
    return it == labels[i]->end() ? std::string() : c.topologyKey + "=" + it->second;
  };
  std::optional<std::size_t> donor, receiver;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!prefs[i]) continue;  // a cluster the RSP gives nothing keeps nothing
    std::string dom = domainOf(i);
    if (dom == from && replicas[i] > prefs[i]->minReplicas && (!donor || replicas[i] > replicas[*donor])) donor = i;
    if (dom == to && (!prefs[i]->maxReplicas || replicas[i] < *prefs[i]->maxReplicas) &&
        (!receiver || replicas[i] < replicas[*receiver]))
      receiver = i;
  }
  if (!donor || !receiver) return false;
  --replicas[*donor];
  ++replicas[*receiver];
  return true;
}

}  // namespace

std::string satisfySpread(const std::vector<SpreadConstraint>& constraints, const std::vector<const Labels*>& labels,
                          const std::vector<std::optional<ClusterPreference>>& prefs, std::vector<std::int64_t>& replicas) {
  if (constraints.empty()) return {};
  std::int64_t total = 0;
  for (auto r : replicas) total += r;
  // Each move lowers the skew of one constraint; bounded so that constraints
  // pulling against each other end (and are then reported).
  std::int64_t budget = (total + 1) * static_cast<std::int64_t>(constraints.size()) * 2;
  for (bool moved = true; moved && budget > 0;) {
    moved = false;
    for (const auto& c : constraints)
      while (budget-- > 0 && moveOne(c, labels, prefs, replicas)) moved = true;
  }
  for (std::size_t i = 0; i < constraints.size(); ++i) {
    const auto& c = constraints[i];
    if (!c.doNotSchedule) continue;
    SpreadDomains d = spreadDomains(c, labels, replicas);
    if (d.skew() > c.maxSkew)
      return "spec.placement.spreadConstraints[" + std::to_string(i) + "] (" + c.describe() + ") cannot be met: " +
             d.describe() + " (skew " + std::to_string(d.skew()) + ")";
  }
  return {};
}

}  // namespace gitfed::render
