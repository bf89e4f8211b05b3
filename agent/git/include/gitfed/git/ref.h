#pragma once
// Ref: what the agent follows in a repository: a branch (the default), a tag or
// a fixed commit. Only plain names and full 40-hex commit ids are accepted;
// revision expressions such as `main~3`, `HEAD@{1}` or `a..b` are refused, so a
// configuration can name nothing but a ref or a commit. Pure; thread-safe.

#include <string>
#include <string_view>

#include "gitfed/git/error.h"

namespace gitfed::git {

struct Ref {
  enum class Kind { Branch, Tag, Commit };
  Kind kind = Kind::Branch;
  std::string name;  // the short branch or tag name, or the commit id (40 lowercase hex)

  static Result<Ref> branch(std::string_view name);
  static Result<Ref> tag(std::string_view name);
  static Result<Ref> commit(std::string_view id);

  // "refs/heads/NAME", "refs/tags/NAME", or the commit id.
  std::string fullName() const;
  // "branch main", "tag v1.2", "commit 1a2b3c4d..."
  std::string display() const;
  bool operator==(const Ref&) const = default;
};

// "main", "release/1.x", "refs/heads/main" -> branch; "refs/tags/v1" -> tag;
// 40 hex digits -> commit. Everything else that is not a valid ref name fails.
Result<Ref> parseRef(std::string_view text);

// Git's ref-name rules (git check-ref-format) for a short name such as
// "main" or "release/1.x", stricter where it matters here: no leading '-', no
// "HEAD", no component "." or "..", and nothing that is a revision expression.
bool isValidRefName(std::string_view name);

// Exactly 40 hex digits (either case).
bool isFullCommitId(std::string_view text);

}  // namespace gitfed::git
