#include "check.h"

#include <regex>

namespace gitfed::git::detail {

std::string scrubCredentials(std::string message) {
  static const std::regex userinfo(R"(([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@)");
  return std::regex_replace(message, userinfo, "$1***@");
}

Error libgit2Error(int rc, const std::string& context) {
  const git_error* last = git_error_last();
  std::string message = last && last->message ? last->message : "libgit2 error " + std::to_string(rc);
  int klass = last ? last->klass : GIT_ERROR_NONE;
  git_error_clear();
  ErrorCode code = ErrorCode::Internal;
  switch (rc) {
    case GIT_ENOTFOUND: code = ErrorCode::NotFound; break;
    case GIT_EAUTH: code = ErrorCode::Auth; break;
    case GIT_ECERTIFICATE: code = ErrorCode::Certificate; break;
    case GIT_ENONFASTFORWARD: code = ErrorCode::Rejected; break;
    case GIT_EINVALIDSPEC: code = ErrorCode::InvalidArgument; break;
    case GIT_EMISMATCH: code = ErrorCode::Corrupt; break;
    case GIT_EOWNER: code = ErrorCode::Io; break;
    default:
      switch (klass) {
        case GIT_ERROR_NET:
        case GIT_ERROR_SSH:
        case GIT_ERROR_HTTP:
        case GIT_ERROR_SSL: code = ErrorCode::Network; break;
        case GIT_ERROR_ODB:
        case GIT_ERROR_ZLIB:
        case GIT_ERROR_OBJECT: code = ErrorCode::Corrupt; break;
        case GIT_ERROR_OS:
        case GIT_ERROR_FILESYSTEM: code = ErrorCode::Io; break;
        default: break;
      }
  }
  if (code == ErrorCode::Network && (message.find("status code: 404") != std::string::npos ||
                                     message.find("not found") != std::string::npos ||
                                     message.find("does not appear to be a git repository") != std::string::npos))
    code = ErrorCode::NotFound;
  if (code == ErrorCode::Network && message.find("status code: 401") != std::string::npos) code = ErrorCode::Auth;
  return Error{code, context, scrubCredentials(std::move(message))};
}

std::string oidHex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

Result<git_oid> parseOid(const std::string& hex, const std::string& context) {
  git_oid oid;
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstr(&oid, hex.c_str()) != 0)
    return fail(ErrorCode::InvalidArgument, "not a 40-hex object id: \"" + hex + "\"", context);
  return oid;
}

}  // namespace gitfed::git::detail
