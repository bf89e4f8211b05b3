#include "gitfed/sync/inventory.h"

namespace gitfed::sync {

std::string Inventory::encode() const {
  std::string out = "# gitfed inventory v1\n";
  const ObjectRef* prev = nullptr;
  for (const auto& [key, ref] : entries_) {
    if (!prev || prev->apiVersion != ref.apiVersion || prev->kind != ref.kind) {
      out += "T " + ref.apiVersion + " " + ref.kind + "\n";
      out += "N " + ref.ns + "\n";
    } else if (prev->ns != ref.ns) {
      out += "N " + ref.ns + "\n";
    }
    out += "O " + ref.name + "\n";
    prev = &ref;
  }
  return out;
}

std::expected<Inventory, std::string> Inventory::decode(std::string_view text) {
  Inventory inv;
  std::string apiVersion, kind, ns;
  bool haveType = false;
  int lineNo = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++lineNo;
    if (line.empty() || line[0] == '#') continue;
    auto bad = [&](const char* why) {
      return std::unexpected("inventory line " + std::to_string(lineNo) + ": " + why);
    };
    if (line.size() < 2 || line[1] != ' ') return bad("expected \"T \", \"N \" or \"O \"");
    std::string_view rest = line.substr(2);
    switch (line[0]) {
      case 'T': {
        auto sp = rest.find(' ');
        if (sp == std::string_view::npos || sp == 0 || sp + 1 >= rest.size()) return bad("expected T APIVERSION KIND");
        apiVersion = rest.substr(0, sp);
        kind = rest.substr(sp + 1);
        ns.clear();
        haveType = true;
        break;
      }
      case 'N':
        ns = rest;
        break;
      case 'O':
        if (!haveType) return bad("object before its type");
        if (rest.empty()) return bad("empty name");
        inv.add(ObjectRef{apiVersion, kind, ns, std::string(rest)});
        break;
      default:
        return bad("expected \"T \", \"N \" or \"O \"");
    }
  }
  return inv;
}

InventoryStore::InventoryStore(kube::KubeClient& client, std::string ns, std::string id)
    : client_(client), ns_(std::move(ns)), id_(std::move(id)) {}

kube::Result<Inventory> InventoryStore::load() {
  auto r = client_.resourceFor("v1", "ConfigMap");
  if (!r) return std::unexpected(r.error());
  auto cm = client_.get(*r, ns_, configMapName());
  if (!cm) {
    if (cm.error().notFound()) return Inventory{};
    return std::unexpected(cm.error());
  }
  std::string text;
  if (auto data = cm->find("data"); data != cm->end() && data->is_object())
    if (auto o = data->find("objects"); o != data->end() && o->is_string()) text = o->get<std::string>();
  auto inv = Inventory::decode(text);
  if (!inv) {
    kube::Error e;
    e.reason = "Invalid";
    e.message = "ConfigMap " + ns_ + "/" + configMapName() + ": " + inv.error();
    e.target = "get v1 ConfigMap " + ns_ + "/" + configMapName();
    return std::unexpected(e);
  }
  return *inv;
}

kube::Result<void> InventoryStore::save(const Inventory& inventory) {
  auto r = client_.resourceFor("v1", "ConfigMap");
  if (!r) return std::unexpected(r.error());
  nlohmann::json cm = {{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata",
                        {{"name", configMapName()},
                         {"namespace", ns_},
                         // Not the ownership labels: the inventory must never be a prune candidate.
                         {"labels", {{"gitfed.io/inventory-of", id_}}}}},
                       {"data", {{"objects", inventory.encode()}}}};
  auto applied = client_.apply(*r, cm, kube::ApplyOptions{});
  if (applied) return {};
  // The agent's namespace may not exist yet (a first `gitfed apply`).
  if (applied.error().notFound()) {
    auto nsr = client_.resourceFor("v1", "Namespace");
    if (!nsr) return std::unexpected(nsr.error());
    nlohmann::json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}};
    if (auto made = client_.apply(*nsr, ns, kube::ApplyOptions{}); !made) return std::unexpected(made.error());
    applied = client_.apply(*r, cm, kube::ApplyOptions{});
    if (applied) return {};
  }
  return std::unexpected(applied.error());
}

}  // namespace gitfed::sync
