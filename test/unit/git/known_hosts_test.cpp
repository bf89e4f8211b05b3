// known_hosts: plain, hashed (as `ssh-keygen -H` writes them), patterns,
// ports, markers; unknown, changed and revoked keys are told apart.

#include <catch2/catch.hpp>

#include <string>

#include "gitfed/git/known_hosts.h"

using namespace gitfed::git;

namespace {

// Test keys (public halves of throwaway keys made with ssh-keygen).
const std::string kKey1 = "AAAAC3NzaC1lZDI1NTE5AAAAIBSbZl+cgcMHqci4Qc/vwxV6upy89nUAIsNlB4zq8uUz";
const std::string kKey2 = "AAAAC3NzaC1lZDI1NTE5AAAAIO2zu9wXba5mTiRlrQtb2rT+xBw4PAudJNQ8rCd9voLR";
const std::string kKey3 =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBH1C4VHwBpDoLeX5Y2gLhSJWWcwgSmlc0cbtZrLVxAZEj9VLjGUg//"
    "hZqDTR0lhka1Z5olKNJpmgKY90keOFoXA=";

std::string decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned val = 0;
  int bits = -8;
  for (char c : in) {
    if (c == '=') break;
    auto pos = chars.find(c);
    REQUIRE(pos != std::string::npos);
    val = (val << 6) + static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("plain entries: match, unknown host, changed key, other port", "[git][known_hosts]") {
  auto kh = KnownHosts::parse("# comment\n\nexample.org,192.0.2.1 ssh-ed25519 " + kKey1 + " comment here\n[example.org]:2222 ssh-ed25519 " + kKey2 + "\n");
  REQUIRE(kh);
  CHECK(kh->size() == 2);
  CHECK(kh->check("example.org", 22, "ssh-ed25519", decode(kKey1)) == KnownHosts::Verdict::Match);
  CHECK(kh->check("192.0.2.1", 22, "ssh-ed25519", decode(kKey1)) == KnownHosts::Verdict::Match);
  CHECK(kh->check("EXAMPLE.org", 22, "ssh-ed25519", decode(kKey1)) == KnownHosts::Verdict::Match);
  CHECK(kh->check("example.org", 22, "ssh-ed25519", decode(kKey2)) == KnownHosts::Verdict::Changed);
  CHECK(kh->check("other.org", 22, "ssh-ed25519", decode(kKey1)) == KnownHosts::Verdict::Unknown);
  // Another port is another host, as in OpenSSH.
  CHECK(kh->check("example.org", 2222, "ssh-ed25519", decode(kKey2)) == KnownHosts::Verdict::Match);
  CHECK(kh->check("example.org", 2222, "ssh-ed25519", decode(kKey1)) == KnownHosts::Verdict::Changed);
  CHECK(kh->check("example.org", 2223, "ssh-ed25519", decode(kKey2)) == KnownHosts::Verdict::Unknown);
  // Listed with an ed25519 key, presenting an ECDSA one.
  CHECK(kh->check("example.org", 22, "ecdsa-sha2-nistp256", decode(kKey3)) == KnownHosts::Verdict::TypeNotListed);
  CHECK(kh->typesFor("example.org", 22) == std::vector<std::string>{"ssh-ed25519"});
}

TEST_CASE("hashed entries written by ssh-keygen -H", "[git][known_hosts]") {
  // `ssh-keygen -H` of "example.org KEY1" and "[example.org]:2222 KEY2".
  auto kh = KnownHosts::parse("|1|URpFTPPGfK/INYR/cQgbHq547bU=|jGAnijm42qDCUw0oNqZgW+pihCA= ssh-ed25519 " + kKey1 +
                              "\n|1|yMRBjrzAg8VturiFgpqd0FLE5kc=|qxahw4ZCrVUHBQN6ngSt0BUF4io= ssh-ed25519 " + kKey2 + "\n");
  REQUIRE(kh);
  CHECK(kh->check("example.org", 22, "ssh-ed25519", decode(kKey1)) == KnownHosts::Verdict::Match);
  CHECK(kh->check("example.org", 2222, "ssh-ed25519", decode(kKey2)) == KnownHosts::Verdict::Match);
  CHECK(kh->check("example.org", 22, "ssh-ed25519", decode(kKey2)) == KnownHosts::Verdict::Changed);
  CHECK(kh->check("example.com", 22, "ssh-ed25519", decode(kKey1)) == KnownHosts::Verdict::Unknown);
}

TEST_CASE("patterns, negation and markers", "[git][known_hosts]") {
  auto kh = KnownHosts::parse("*.example.org,!bad.example.org ssh-ed25519 " + kKey1 + "\ngit?.example.net ssh-ed25519 " +
                              kKey2 + "\n@revoked * ssh-ed25519 " + kKey3.substr(0, 0) + kKey2 +
                              "\n@cert-authority *.example.org ssh-ed25519 " + kKey2 + "\n");
  REQUIRE(kh);
  CHECK(kh->check("a.example.org", 22, "ssh-ed25519", decode(kKey1)) == KnownHosts::Verdict::Match);
  CHECK(kh->check("bad.example.org", 22, "ssh-ed25519", decode(kKey1)) == KnownHosts::Verdict::Unknown);
  // git1.example.net lists KEY2, which is also revoked everywhere: revocation wins.
  CHECK(kh->check("git1.example.net", 22, "ssh-ed25519", decode(kKey2)) == KnownHosts::Verdict::Revoked);
  CHECK(kh->check("git12.example.net", 22, "ssh-ed25519", decode(kKey1)) == KnownHosts::Verdict::Unknown);
  // A CA line is not a host key.
  CHECK(kh->check("a.example.org", 22, "ssh-ed25519", decode(kKey2)) == KnownHosts::Verdict::Revoked);
}

TEST_CASE("malformed known_hosts lines are errors naming the line", "[git][known_hosts]") {
  for (const std::string& text : std::vector<std::string>{"example.org ssh-ed25519\n", "example.org ssh-ed25519 !!!notbase64\n",
                                  "example.org ssh-rsa " + kKey1 + "\n", "|1|abc ssh-ed25519 " + kKey1 + "\n",
                                  "@weird example.org ssh-ed25519 " + kKey1 + "\n"}) {
    INFO(text);
    auto kh = KnownHosts::parse("# ok\n" + text, "kh");
    REQUIRE_FALSE(kh);
    CHECK(kh.error().format().find("kh:2") != std::string::npos);
  }
  CHECK_FALSE(KnownHosts::load("/nonexistent/known_hosts"));
}
