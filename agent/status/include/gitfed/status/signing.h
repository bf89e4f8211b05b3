#pragma once
// Report signatures (docs/status-spec.md, "Authentic reports"): an agent signs
// its per-cluster report with an Ed25519 key of its own; readers verify it
// against the public key of the cluster's registry entry. The signed bytes
// bind the cluster's name and the report's sequence to the report's text, so
// a report signed for one cluster or one sequence does not verify as another.
// OpenSSL is called only in signing.cpp.
//
// ReportSigner holds a private key (never logged, never in an Error); it is
// immutable once loaded and thread-safe. verifyReport is a plain function.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "gitfed/status/report.h"

namespace gitfed::status {

// "gitfed.io/status-report/v1\0<cluster>\0<sequence>\0<content>".
std::string signingPayload(std::string_view cluster, std::uint64_t sequence, std::string_view content);

class ReportSigner {
 public:
  // A PEM private key (PKCS#8, as `openssl genpkey -algorithm ed25519` writes
  // it); anything but an Ed25519 key is refused. Errors name the file only.
  static Result<std::shared_ptr<const ReportSigner>> load(const std::filesystem::path& privateKeyPem);
  static Result<std::shared_ptr<const ReportSigner>> fromPem(std::string_view privateKeyPem);
  // A fresh key (tests, and `gitfed status` tooling).
  static Result<std::shared_ptr<const ReportSigner>> generate();
  ~ReportSigner();

  // The trailer's value: "ed25519 <base64 of the 64-byte signature>".
  Result<std::string> sign(std::string_view cluster, std::uint64_t sequence, std::string_view content) const;
  // The public key as PEM (SubjectPublicKeyInfo), for the registry entry.
  std::string publicKeyPem() const;
  // The private key as PEM (PKCS#8), to store in a Secret.
  std::string privateKeyPem() const;

  struct Key;

 private:
  explicit ReportSigner(std::unique_ptr<Key> key);
  std::unique_ptr<Key> key_;
};

// Public keys of the registry's clusters: name -> PEM (registry_keys.h reads them).
using PublicKeys = std::map<std::string, std::string>;

enum class SignatureState { Unsigned, Valid, Bad, NoKey };
const char* toString(SignatureState s);  // "unsigned", "signed", "BAD SIGNATURE", "no key"

// Checks `signature` (the trailer's value, "" when there is none) against a
// PEM public key ("" when the reader has none for the cluster).
SignatureState verifyReport(std::string_view publicKeyPem, std::string_view cluster, std::uint64_t sequence,
                            std::string_view content, std::string_view signature);

}  // namespace gitfed::status
