#include "gitfed/kube/token_source.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cctype>
#include <fstream>
#include <sstream>

namespace gitfed::kube {

TokenSource TokenSource::fromFile(std::filesystem::path file) {
  TokenSource s;
  s.file_ = std::move(file);
  return s;
}

TokenSource::TokenSource(TokenSource&& other) noexcept {
  std::lock_guard lock(other.mutex_);
  file_ = std::move(other.file_);
  token_ = std::move(other.token_);
  stamp_ = other.stamp_;
}

bool TokenSource::readLocked(bool force) {
  struct stat st {};
  if (::stat(file_.c_str(), &st) != 0) {
    spdlog::warn("kube: cannot stat the token file {}; keeping the last token", file_.string());
    return false;
  }
  Stamp stamp{static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino),
              static_cast<unsigned long long>(st.st_size),
              static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec};
  if (!force && stamp == stamp_) return false;
  std::ifstream in(file_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) {
    spdlog::warn("kube: cannot read the token file {}; keeping the last token", file_.string());
    return false;
  }
  std::string token = ss.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  size_t start = 0;
  while (start < token.size() && std::isspace(static_cast<unsigned char>(token[start]))) ++start;
  token.erase(0, start);
  stamp_ = stamp;
  if (token.empty()) {
    // A writer that truncates before writing: keep the last token, look again next time.
    spdlog::warn("kube: the token file {} is empty; keeping the last token", file_.string());
    stamp_ = Stamp{};
    return false;
  }
  const bool changed = token != token_;
  if (changed && !token_.empty()) spdlog::info("kube: bearer token reloaded from {}", file_.string());
  token_ = std::move(token);
  return changed;
}

std::string TokenSource::current() {
  std::lock_guard lock(mutex_);
  if (!file_.empty()) readLocked(false);
  return token_;
}

bool TokenSource::reload() {
  std::lock_guard lock(mutex_);
  if (file_.empty()) return false;
  return readLocked(true);
}

}  // namespace gitfed::kube
