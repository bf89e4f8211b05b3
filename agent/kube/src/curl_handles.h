#pragma once
// One RAII owner per libcurl handle type. Private to gitfed::kube: only the
// transport (curl_transport.cpp) calls libcurl.

#include <curl/curl.h>

#include <memory>

namespace gitfed::kube::curl {

struct EasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct ShareDeleter {
  void operator()(CURLSH* s) const noexcept { curl_share_cleanup(s); }
};
using Share = std::unique_ptr<CURLSH, ShareDeleter>;

// Appends a header; false when out of memory (the list is left as it was).
inline bool append(Slist& list, const char* header) {
  curl_slist* grown = curl_slist_append(list.get(), header);
  if (grown == nullptr) return false;
  (void)list.release();  // `grown` owns the old nodes now
  list.reset(grown);
  return true;
}

}  // namespace gitfed::kube::curl
