#pragma once
// Walks a subcommand's arguments, reading `--flag value` and `--flag=value`
// alike:
//   for (ArgWalker w(args); w.next();) {
//     if (w.name() == "--output") { if (!w.value(output)) return usage(...); }
//     else if (!w.name().starts_with("-")) paths.push_back(w.name());
//   }

#include <cstddef>
#include <string>

#include "cli/commands.h"

namespace gitfed::cli {

class ArgWalker {
 public:
  explicit ArgWalker(const Args& args) : args_(args) {}

  // Moves to the next argument; false when none is left.
  bool next() {
    if (started_) ++index_;
    started_ = true;
    if (index_ >= args_.size()) return false;
    const std::string& a = args_[index_];
    auto eq = a.find('=');
    hasInline_ = a.starts_with("--") && eq != std::string::npos;
    name_ = hasInline_ ? a.substr(0, eq) : a;
    inline_ = hasInline_ ? a.substr(eq + 1) : std::string();
    return true;
  }
  // The flag without its "=value", or the argument as given.
  const std::string& name() const { return name_; }
  // The argument as given, "=value" included.
  const std::string& raw() const { return args_[index_]; }
  // The flag's value: what follows "=", or else the next argument (consumed).
  // False when there is none.
  bool value(std::string& out) {
    if (hasInline_) {
      out = inline_;
      return true;
    }
    if (index_ + 1 >= args_.size()) return false;
    out = args_[++index_];
    return true;
  }

 private:
  const Args& args_;
  std::size_t index_ = 0;
  bool started_ = false;
  bool hasInline_ = false;
  std::string name_, inline_;
};

}  // namespace gitfed::cli
