#include "list_pages.h"

namespace gitfed::sync {

std::string urlEncode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string collectionPath(const kube::Resource& r, std::string_view ns) {
  std::string p = r.group.empty() ? "/api/" + r.version : "/apis/" + r.group + "/" + r.version;
  if (!ns.empty()) p += "/namespaces/" + std::string(ns);
  return p + "/" + r.plural;
}

kube::Result<void> listPages(kube::KubeClient& client, const kube::Resource& r, std::string_view ns,
                             std::string_view labelSelector, unsigned pageSize,
                             const std::function<void(nlohmann::json& item)>& onItem) {
  std::string base = collectionPath(r, ns) + "?limit=" + std::to_string(pageSize);
  if (!labelSelector.empty()) base += "&labelSelector=" + urlEncode(labelSelector);
  std::string next;
  bool restarted = false;
  for (;;) {
    std::string path = next.empty() ? base : base + "&continue=" + urlEncode(next);
    auto page = client.request("GET", path);
    if (!page) {
      // The continue token expired (410 Gone): list again from a fresh
      // snapshot, once. Items already handed out are handed out again.
      if (page.error().status == 410 && !next.empty() && !restarted) {
        restarted = true;
        next.clear();
        continue;
      }
      return std::unexpected(page.error());
    }
    next.clear();
    if (auto m = page->find("metadata"); m != page->end() && m->is_object())
      if (auto c = m->find("continue"); c != m->end() && c->is_string()) next = c->get<std::string>();
    if (auto items = page->find("items"); items != page->end() && items->is_array())
      for (auto& item : *items) onItem(item);
    if (next.empty()) return {};
  }
}

}  // namespace gitfed::sync
