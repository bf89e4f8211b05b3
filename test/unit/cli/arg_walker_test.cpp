// ArgWalker: `--flag value` and `--flag=value` read alike, positional
// arguments as given, a missing value reported.
#include <catch2/catch.hpp>

#include "cli/arg_walker.h"

using gitfed::cli::Args;
using gitfed::cli::ArgWalker;

TEST_CASE("ArgWalker reads --flag value, --flag=value and positional arguments", "[cli]") {
  Args args{"--output", "json", "--cluster=a=b", "path/x", "-o", "text", "k=v"};
  ArgWalker w(args);
  std::string v;
  REQUIRE(w.next());
  CHECK(w.name() == "--output");
  REQUIRE(w.value(v));
  CHECK(v == "json");
  REQUIRE(w.next());
  CHECK(w.name() == "--cluster");
  CHECK(w.raw() == "--cluster=a=b");
  REQUIRE(w.value(v));
  CHECK(v == "a=b");  // only the first "=" splits
  REQUIRE(w.next());
  CHECK(w.name() == "path/x");
  REQUIRE(w.next());
  CHECK(w.name() == "-o");  // a short flag takes the next argument
  REQUIRE(w.value(v));
  CHECK(v == "text");
  REQUIRE(w.next());
  CHECK(w.name() == "k=v");  // not a flag: as given
  CHECK_FALSE(w.next());
}

TEST_CASE("ArgWalker: a flag at the end has no value", "[cli]") {
  Args args{"--output"};
  ArgWalker w(args);
  REQUIRE(w.next());
  std::string v = "unchanged";
  CHECK_FALSE(w.value(v));
  CHECK(v == "unchanged");
  CHECK_FALSE(w.next());
  Args none;
  CHECK_FALSE(ArgWalker(none).next());
}
