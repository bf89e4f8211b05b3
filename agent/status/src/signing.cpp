#include "gitfed/status/signing.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

namespace gitfed::status {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

constexpr std::string_view kScheme = "ed25519 ";

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

// Strict base64 of exactly `expected` bytes.
bool unbase64(std::string_view text, std::size_t expected, std::string& out) {
  if (text.size() != 4 * ((expected + 2) / 3)) return false;
  std::string buf(text.size(), '\0');
  int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(buf.data()),
                            reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (len < 0) return false;
  std::size_t pad = 0;
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) ++pad;
  std::size_t n = static_cast<std::size_t>(len) - pad;
  if (n != expected) return false;
  out.assign(buf.data(), n);
  return true;
}

PkeyPtr readPrivate(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr readPublic(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return PkeyPtr(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

}  // namespace

struct ReportSigner::Key {
  PkeyPtr pkey;
};

std::string signingPayload(std::string_view cluster, std::uint64_t sequence, std::string_view content) {
  std::string p = "gitfed.io/status-report/v1";
  p.push_back('\0');
  p.append(cluster);
  p.push_back('\0');
  p.append(std::to_string(sequence));
  p.push_back('\0');
  p.append(content);
  return p;
}

ReportSigner::ReportSigner(std::unique_ptr<Key> key) : key_(std::move(key)) {}
ReportSigner::~ReportSigner() = default;

Result<std::shared_ptr<const ReportSigner>> ReportSigner::fromPem(std::string_view pem) {
  auto key = std::make_unique<Key>();
  key->pkey = readPrivate(pem);
  if (!key->pkey) return git::fail(ErrorCode::InvalidArgument, "not a PEM private key", "status signing key");
  if (EVP_PKEY_get_id(key->pkey.get()) != EVP_PKEY_ED25519)
    return git::fail(ErrorCode::InvalidArgument, "the key is not an Ed25519 key", "status signing key");
  return std::shared_ptr<const ReportSigner>(new ReportSigner(std::move(key)));
}

Result<std::shared_ptr<const ReportSigner>> ReportSigner::generate() {
  auto key = std::make_unique<Key>();
  key->pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key->pkey) return git::fail(ErrorCode::Internal, "cannot generate an Ed25519 key", "status signing key");
  return std::shared_ptr<const ReportSigner>(new ReportSigner(std::move(key)));
}

std::string ReportSigner::privateKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Result<std::shared_ptr<const ReportSigner>> ReportSigner::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return git::fail(ErrorCode::InvalidArgument, "cannot read " + file.string(), "status signing key");
  std::stringstream text;
  text << in.rdbuf();
  std::string pem = text.str();
  auto signer = fromPem(pem);
  std::fill(pem.begin(), pem.end(), '\0');
  if (!signer) return git::fail(signer.error().code, file.string() + ": " + signer.error().message, "status signing key");
  return signer;
}

Result<std::string> ReportSigner::sign(std::string_view cluster, std::uint64_t sequence, std::string_view content) const {
  std::string payload = signingPayload(cluster, sequence, content);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char sig[64];
  std::size_t len = sizeof sig;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) != 1 ||
      len != sizeof sig)
    return git::fail(ErrorCode::Internal, "signing failed", "status " + std::string(cluster));
  return std::string(kScheme) + base64(sig, len);
}

std::string ReportSigner::publicKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_->pkey.get()) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

const char* toString(SignatureState s) {
  switch (s) {
    case SignatureState::Unsigned: return "unsigned";
    case SignatureState::Valid: return "signed";
    case SignatureState::Bad: return "BAD SIGNATURE";
    case SignatureState::NoKey: return "no key";
  }
  return "?";
}

SignatureState verifyReport(std::string_view publicKeyPem, std::string_view cluster, std::uint64_t sequence,
                            std::string_view content, std::string_view signature) {
  if (signature.empty()) return SignatureState::Unsigned;
  if (publicKeyPem.empty()) return SignatureState::NoKey;
  std::string raw;
  if (!signature.starts_with(kScheme) || !unbase64(signature.substr(kScheme.size()), 64, raw)) return SignatureState::Bad;
  PkeyPtr key = readPublic(publicKeyPem);
  if (!key || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) return SignatureState::Bad;
  std::string payload = signingPayload(cluster, sequence, content);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return SignatureState::Bad;
  int ok = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                            reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
  return ok == 1 ? SignatureState::Valid : SignatureState::Bad;
}

}  // namespace gitfed::status
