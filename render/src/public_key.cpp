#include "gitfed/render/public_key.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace gitfed::render {
namespace {

constexpr std::string_view kBegin = "-----BEGIN PUBLIC KEY-----";
constexpr std::string_view kEnd = "-----END PUBLIC KEY-----";
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The DER of an Ed25519 SubjectPublicKeyInfo (RFC 8410) up to the 32 key
// bytes: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (33 bytes, 0 unused) }.
constexpr std::array<std::uint8_t, 12> kEd25519Prefix = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                         0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
constexpr std::size_t kEd25519DerBytes = kEd25519Prefix.size() + 32;

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Strict base64 (padding only at the end, no stray bits), whitespace ignored.
std::optional<std::vector<std::uint8_t>> unbase64(std::string_view text) {
  std::string chars;
  for (char c : text)
    if (!isSpace(c)) chars.push_back(c);
  if (chars.empty() || chars.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  while (pad < 2 && chars[chars.size() - 1 - pad] == '=') ++pad;
  std::vector<std::uint8_t> out;
  std::uint32_t bits = 0;
  int count = 0;
  for (std::size_t i = 0; i < chars.size() - pad; ++i) {
    auto v = kAlphabet.find(chars[i]);
    if (v == std::string_view::npos) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    if (++count == 4) {
      out.push_back(static_cast<std::uint8_t>(bits >> 16));
      out.push_back(static_cast<std::uint8_t>(bits >> 8));
      out.push_back(static_cast<std::uint8_t>(bits));
      bits = 0;
      count = 0;
    }
  }
  // The last quantum: 2 characters are 1 byte (4 spare bits), 3 are 2 bytes (2 spare bits).
  if (count == 2) {
    if (bits & 0xf) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(bits >> 4));
  } else if (count == 3) {
    if (bits & 0x3) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(bits >> 10));
    out.push_back(static_cast<std::uint8_t>(bits >> 2));
  }
  return out;
}

std::string base64(const std::vector<std::uint8_t>& data) {
  std::string out;
  for (std::size_t i = 0; i < data.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint32_t>(data[i]) << 16;
    if (i + 1 < data.size()) n |= static_cast<std::uint32_t>(data[i + 1]) << 8;
    if (i + 2 < data.size()) n |= data[i + 2];
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < data.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < data.size() ? kAlphabet[n & 63] : '=');
  }
  return out;
}

}  // namespace

std::expected<std::string, std::string> parseStatusPublicKey(std::string_view pem) {
  std::string_view text = trim(pem);
  if (text.empty()) return std::unexpected("empty (a PEM public key, as `openssl pkey -pubout` writes it)");
  std::string_view first = text.substr(0, text.find('\n'));
  if (first.find("PRIVATE KEY") != std::string_view::npos)
    return std::unexpected(
        "a private key: the registry holds the public key only (`openssl pkey -in KEY -pubout`); "
        "the private key belongs in a Secret of the cluster");
  if (text.starts_with("ssh-"))
    return std::unexpected("an OpenSSH public key: write it as PEM (`openssl pkey -in KEY -pubout`)");
  if (!text.starts_with(kBegin))
    return std::unexpected("not a PEM public key (it begins with " + std::string(kBegin) +
                           ", as `openssl pkey -pubout` writes it)");
  std::size_t end = text.find(kEnd);
  if (end == std::string_view::npos) return std::unexpected("no " + std::string(kEnd) + " line");
  if (!trim(text.substr(end + kEnd.size())).empty())
    return std::unexpected("text after " + std::string(kEnd) + " (one key only)");
  auto der = unbase64(text.substr(kBegin.size(), end - kBegin.size()));
  if (!der) return std::unexpected("the key between the PEM lines is not valid base64");
  if (der->size() >= 9 && (*der)[0] == 0x30 && (*der)[2] == 0x30 && (*der)[4] == 0x06 && (*der)[5] == 0x03 &&
      (*der)[6] == 0x2b && (*der)[7] == 0x65 && (*der)[8] == 0x6e)
    return std::unexpected("an X25519 key, which cannot sign: gitfed signs with Ed25519 (`openssl genpkey -algorithm ed25519`)");
  if (der->size() != kEd25519DerBytes || !std::equal(kEd25519Prefix.begin(), kEd25519Prefix.end(), der->begin()))
    return std::unexpected("not an Ed25519 key: gitfed signs status reports with Ed25519 (`openssl genpkey -algorithm ed25519`)");
  return std::string(kBegin) + "\n" + base64(*der) + "\n" + std::string(kEnd) + "\n";
}

}  // namespace gitfed::render
