#pragma once
// The status signing key of a registry entry (a Cluster's
// spec.statusPublicKey, docs/render-spec.md section 3): an Ed25519 public key
// as PEM (SubjectPublicKeyInfo, what `openssl pkey -pubout` writes), with which
// readers of the fleet verify the cluster's signed status reports
// (docs/status-spec.md, "Authentic reports"). The renderer does no
// cryptography: the key is checked by its shape alone (the PEM armour, strict
// base64, the 44 bytes of DER an Ed25519 key is). Plain functions; thread-safe.

#include <expected>
#include <string>
#include <string_view>

namespace gitfed::render {

// The key in one canonical form ("-----BEGIN PUBLIC KEY-----\n", 60 base64
// characters, "\n-----END PUBLIC KEY-----\n"), or what is wrong with it: a
// message without location, which never quotes the text (a private key
// pasted by mistake must not end up in a log).
std::expected<std::string, std::string> parseStatusPublicKey(std::string_view pem);

}  // namespace gitfed::render
