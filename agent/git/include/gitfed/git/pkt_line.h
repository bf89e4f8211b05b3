#pragma once
// Git's pkt-line framing, and the answer of git-upload-pack to a one-round
// fetch request ("want X / have Y / done" with side-band-64k): one ACK or
// NAK line, then the pack in side-band packets (band 1: data, 2: progress,
// 3: a fatal error), then a flush. Pure: no network, no libgit2; fed in
// pieces as they arrive. A malformed or hostile answer (bad lengths, a
// packet over 65520 bytes, an unknown band, data after the end) is an Error,
// never a crash; the server's own error (an ERR line, band 3) is quoted.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "gitfed/git/error.h"

namespace gitfed::git {

// One pkt-line carrying `payload` (a "\n" is not added).
std::string pktLine(std::string_view payload);
inline constexpr std::string_view kFlushPkt = "0000";

class UploadPackResponse {
 public:
  // `onPack` receives the pack's bytes in order; an Error from it stops the parse.
  using PackSink = std::function<Result<void>(std::string_view)>;
  explicit UploadPackResponse(PackSink onPack) : onPack_(std::move(onPack)) {}

  // The next bytes of the answer.
  Result<void> feed(std::string_view bytes);
  // The answer ended; an Error if it stopped short of its final flush.
  Result<void> finish() const;
  bool complete() const { return state_ == State::Done; }
  // What the server said about our "have" (ACK <id>, or empty after a NAK).
  const std::string& acknowledged() const { return ack_; }
  std::size_t packBytes() const { return packBytes_; }

 private:
  enum class State { Ack, Pack, Done };
  Result<void> packet(std::string_view payload);

  PackSink onPack_;
  State state_ = State::Ack;
  std::string pending_;  // an incomplete pkt-line
  std::string ack_;
  std::size_t packBytes_ = 0;
};

}  // namespace gitfed::git
