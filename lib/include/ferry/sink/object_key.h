// The sink kit, name templates: object keys, stream and topic names built from a template
// the user writes. strftime fields in UTC at the given time, then $TAG (the records' tag:
// the runner hands a partitioned sink one tag per request), $TAG[n] (as Fluent Bit: the n-th,
// n from 0 to 9, non-empty part of the tag split on any of tag_delimiters; left as written
// when the tag has no such part), $UUID (a random UUIDv4, 36 characters, the same wherever
// it appears in one name) and $INDEX (a counter the sink keeps). Any other '$' is literal.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace ferry::sink {

struct NameContext {
  std::string_view tag;
  std::time_t time = 0; // seconds since the epoch; formatted as UTC
  uint64_t index = 0;
  std::string_view uuid; // empty: a fresh one is generated when the template asks for it
  std::string_view tag_delimiters = ".";
};

// The template expanded (strftime first, so a '%' in a tag is never read as a conversion).
std::string expandNameTemplate(std::string_view format, const NameContext& context);

// A random (version 4, RFC 9562) UUID in its 36-character text form (OpenSSL's CSPRNG).
std::string uuidV4();

} // namespace ferry::sink
