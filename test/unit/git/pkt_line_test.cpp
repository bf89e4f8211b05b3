// The pkt-line framing and the parser of git-upload-pack's answer to a
// one-round fetch (gitfed/git/pkt_line.h): well-formed answers in any split,
// and every malformed or hostile one refused with an Error.

#include <catch2/catch.hpp>

#include <string>

#include "gitfed/git/pkt_line.h"

using namespace gitfed::git;

namespace {

std::string band(char b, const std::string& data) { return pktLine(std::string(1, b) + data); }

struct Parsed {
  Result<void> result;
  std::string pack;
  std::string ack;
  bool complete = false;
};

// Feeds `answer` in pieces of `step` bytes, then finishes.
Parsed parse(const std::string& answer, std::size_t step) {
  Parsed out{{}, {}, {}, false};
  UploadPackResponse r([&](std::string_view d) -> Result<void> {
    out.pack.append(d);
    return {};
  });
  for (std::size_t i = 0; i < answer.size(); i += step) {
    out.result = r.feed(std::string_view(answer).substr(i, step));
    if (!out.result) return out;
  }
  out.result = r.finish();
  out.ack = r.acknowledged();
  out.complete = r.complete();
  return out;
}

const std::string kOid = "0123456789abcdef0123456789abcdef01234567";

}  // namespace

TEST_CASE("pktLine frames a payload with its length in four hex digits", "[pktline]") {
  CHECK(pktLine("done\n") == "0009done\n");
  CHECK(pktLine("") == "0004");
  CHECK(pktLine(std::string(0xfff0 - 4, 'x')).substr(0, 4) == "fff0");
}

TEST_CASE("an upload-pack answer: ACK or NAK, the pack in band 1, progress ignored, a flush", "[pktline]") {
  const std::string pack = "PACK\x00\x00\x00\x02" + std::string(100000, 'p');
  std::string answer = pktLine("ACK " + kOid + "\n") + band(2, "Counting objects\r");
  for (std::size_t i = 0; i < pack.size(); i += 65515) answer += band(1, pack.substr(i, 65515));
  answer += std::string(kFlushPkt);
  for (std::size_t step : {std::size_t{1}, std::size_t{3}, std::size_t{4096}, answer.size()}) {
    INFO("fed in pieces of " << step);
    auto p = parse(answer, step);
    INFO((p.result ? "" : p.result.error().format()));
    REQUIRE(p.result);
    CHECK(p.complete);
    CHECK(p.ack == kOid);
    CHECK(p.pack == pack);
  }
  auto nak = parse(pktLine("NAK\n") + band(1, "PACK") + std::string(kFlushPkt), 7);
  REQUIRE(nak.result);
  CHECK(nak.ack.empty());
  CHECK(nak.pack == "PACK");
}

TEST_CASE("malformed or hostile upload-pack answers are errors that say what came", "[pktline]") {
  auto refused = [](const std::string& answer, const std::string& text) {
    auto p = parse(answer, 5);
    REQUIRE_FALSE(p.result);
    INFO(p.result.error().format());
    CHECK(p.result.error().message.find(text) != std::string::npos);
  };
  refused("", "an empty answer");
  refused(pktLine("NAK\n") + band(1, "PACK"), "ended in the middle");               // no final flush
  refused(pktLine("NAK\n") + band(1, "PACK").substr(0, 6), "ended in the middle");  // cut inside a packet
  refused("zzzz", "a packet length \"zzzz\"");
  refused("0002", "a packet of length 2");                                           // a protocol-v2 delimiter
  refused("ffff" + std::string(100, 'x'), "a packet of length 65535");               // over the protocol's maximum
  refused(std::string(kFlushPkt), "a flush before the pack");
  refused(pktLine("hello\n"), "instead of ACK or NAK");
  refused(pktLine("ERR upload-pack: not our ref " + kOid), "the server said: upload-pack: not our ref");
  refused(pktLine("NAK\n") + band(3, "fatal: out of memory"), "the server said: fatal: out of memory");
  refused(pktLine("NAK\n") + band(7, "x"), "side-band 7");
  refused(pktLine("NAK\n") + band(1, "PACK") + std::string(kFlushPkt) + pktLine("more"), "data after the final flush");
  // Control characters of a hostile server are not echoed.
  auto p = parse(pktLine("ERR \x1b[2Jboom\n"), 64);
  REQUIRE_FALSE(p.result);
  CHECK(p.result.error().message.find('\x1b') == std::string::npos);
}

TEST_CASE("an error from the pack's consumer stops the parse", "[pktline]") {
  UploadPackResponse r([](std::string_view) -> Result<void> { return fail(ErrorCode::Corrupt, "disk full"); });
  auto fed = r.feed(pktLine("NAK\n") + band(1, "PACK"));
  REQUIRE_FALSE(fed);
  CHECK(fed.error().code == ErrorCode::Corrupt);
}
