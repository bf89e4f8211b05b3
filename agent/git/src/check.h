#pragma once
// The one place where libgit2's error codes become gitfed::git::Error values.
// Reads git_error_last() at once (it is thread-local and overwritten by the
// next call), maps the code and error class to an ErrorCode and scrubs
// anything that looks like credentials in a URL out of the message.

#include <git2.h>

#include <string>

#include "gitfed/git/error.h"

namespace gitfed::git::detail {

Error libgit2Error(int rc, const std::string& context);

// `rc < 0` -> the error, else success.
inline Result<void> check(int rc, const std::string& context) {
  if (rc < 0) return std::unexpected(libgit2Error(rc, context));
  return {};
}

std::string oidHex(const git_oid& oid);
Result<git_oid> parseOid(const std::string& hex, const std::string& context);

// Removes "user:secret@" from any URL inside a message.
std::string scrubCredentials(std::string message);

}  // namespace gitfed::git::detail
