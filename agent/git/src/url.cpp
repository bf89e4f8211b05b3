#include <algorithm>
#include <cctype>
#include <charconv>

#include "gitfed/git/url.h"

namespace gitfed::git {
namespace {

constexpr const char* kCredentialsHint =
    "credentials go in files (passwordFile, tokenFile, sshKeyFile), never in the URL";

bool hasForbiddenChar(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f || c == ' ' || c == '\\';
  });
}

// A printable description of a URL the user gave that never repeats a
// possible password: everything up to the last '@' of the authority is cut.
std::string describe(std::string_view url) {
  auto scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::string out = scheme == std::string_view::npos ? "" : std::string(url.substr(0, scheme + 3));
  out += "***@";
  out += std::string(rest.substr(at + 1));
  return out;
}

Result<int> parsePort(std::string_view text, std::string_view url) {
  int port = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || port < 1 || port > 65535)
    return fail(ErrorCode::InvalidArgument, "invalid port \"" + std::string(text) + "\"", describe(url));
  return port;
}

bool validHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}

}  // namespace

const char* toString(RemoteUrl::Scheme scheme) {
  switch (scheme) {
    case RemoteUrl::Scheme::Https: return "https";
    case RemoteUrl::Scheme::Http: return "http";
    case RemoteUrl::Scheme::Ssh: return "ssh";
    case RemoteUrl::Scheme::Git: return "git";
    case RemoteUrl::Scheme::File: return "file";
  }
  return "?";
}

int RemoteUrl::effectivePort() const {
  if (port != 0) return port;
  switch (scheme) {
    case Scheme::Https: return 443;
    case Scheme::Http: return 80;
    case Scheme::Ssh: return 22;
    case Scheme::Git: return 9418;
    case Scheme::File: return 0;
  }
  return 0;
}

Result<RemoteUrl> parseRemoteUrl(std::string_view url) {
  if (url.empty()) return fail(ErrorCode::InvalidArgument, "the repository URL is empty");
  if (hasForbiddenChar(url))
    return fail(ErrorCode::InvalidArgument, "URL contains whitespace, a backslash or a control character",
                describe(url));
  RemoteUrl out;
  if (url.front() == '/') {
    out.scheme = RemoteUrl::Scheme::File;
    out.path = std::string(url);
    out.text = "file://" + out.path;
    return out;
  }
  auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    // scp-like: [user@]host:path (no scheme, a ':' before any '/').
    auto colon = url.find(':');
    auto slash = url.find('/');
    if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon))
      return fail(ErrorCode::InvalidArgument,
                  "not a URL (expected https://, ssh://, git://, file://, user@host:path or an absolute path)",
                  describe(url));
    std::string_view authority = url.substr(0, colon);
    std::string_view path = url.substr(colon + 1);
    auto at = authority.find('@');
    if (at != std::string_view::npos) {
      out.user = std::string(authority.substr(0, at));
      authority = authority.substr(at + 1);
      if (out.user.empty() || out.user.find_first_of(":@") != std::string::npos)
        return fail(ErrorCode::InvalidArgument, std::string("a URL may not hold a password: ") + kCredentialsHint,
                    describe(url));
    }
    if (!validHost(authority)) return fail(ErrorCode::InvalidArgument, "invalid host name", describe(url));
    if (path.empty()) return fail(ErrorCode::InvalidArgument, "the repository path is empty", describe(url));
    // "user:secret@host:path" reads as host "user" with path "secret@host:path":
    // refuse the ambiguity rather than hand a secret to a server as a path.
    if (path.find('@') != std::string_view::npos)
      return fail(ErrorCode::InvalidArgument, std::string("credentials in the URL are refused: ") + kCredentialsHint,
                  "scp-like URL");
    out.scheme = RemoteUrl::Scheme::Ssh;
    out.host = std::string(authority);
    out.path = std::string(path);
    out.text = std::string(url);
    return out;
  }
  std::string scheme(url.substr(0, sep));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (scheme == "https") out.scheme = RemoteUrl::Scheme::Https;
  else if (scheme == "http") out.scheme = RemoteUrl::Scheme::Http;
  else if (scheme == "ssh" || scheme == "git+ssh" || scheme == "ssh+git") out.scheme = RemoteUrl::Scheme::Ssh;
  else if (scheme == "git") out.scheme = RemoteUrl::Scheme::Git;
  else if (scheme == "file") out.scheme = RemoteUrl::Scheme::File;
  else return fail(ErrorCode::InvalidArgument, "unsupported URL scheme \"" + scheme + "\"", describe(url));

  std::string_view rest = url.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string_view::npos)
    return fail(ErrorCode::InvalidArgument, "a repository URL has no query or fragment", describe(url));
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);

  if (out.scheme == RemoteUrl::Scheme::File) {
    if (!authority.empty() && authority != "localhost")
      return fail(ErrorCode::InvalidArgument, "file:// URLs name a local path (file:///path)", describe(url));
    if (path.empty()) return fail(ErrorCode::InvalidArgument, "the repository path is empty", describe(url));
    out.path = std::string(path);
    out.text = "file://" + out.path;
    return out;
  }

  auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    if (out.scheme != RemoteUrl::Scheme::Ssh || userinfo.find(':') != std::string_view::npos ||
        userinfo.find('%') != std::string_view::npos || userinfo.empty())
      return fail(ErrorCode::InvalidArgument, std::string("credentials in the URL are refused: ") + kCredentialsHint,
                  describe(url));
    out.user = std::string(userinfo);
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (host.starts_with('[')) {
    auto close = host.find(']');
    if (close == std::string_view::npos) return fail(ErrorCode::InvalidArgument, "unclosed '[' in host", describe(url));
    std::string_view after = host.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail(ErrorCode::InvalidArgument, "invalid host", describe(url));
      port = after.substr(1);
    }
    host = host.substr(1, close - 1);
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
      return fail(ErrorCode::InvalidArgument, "invalid IPv6 address", describe(url));
  } else {
    auto colon = host.find(':');
    if (colon != std::string_view::npos) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
    if (!validHost(host)) return fail(ErrorCode::InvalidArgument, "invalid host name", describe(url));
  }
  if (!port.empty() || authority.ends_with(':')) {
    auto p = parsePort(port, url);
    if (!p) return std::unexpected(p.error());
    out.port = *p;
  }
  if (path.size() <= 1) return fail(ErrorCode::InvalidArgument, "the repository path is empty", describe(url));
  out.host = std::string(host);
  out.path = std::string(path);
  out.text = std::string(url);
  return out;
}

}  // namespace gitfed::git
