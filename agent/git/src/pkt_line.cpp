#include "gitfed/git/pkt_line.h"

#include <charconv>
#include <cstdio>

namespace gitfed::git {
namespace {

constexpr std::size_t kMaxPacket = 65520;  // LARGE_PACKET_MAX of the protocol

Result<void> bad(const std::string& what) {
  return fail(ErrorCode::Network, "git-upload-pack answered something unexpected: " + what);
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

std::string pktLine(std::string_view payload) {
  char len[5];
  std::snprintf(len, sizeof len, "%04zx", payload.size() + 4);
  return std::string(len, 4) + std::string(payload);
}

Result<void> UploadPackResponse::feed(std::string_view bytes) {
  pending_.append(bytes);
  std::size_t pos = 0;
  while (pending_.size() - pos >= 4) {
    if (state_ == State::Done) return bad("data after the final flush");
    unsigned len = 0;
    const char* p = pending_.data() + pos;
    auto [end, ec] = std::from_chars(p, p + 4, len, 16);
    if (ec != std::errc() || end != p + 4) return bad("a packet length \"" + printable({p, 4}) + "\"");
    if (len == 0) {  // flush
      pos += 4;
      if (state_ == State::Pack) {
        state_ = State::Done;
        continue;
      }
      return bad("a flush before the pack");
    }
    if (len < 4 || len - 4 > kMaxPacket + 1) return bad("a packet of length " + std::to_string(len));
    if (pending_.size() - pos < len) break;  // the rest of this packet is still on its way
    auto r = packet(std::string_view(pending_).substr(pos + 4, len - 4));
    if (!r) return r;
    pos += len;
  }
  pending_.erase(0, pos);
  return {};
}

Result<void> UploadPackResponse::packet(std::string_view payload) {
  if (payload.empty()) return state_ == State::Ack ? bad("an empty line instead of ACK or NAK") : Result<void>{};
  if (payload.starts_with("ERR ")) return fail(ErrorCode::Network, "the server said: " + printable(payload.substr(4)));
  if (state_ == State::Ack) {
    std::string_view line = payload;
    if (line.ends_with('\n')) line.remove_suffix(1);
    if (line == "NAK") {
      state_ = State::Pack;
      return {};
    }
    if (line.starts_with("ACK ") && line.size() >= 44) {
      ack_ = std::string(line.substr(4, 40));
      state_ = State::Pack;
      return {};
    }
    return bad("\"" + printable(line) + "\" instead of ACK or NAK");
  }
  const char band = payload.front();
  payload.remove_prefix(1);
  switch (band) {
    case 1:
      packBytes_ += payload.size();
      return onPack_(payload);
    case 2:
      return {};  // progress
    case 3:
      return fail(ErrorCode::Network, "the server said: " + printable(payload));
    default:
      return bad("side-band " + std::to_string(static_cast<int>(static_cast<unsigned char>(band))));
  }
}

Result<void> UploadPackResponse::finish() const {
  if (state_ == State::Done) return {};
  if (!pending_.empty() || state_ == State::Pack) return bad("the answer ended in the middle (" + std::to_string(packBytes_) + " bytes of pack)");
  return bad("an empty answer");
}

}  // namespace gitfed::git
