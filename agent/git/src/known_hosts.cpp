// known_hosts parsing and matching. Hashed host names are HMAC-SHA1(salt,
// name) as OpenSSH writes them (`ssh-keygen -H`); mbedTLS (a dependency of
// libgit2 on Debian) provides HMAC and base64.

#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <fstream>
#include <sstream>

#include "gitfed/git/known_hosts.h"

namespace gitfed::git {
namespace {

std::optional<std::string> base64Decode(std::string_view in) {
  std::size_t len = 0;
  const auto* src = reinterpret_cast<const unsigned char*>(in.data());
  int rc = mbedtls_base64_decode(nullptr, 0, &len, src, in.size());
  if (rc != 0 && rc != MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL) return std::nullopt;
  std::string out(len, '\0');
  if (mbedtls_base64_decode(reinterpret_cast<unsigned char*>(out.data()), out.size(), &len, src, in.size()) != 0)
    return std::nullopt;
  out.resize(len);
  return out;
}

std::string hmacSha1(std::string_view key, std::string_view data) {
  unsigned char out[20] = {};
  const mbedtls_md_info_t* info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
  mbedtls_md_hmac(info, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                  reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

// OpenSSH's match_pattern: '*' any run, '?' any one character; case-insensitive.
bool globMatch(std::string_view s, std::string_view p) {
  std::size_t si = 0, pi = 0, star = std::string_view::npos, mark = 0;
  auto eq = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || eq(p[pi], s[si]))) {
      ++si;
      ++pi;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// The key type written at the start of a wire-format key blob.
std::string blobType(std::string_view blob) {
  if (blob.size() < 4) return {};
  auto b = reinterpret_cast<const unsigned char*>(blob.data());
  std::size_t n = (std::size_t{b[0]} << 24) | (std::size_t{b[1]} << 16) | (std::size_t{b[2]} << 8) | b[3];
  if (n > blob.size() - 4) return {};
  return std::string(blob.substr(4, n));
}

}  // namespace

const char* toString(KnownHosts::Verdict verdict) {
  switch (verdict) {
    case KnownHosts::Verdict::Match: return "match";
    case KnownHosts::Verdict::Unknown: return "unknown host";
    case KnownHosts::Verdict::Changed: return "changed host key";
    case KnownHosts::Verdict::TypeNotListed: return "host key type not listed";
    case KnownHosts::Verdict::Revoked: return "revoked host key";
  }
  return "?";
}

std::string KnownHosts::lookupName(std::string_view host, int port) {
  if (port == 22 || port == 0) return std::string(host);
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

Result<KnownHosts> KnownHosts::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(ErrorCode::Io, "cannot read the known_hosts file", file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), file.string());
}

Result<KnownHosts> KnownHosts::parse(std::string_view text, std::string_view origin) {
  KnownHosts out;
  int lineNo = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++lineNo;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto fields = splitFields(line);
    if (fields.empty() || fields[0].starts_with('#')) continue;
    auto bad = [&](const std::string& why) {
      return fail(ErrorCode::InvalidArgument, why, std::string(origin) + ":" + std::to_string(lineNo));
    };
    Entry e;
    std::size_t f = 0;
    if (fields[0].starts_with('@')) {
      if (fields[0] == "@revoked") e.marker = Entry::Marker::Revoked;
      else if (fields[0] == "@cert-authority") e.marker = Entry::Marker::CertAuthority;
      else return bad("unknown marker " + std::string(fields[0]));
      ++f;
    }
    if (fields.size() < f + 3) return bad("expected: [marker] hosts keytype base64-key [comment]");
    std::string_view hosts = fields[f];
    if (hosts.starts_with("|1|")) {
      auto bar = hosts.find('|', 3);
      if (bar == std::string_view::npos) return bad("malformed hashed host name");
      auto salt = base64Decode(hosts.substr(3, bar - 3));
      auto hash = base64Decode(hosts.substr(bar + 1));
      if (!salt || !hash || hash->size() != 20) return bad("malformed hashed host name");
      e.hashSalt = std::move(*salt);
      e.hashValue = std::move(*hash);
    } else {
      std::size_t start = 0;
      while (start <= hosts.size()) {
        auto comma = hosts.find(',', start);
        auto p = hosts.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (!p.empty()) e.patterns.emplace_back(p);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
      if (e.patterns.empty()) return bad("no host names");
    }
    e.keyType = std::string(fields[f + 1]);
    auto blob = base64Decode(fields[f + 2]);
    if (!blob || blob->empty()) return bad("the key is not valid base64");
    if (blobType(*blob) != e.keyType) return bad("the key's type does not match \"" + e.keyType + "\"");
    e.keyBlob = std::move(*blob);
    out.entries_.push_back(std::move(e));
  }
  return out;
}

bool KnownHosts::matchesHost(const Entry& e, const std::string& name) const {
  if (!e.hashValue.empty()) return hmacSha1(e.hashSalt, name) == e.hashValue;
  bool matched = false;
  for (const auto& p : e.patterns) {
    if (p.starts_with('!')) {
      if (globMatch(name, std::string_view(p).substr(1))) return false;  // a negation vetoes the line
    } else if (globMatch(name, p)) {
      matched = true;
    }
  }
  return matched;
}

KnownHosts::Verdict KnownHosts::check(std::string_view host, int port, std::string_view keyType,
                                      std::string_view keyBlob) const {
  const std::string name = lookupName(host, port);
  bool listed = false, sameType = false, match = false;
  for (const auto& e : entries_) {
    if (e.marker == Entry::Marker::CertAuthority) continue;
    if (!matchesHost(e, name)) continue;
    if (e.marker == Entry::Marker::Revoked) {
      if (e.keyBlob == keyBlob) return Verdict::Revoked;
      continue;
    }
    listed = true;
    if (e.keyType == keyType) sameType = true;
    if (e.keyType == keyType && e.keyBlob == keyBlob) match = true;
  }
  // @revoked lines are checked above before any match counts, whatever their order.
  if (match) return Verdict::Match;
  if (!listed) return Verdict::Unknown;
  return sameType ? Verdict::Changed : Verdict::TypeNotListed;
}

std::vector<std::string> KnownHosts::typesFor(std::string_view host, int port) const {
  const std::string name = lookupName(host, port);
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    if (e.marker != Entry::Marker::None || !matchesHost(e, name)) continue;
    if (std::find(out.begin(), out.end(), e.keyType) == out.end()) out.push_back(e.keyType);
  }
  return out;
}

}  // namespace gitfed::git
