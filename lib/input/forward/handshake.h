// The forward protocol v1 shared_key handshake (server side): HELO out, PING in, PONG out.
// Digests are hex SHA-512 of salt + hostname + nonce + shared_key, as the spec fixes them.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace ferry::input::forward {

// 16 random bytes (OpenSSL's CSPRNG), for the HELO nonce.
std::string makeNonce();

// ["HELO", {"nonce": <bin>, "auth": "", "keepalive": true}]. An empty auth salt: no
// username/password is required, only the shared key.
std::string makeHelo(std::string_view nonce);

// Lowercase hex SHA-512 of the concatenated parts.
std::string sha512Hex(std::initializer_list<std::string_view> parts);

struct PingVerdict {
  bool authenticated = false;
  std::string reason; // why not (for the PONG and the log)
  std::string pong;   // the PONG to send either way
};

// Checks a PING (["PING", client_hostname, shared_key_salt, shared_key_hexdigest, username,
// password_digest]) and builds the PONG (["PONG", auth, reason, self_hostname,
// sha512_hex(shared_key_salt + self_hostname + nonce + shared_key)]).
PingVerdict checkPing(std::string_view ping, std::string_view nonce, std::string_view shared_key,
                      std::string_view self_hostname);

} // namespace ferry::input::forward
