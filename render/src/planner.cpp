#include "gitfed/render/planner.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <numeric>
#include <span>
#include <string>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gitfed::render {

std::uint32_t fnv1Continue(std::uint32_t h, std::string_view b) {
  for (char c : b) {
    h *= 16777619u;
    h ^= static_cast<unsigned char>(c);
  }
  return h;
}

std::uint32_t fnv1Prefix(std::string_view a) { return fnv1Continue(2166136261u, a); }

std::uint32_t fnv1Hash32(std::string_view a, std::string_view b) { return fnv1Continue(fnv1Prefix(a), b); }

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

namespace {

// fnv1Continue over the same bytes for kBlock states at once, and how each
// result compares with `mine` (bit l of `less`: h[l] < mine; of `equal`:
// h[l] == mine). With AVX2 (chosen at run time), eight states a vector,
// multiplied by one vpmulld a byte; with SSE2 (any x86-64), four states a
// vector, multiplied as 32-bit lanes by two pmuludq (compilers otherwise turn
// the constant multiplication into eleven shifts and adds a vector);
// elsewhere independent scalar multiplications.
constexpr std::size_t kBlock = 8;
struct BlockOrder {
  unsigned less = 0;
  unsigned equal = 0;
};

BlockOrder compareBlock(const std::uint32_t (&h)[kBlock], std::uint32_t mine) {
  BlockOrder o;
  for (std::size_t l = 0; l < kBlock; ++l) {
    o.less |= static_cast<unsigned>(h[l] < mine) << l;
    o.equal |= static_cast<unsigned>(h[l] == mine) << l;
  }
  return o;
}

BlockOrder fnv1ContinueBlock(std::uint32_t (&h)[kBlock], std::string_view b, std::uint32_t mine) {
#if defined(__SSE2__)
  const __m128i prime = _mm_set1_epi32(16777619);
  __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h));
  __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4));
  auto times = [&](__m128i v) {
    __m128i even = _mm_mul_epu32(v, prime);                                   // lanes 0, 2 (64-bit products)
    __m128i odd = _mm_mul_epu32(_mm_srli_epi64(v, 32), prime);                // lanes 1, 3
    return _mm_unpacklo_epi32(_mm_shuffle_epi32(even, _MM_SHUFFLE(0, 0, 2, 0)),  // low halves, in order
                              _mm_shuffle_epi32(odd, _MM_SHUFFLE(0, 0, 2, 0)));
  };
  for (char c : b) {
    const __m128i byte = _mm_set1_epi32(static_cast<unsigned char>(c));
    lo = _mm_xor_si128(times(lo), byte);
    hi = _mm_xor_si128(times(hi), byte);
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), lo);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), hi);
#else
  for (char c : b)
    for (auto& state : h) state = (state * 16777619u) ^ static_cast<unsigned char>(c);
#endif
  return compareBlock(h, mine);
}

// What the clusters tied with `self` take in the ranking of one pass: those
// ranked before it take `share` each (in all, `taken`), and `undecided` is
// what the clusters not ranked yet would take. Self's share is decided when
// the room is gone or when even all the undecided could not make it smaller.
struct Tally {
  std::int64_t room = 0;
  std::int64_t mine = 0;
  std::int64_t taken = 0;
  std::int64_t undecided = 0;
  bool decided() const { return room - taken <= 0 || room - taken - undecided >= mine; }
};

#if defined(__x86_64__) && defined(__GNUC__)
// Ranks prefixes[0, count) (none an entry, none self: every one ties with self
// on weight and score) against self's hash `mine`, sixteen clusters at a time
// with AVX2, until the tally is decided. Stops before a run of sixteen with an
// exact hash tie (the caller ranks those by name) and leaves the last count %
// 16 to the caller; returns how many were ranked. Ranking more after the tally
// is decided would change nothing: taken only grows, by at most undecided.
__attribute__((target("avx2,popcnt"))) std::size_t rankRunAvx2(const std::uint32_t* prefixes, std::size_t count,
                                                                std::string_view key, std::uint32_t mine,
                                                                std::int64_t share, Tally& t) {
  constexpr std::size_t kTable = 48;  // key bytes broadcast once (longer keys: byte by byte)
  __m256i table[kTable];
  const bool tabled = key.size() <= kTable;
  if (tabled)
    for (std::size_t i = 0; i < key.size(); ++i) table[i] = _mm256_set1_epi32(static_cast<unsigned char>(key[i]));
  const __m256i prime = _mm256_set1_epi32(16777619);
  const __m256i flip = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  const __m256i mineFlipped = _mm256_set1_epi32(static_cast<int>(mine ^ 0x80000000u));
  const __m256i mineExact = _mm256_set1_epi32(static_cast<int>(mine));
  std::size_t done = 0;
  for (; done + 16 <= count && !t.decided(); done += 16) {
    __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(prefixes + done));
    __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(prefixes + done + 8));
    if (tabled) {
      for (std::size_t i = 0; i < key.size(); ++i) {
        a = _mm256_xor_si256(_mm256_mullo_epi32(a, prime), table[i]);
        b = _mm256_xor_si256(_mm256_mullo_epi32(b, prime), table[i]);
      }
    } else {
      for (char c : key) {
        const __m256i byte = _mm256_set1_epi32(static_cast<unsigned char>(c));
        a = _mm256_xor_si256(_mm256_mullo_epi32(a, prime), byte);
        b = _mm256_xor_si256(_mm256_mullo_epi32(b, prime), byte);
      }
    }
    const int ties = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(a, mineExact))) |
                     _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(b, mineExact)));
    if (ties != 0) break;
    // Unsigned h < mine, as a signed comparison of both with the top bit flipped.
    const unsigned less =
        static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(mineFlipped, _mm256_xor_si256(a, flip))))) |
        static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(mineFlipped, _mm256_xor_si256(b, flip)))))
            << 8;
    t.taken += share * __builtin_popcount(less);
    t.undecided -= share * 16;
  }
  return done;
}

