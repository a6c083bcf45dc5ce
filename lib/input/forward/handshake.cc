// Forward protocol v1 handshake: HELO, PING check, PONG. The digest comparison is constant
// time; a failed PING still gets a PONG (auth false, reason) before the connection closes.
#include "handshake.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <vector>

#include "ferry/codec/msgpack_scan.h"

namespace ferry::input::forward {

std::string makeNonce() {
  std::string nonce(16, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), 16) != 1) {
    // The CSPRNG failing is not something a connection can recover from; an all-zero nonce
    // would weaken replay protection, so the caller treats an empty nonce as a failure.
    return {};
  }
  return nonce;
}

std::string makeHelo(std::string_view nonce) {
  std::string out;
  packArrayHeader(out, 2);
  packStr(out, "HELO");
  packMapHeader(out, 3);
  packStr(out, "nonce");
  packBin(out, nonce);
  packStr(out, "auth");
  packStr(out, "");
  packStr(out, "keepalive");
  packBool(out, true);
  return out;
}

std::string sha512Hex(std::initializer_list<std::string_view> parts) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha512(), nullptr) != 1) return {};
  for (std::string_view part : parts) {
    if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) return {};
  }
  if (EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

namespace {

std::string pong(bool ok, std::string_view reason, std::string_view hostname,
                 std::string_view digest) {
  std::string out;
  packArrayHeader(out, 5);
  packStr(out, "PONG");
  packBool(out, ok);
  packStr(out, reason);
  packStr(out, hostname);
  packStr(out, digest);
  return out;
}

PingVerdict refuse(std::string reason) {
  PingVerdict v;
  v.pong = pong(false, reason, "", "");
  v.reason = std::move(reason);
  return v;
}

} // namespace

PingVerdict checkPing(std::string_view ping, std::string_view nonce, std::string_view shared_key,
                      std::string_view self_hostname) {
  MsgpackCursor c(ping);
  uint64_t elements = 0;
  std::string_view kind, hostname, salt, digest;
  if (!c.readArray(elements) || elements != 6 || !c.readStr(kind) || kind != "PING") {
    return refuse("invalid ping message");
  }
  if (!c.readStrOrBin(hostname) || !c.readStrOrBin(salt) || !c.readStrOrBin(digest)) {
    return refuse("invalid ping message");
  }
  // Username and password digest (elements 5 and 6) are not checked: no user auth is offered
  // (HELO's auth salt is empty).
  const std::string expected = sha512Hex({salt, hostname, nonce, shared_key});
  if (expected.empty() || digest.size() != expected.size() ||
      CRYPTO_memcmp(digest.data(), expected.data(), expected.size()) != 0) {
    return refuse("shared_key mismatch");
  }
  PingVerdict v;
  v.authenticated = true;
  v.pong = pong(true, "", self_hostname, sha512Hex({salt, self_hostname, nonce, shared_key}));
  return v;
}

} // namespace ferry::input::forward
