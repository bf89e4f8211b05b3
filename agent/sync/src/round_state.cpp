// What the stages of a round share (round_state.h).

#include "round_state.h"

#include <cassert>

#include <spdlog/spdlog.h>

namespace gitfed::sync {

using nlohmann::json;

std::string stringAt(const json& obj, std::initializer_list<const char*> path) {
  const json* cur = &obj;
  for (const char* k : path) {
    if (!cur->is_object()) return {};
    auto it = cur->find(k);
    if (it == cur->end()) return {};
    cur = &*it;
  }
  return cur->is_string() ? cur->get<std::string>() : std::string();
}

bool isImmutableError(const kube::Error& e) {
  if (e.status != 422) return false;
  return e.message.find("immutable") != std::string::npos || e.message.find("are forbidden") != std::string::npos;
}

void dropAppliedHash(std::vector<DriftEntry>& drift) {
  const std::string path = "/metadata/annotations/" + escapePointerToken(kAppliedHashAnnotation);
  std::erase_if(drift, [&](DriftEntry& e) {
    if (e.path == path) return true;
    for (auto* side : {&e.desired, &e.live}) {
      if (!*side) continue;
      json* a = e.path == "/metadata/annotations" ? &**side
                : e.path == "/metadata" && (*side)->contains("annotations") ? &(**side)["annotations"]
                                                                             : nullptr;
      if (a && a->is_object()) a->erase(std::string(kAppliedHashAnnotation));
      if (a && a->empty() && e.path == "/metadata/annotations") side->reset();
    }
    return !e.desired && !e.live;
  });
}

kube::KubeClient& RoundState::writer(const Item& it) {
  if (it.obj->asTenant && it.tenant >= 0) {
    auto& t = tenants[static_cast<std::size_t>(it.tenant)];
    assert(t.client);  // the plan stage failed the item otherwise
    return *t.client;
  }
  return client;
}

const kube::Resource* RoundState::intern(const kube::Resource& r) {
  auto [pos, inserted] = resources.emplace(typeKey(r) + "/" + r.version, r);
  return &pos->second;
}

json& RoundState::desiredTree(Item& it) {
  if (it.obj->value.is_null() && !it.packed.empty()) {
    it.obj->value = json::from_msgpack(it.packed);
    it.labelled = false;
  }
  return it.obj->value;
}

const json& RoundState::body(Item& it) {
  json& v = desiredTree(it);
  if (!it.labelled) {
    json& meta = v["metadata"];
    json& labels = meta["labels"];
    if (!labels.is_object()) labels = json::object();
    labels[std::string(kManagedByLabel)] = kManagedByValue;
    labels[std::string(kInventoryLabel)] = options.inventoryId;
    json& annotations = meta["annotations"];
    if (!annotations.is_object()) annotations = json::object();
    annotations[std::string(kAppliedHashAnnotation)] = hex(it.hash);
    it.labelled = true;
  }
  for (const auto& [p, val] : it.ignoredLive) setAt(v, p, val);
  return v;
}

void RoundState::markInSync(Item& it) {
  it.plan = Plan::InSync;
  it.obj->value = json();
  std::vector<std::uint8_t>().swap(it.packed);
}

std::uint64_t RoundState::inSyncKey(const Item& it) {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&](std::string_view s) {
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    h = (h ^ '/') * 1099511628211ull;
  };
  mix(it.liveUid);
  mix(it.liveRv);
  mix(hex(it.hash));
  return h;
}

void RoundState::fail(Item& it, std::string message) {
  if (it.plan != Plan::Failed) ++failedObjects;
  it.plan = Plan::Failed;
  it.state = State::Failed;
  it.error = std::move(message);
  spdlog::debug("{}", it.error);
}

void RoundState::skip(Item& it, const std::string& why) {
  it.plan = Plan::Skipped;
  it.state = State::Failed;
  it.action = Action::Skipped;
  it.error = it.identity() + ": " + why;
}

std::string RoundState::redact(const Item& it, std::string text) const {
  if (!it.isSecret) return text;
  if (it.obj->value.is_null() && !it.packed.empty())
    return redactSecretText(std::move(text), json::from_msgpack(it.packed));
  return redactSecretText(std::move(text), it.obj->value);
}

}  // namespace gitfed::sync