bool haveAvx2() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
  }();
  return yes;
}
#endif

// rankRunAvx2 where the CPU has AVX2; otherwise ranks nothing (the caller's
// block at a time does all).
std::size_t rankRun(const std::uint32_t* prefixes, std::size_t count, std::string_view key, std::uint32_t mine,
                    std::int64_t share, Tally& t) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (haveAvx2()) return rankRunAvx2(prefixes, count, key, mine, share, t);
#endif
  (void)prefixes, (void)count, (void)key, (void)mine, (void)share, (void)t;
  return 0;
}

bool refused(const ClusterPreference& p) {
  return p.weight < 0 || p.minReplicas < 0 || (p.maxReplicas && *p.maxReplicas < p.minReplicas);
}

// Clusters of one preference: an entry (one cluster), or every other cluster.
struct Group {
  const ClusterPreference* preference;
  std::int64_t count;
  std::size_t member;  // the entry's cluster; SIZE_MAX for the others
  std::int64_t plan = 0;
  std::int64_t share = 0;
  std::int64_t rounded = 0;
  bool active = true;
};

}  // namespace

std::int64_t planShareGrouped(const GroupedFleet& f, std::int64_t totalReplicas, std::string_view key,
                              std::size_t self) {
  const std::size_t n = f.names.size();
  if (self >= n) return 0;
  auto selfEntry = std::ranges::lower_bound(f.entries, self, {}, &std::pair<std::size_t, ClusterPreference>::first);
  const bool selfIsEntry = selfEntry != f.entries.end() && selfEntry->first == self;
  if (!selfIsEntry && !f.others) return 0;
  bool fallback = f.others && refused(*f.others);
  for (const auto& e : f.entries) fallback = fallback || refused(e.second);
  if (fallback) {
    std::vector<std::optional<ClusterPreference>> prefs(n, f.others);
    for (const auto& [i, p] : f.entries) prefs[i] = p;
    return planShareIndexed(f.names, prefs, totalReplicas, std::string(f.keyPrefix) + std::string(key), self);
  }
  // The groups, on the stack for the usual few entries (a render plans every RSP).
  const std::int64_t others = static_cast<std::int64_t>(n - f.entries.size());
  const std::size_t groupCount = f.entries.size() + (f.others && others > 0 ? 1 : 0);
  std::array<Group, 8> local{};
  std::vector<Group> heap(groupCount > local.size() ? groupCount : 0);
  const std::span<Group> groups(groupCount > local.size() ? heap.data() : local.data(), groupCount);
  std::size_t filled = 0;
  for (const auto& [i, p] : f.entries) groups[filled++] = {&p, 1, i};
  if (f.others && others > 0) groups[filled++] = {&*f.others, others, SIZE_MAX};
  const std::size_t selfGroup =
      selfIsEntry ? static_cast<std::size_t>(selfEntry - f.entries.begin()) : groups.size() - 1;
  const ClusterPreference& me = *groups[selfGroup].preference;
  // Where group g ranks against `self`: -1 before, 1 after, 0 tied (same
  // weight and score: then the hash of name + key decides, cluster by cluster).
  auto rank = [&](const Group& g) {
    const ClusterPreference& p = *g.preference;
    if (p.weight != me.weight) return p.weight > me.weight ? -1 : 1;
    if (p.preferredScore != me.preferredScore) return p.preferredScore > me.preferredScore ? -1 : 1;
    return 0;
  };
  // Self takes max(0, min(mine, room - taken)), `taken` being what the tied
  // clusters ranked before it take (shareOf(g) each). Clusters are ranked one
  // by one only until that number is decided.
  auto decide = [&](std::int64_t room, std::int64_t mine, auto shareOf) -> std::int64_t {
    Tally t{room, mine};
    for (std::size_t g = 0; g < groups.size(); ++g)
      if (rank(groups[g]) == 0) t.undecided += shareOf(groups[g]) * (groups[g].count - (g == selfGroup ? 1 : 0));
    if (!t.decided()) {
      const std::uint32_t myHash = fnv1Continue(f.prefixes[self], key);
      const std::string& myName = *f.names[self];
      auto before = [&](std::size_t j) {
        std::uint32_t h = fnv1Continue(f.prefixes[j], key);
        return h != myHash ? h < myHash : *f.names[j] < myName;
      };
      for (const Group& g : groups) {
        const std::int64_t s = shareOf(g);
        if (rank(g) != 0 || s == 0) continue;
        if (g.member != SIZE_MAX) {
          if (g.member == self) continue;
          t.undecided -= s;
          if (before(g.member)) t.taken += s;
          if (t.decided()) break;
          continue;
        }
        // Every other cluster: runs between the entries and self sixteen at
        // a time (rankRun), the rest a block at a time; the hashes of a block
        // continue from their prefixes over the same key together.
        std::uint32_t h[kBlock] = {};  // lanes past the fleet's end hold stale values, masked off
        auto entry = f.entries.begin();
        for (std::size_t j0 = 0; j0 < n && !t.decided();) {
          while (entry != f.entries.end() && entry->first < j0) ++entry;
          std::size_t plainEnd = entry == f.entries.end() ? n : entry->first;  // first entry or self at or after j0
          if (self >= j0) plainEnd = std::min(plainEnd, self);
          j0 += rankRun(f.prefixes.data() + j0, plainEnd - j0, key, myHash, s, t);
          if (j0 >= n || t.decided()) break;
          const std::size_t m = std::min(kBlock, n - j0);
          std::memcpy(h, f.prefixes.data() + j0, m * sizeof(std::uint32_t));
          const BlockOrder order = fnv1ContinueBlock(h, key, myHash);
          const bool plainBlock = j0 + m <= plainEnd;
          const unsigned lanes = (1u << m) - 1;
          if (plainBlock && (order.equal & lanes) == 0) {
            // No entry, not self, no exact tie (that takes the long way): count the hashes below self's.
            t.undecided -= s * static_cast<std::int64_t>(m);
            t.taken += s * std::popcount(order.less & lanes);
          } else {
            for (std::size_t l = 0; l < m; ++l) {
              const std::size_t j = j0 + l;
              while (entry != f.entries.end() && entry->first < j) ++entry;
              if (j == self || (entry != f.entries.end() && entry->first == j)) continue;
              t.undecided -= s;
              if (h[l] != myHash ? h[l] < myHash : *f.names[j] < myName) t.taken += s;
            }
          }
          j0 += m;
        }
        if (t.decided()) break;
      }
    }
    return std::max<std::int64_t>(0, std::min(mine, room - t.taken));
  };

  std::int64_t sumMin = 0;
  for (const Group& g : groups) sumMin += g.count * g.preference->minReplicas;
  // Minimums, in order: when they exhaust the total, a cluster gets its
  // minimum out of what the clusters before it left.
  if (sumMin >= totalReplicas) {
    std::int64_t certain = 0;
    for (const Group& g : groups)
      if (rank(g) < 0) certain += g.count * g.preference->minReplicas;
    return decide(totalReplicas - certain, me.minReplicas, [](const Group& g) { return g.preference->minReplicas; });
  }
  for (Group& g : groups) g.plan = g.preference->minReplicas;
  Group& mine = groups[selfGroup];
  std::int64_t remaining = totalReplicas - sumMin;
  while (remaining > 0) {
    std::int64_t weightSum = 0;
    for (const Group& g : groups)
      if (g.active) weightSum += g.count * g.preference->weight;
    if (weightSum <= 0) break;
    const std::int64_t distribute = remaining;
    std::int64_t sum = 0;
    for (Group& g : groups) {
      if (!g.active) continue;
      const ClusterPreference& p = *g.preference;
      g.rounded = (distribute * p.weight + weightSum - 1) / weightSum;
      g.share = p.maxReplicas ? std::min(g.rounded, *p.maxReplicas - g.plan) : g.rounded;
      sum += g.count * g.share;
    }
    if (sum >= distribute) {  // this pass runs out: the order decides
      if (!mine.active) return mine.plan;
      std::int64_t certain = 0;
      for (const Group& g : groups)
        if (g.active && rank(g) < 0) certain += g.count * g.share;
      return mine.plan +
             decide(distribute - certain, mine.share, [](const Group& g) { return g.active ? g.share : 0; });
    }
    bool modified = false;
    for (Group& g : groups) {
      if (!g.active) continue;
      const ClusterPreference& p = *g.preference;
      const bool full = p.maxReplicas && g.plan + g.rounded > *p.maxReplicas;
      g.plan += g.share;
      modified = modified || g.share > 0;
      if (full) g.active = false;
    }
    remaining -= sum;
    if (!modified) break;
  }
  return mine.plan;
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
