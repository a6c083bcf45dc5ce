// Object keys from `key_format`: strftime fields in UTC at the moment the object is opened,
// then $TAG (the records' tag), $TAG[n] (its n-th dot-separated part), $UUID (a random
// UUIDv4, 36 characters) and $INDEX (objects opened by this output since start, from 0).
#pragma once

#include <cstdint>
#include <ctime>
#include <expected>
#include <string>
#include <string_view>

namespace ferry::s3 {

struct KeyContext {
  std::string_view tag;
  std::time_t time = 0; // seconds since the epoch; formatted as UTC
  uint64_t index = 0;
  std::string_view uuid; // empty: a fresh one is generated when the format asks for it
};

// The key for one object. A leading '/' is removed (S3 keys do not start with one).
std::string formatKey(std::string_view format, const KeyContext& context);

// Refuses formats that cannot give a usable key: empty, or longer than S3's 1,024 bytes
// with a short tag.
std::expected<void, std::string> checkKeyFormat(std::string_view format);

// A random (version 4, RFC 9562) UUID in its 36-character text form.
std::string uuidV4();

} // namespace ferry::s3
