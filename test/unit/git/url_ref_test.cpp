// Remote URLs and refs are checked before anything connects: credentials in a
// URL and revision expressions in a ref are refused.

#include <catch2/catch.hpp>

#include "gitfed/git/ref.h"
#include "gitfed/git/url.h"

using namespace gitfed::git;

TEST_CASE("https, ssh, git and file URLs are parsed", "[git][url]") {
  auto u = parseRemoteUrl("https://git.example.com:8443/org/fleet.git");
  REQUIRE(u);
  CHECK(u->scheme == RemoteUrl::Scheme::Https);
  CHECK(u->host == "git.example.com");
  CHECK(u->port == 8443);
  CHECK(u->path == "/org/fleet.git");
  CHECK(u->effectivePort() == 8443);

  auto s = parseRemoteUrl("ssh://git@127.0.0.1:2222/fleet.git");
  REQUIRE(s);
  CHECK(s->scheme == RemoteUrl::Scheme::Ssh);
  CHECK(s->user == "git");
  CHECK(s->host == "127.0.0.1");
  CHECK(s->effectivePort() == 2222);

  auto scp = parseRemoteUrl("git@github.com:org/fleet.git");
  REQUIRE(scp);
  CHECK(scp->scheme == RemoteUrl::Scheme::Ssh);
  CHECK(scp->host == "github.com");
  CHECK(scp->user == "git");
  CHECK(scp->effectivePort() == 22);

  auto g = parseRemoteUrl("git://localhost/fleet.git");
  REQUIRE(g);
  CHECK(g->effectivePort() == 9418);

  auto f = parseRemoteUrl("file:///srv/git/fleet.git");
  REQUIRE(f);
  CHECK(f->scheme == RemoteUrl::Scheme::File);
  CHECK(f->path == "/srv/git/fleet.git");
  auto p = parseRemoteUrl("/srv/git/fleet.git");
  REQUIRE(p);
  CHECK(p->text == "file:///srv/git/fleet.git");

  auto v6 = parseRemoteUrl("https://[::1]:8443/fleet.git");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
}

TEST_CASE("credentials in a URL are refused and never repeated in the error", "[git][url]") {
  for (const char* url : {"https://user:s3cret@git.example.com/fleet.git", "https://s3cret@git.example.com/fleet.git",
                          "https://user:s3cret@git.example.com", "ssh://git:s3cret@host/fleet.git",
                          "git://s3cret@host/fleet.git", "git:s3cret@host:fleet.git", "http://a%3As3cret@host/x.git"}) {
    INFO(url);
    auto r = parseRemoteUrl(url);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::InvalidArgument);
    CHECK(r.error().format().find("s3cret") == std::string::npos);
  }
}

TEST_CASE("malformed URLs are refused", "[git][url]") {
  for (const char* url : {"", "fleet.git", "ftp://host/x.git", "https://host", "https://host/", "https://host:0/x.git",
                          "https://host:99999/x.git", "https://host:abc/x.git", "https://ho st/x.git",
                          "https://host/x.git?token=1", "https://host/x.git#frag", "https://host/x\n.git",
                          "file://otherhost/x.git", "https://[::1/x.git", "https:///x.git"}) {
    INFO(url);
    CHECK_FALSE(parseRemoteUrl(url));
  }
}

TEST_CASE("refs: branches, tags and full commit ids only", "[git][ref]") {
  auto b = parseRef("main");
  REQUIRE(b);
  CHECK(b->kind == Ref::Kind::Branch);
  CHECK(b->fullName() == "refs/heads/main");
  auto nested = parseRef("release/1.x");
  REQUIRE(nested);
  CHECK(nested->name == "release/1.x");
  auto full = parseRef("refs/heads/main");
  REQUIRE(full);
  CHECK(*full == *b);
  auto t = parseRef("refs/tags/v1.2.0");
  REQUIRE(t);
  CHECK(t->kind == Ref::Kind::Tag);
  CHECK(t->fullName() == "refs/tags/v1.2.0");
  auto c = parseRef("1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D");
  REQUIRE(c);
  CHECK(c->kind == Ref::Kind::Commit);
  CHECK(c->name == "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d");
}

TEST_CASE("revision expressions and invalid names are refused", "[git][ref]") {
  for (const char* ref : {"main~99999", "main^", "main^{tree}", "HEAD@{1}", "@{-1}", "HEAD", "@", "a..b", "..", "../x",
                          "main/", "/main", "a//b", ".hidden", "x/.y", "main.lock", "a b", "a:b", "a?", "a*", "a[b",
                          "a\\b", "-rf", "main.", "", "refs/remotes/origin/main", "refs/notes/x", "1a2b3c4d:main",
                          "refs/heads/", "refs/heads/a..b"}) {
    INFO(ref);
    auto r = parseRef(ref);
    CHECK_FALSE(r);
    if (!r) CHECK(r.error().code == ErrorCode::InvalidArgument);
  }
  CHECK_FALSE(Ref::commit("1a2b3c4"));  // abbreviations are not accepted
  CHECK_FALSE(Ref::tag("v1~1"));
}
