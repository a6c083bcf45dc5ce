// Object keys from `key_format`: strftime fields in UTC at the moment the object is opened,
// then $TAG (the records' tag: every object holds one tag's records), $TAG[n] (as Fluent
// Bit: the n-th, n from 0 to 9, non-empty part of the tag split on any of tag_delimiters; left
// as it is when the tag has no such part), $UUID (a random UUIDv4, 36 characters) and $INDEX
// (as Fluent Bit: objects opened by this output since start, counting from 1, across tags).
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
  std::string_view tag_delimiters = ".";
};

// The key for one object. A leading '/' is removed (S3 keys do not start with one).
std::string formatKey(std::string_view format, const KeyContext& context);

// Refuses formats that cannot give a usable key: empty, or longer than S3's 1,024 bytes
// with a short tag.
std::expected<void, std::string> checkKeyFormat(std::string_view format);

// A random (version 4, RFC 9562) UUID in its 36-character text form.
std::string uuidV4();

} // namespace ferry::s3
