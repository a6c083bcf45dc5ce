// Scalar parsers shared by the config loader and anyone reading user-written values: sizes
// (KiB/MiB/GiB binary, KB/MB/GB decimal), durations (ms/s/m/h/d), booleans and integers.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace ferry::config {

// "512KiB", "64MiB", "1GiB" (powers of 1024), "5MB", "1KB", "1K" (powers of 1000, as Fluent
// Bit reads them), "100B" or bare "1048576" (bytes). Units are case-insensitive, a decimal
// fraction is allowed ("1.5GiB"; the result is rounded down to a byte), one space may
// separate number and unit. Negative values, garbage and values above INT64_MAX are errors;
// the message quotes the text.
std::expected<int64_t, std::string> parseSize(std::string_view text);

// "500ms", "5s", "2m", "1h", "1d", compounds such as "1h30m", and a bare number, which is
// seconds (Fluent Bit's reading of "flush 5"). Result in milliseconds, rounded down.
// Negative values and garbage are errors; the message quotes the text.
std::expected<int64_t, std::string> parseDuration(std::string_view text);

// true/false, yes/no, on/off in any case.
std::expected<bool, std::string> parseBool(std::string_view text);

// A signed decimal 64-bit integer (an optional sign, digits, nothing else).
std::expected<int64_t, std::string> parseInt(std::string_view text);

// The shortest exact spelling parseSize() reads back: "64MiB", "5MB", "1000B" → "1KB".
std::string formatSize(int64_t bytes);
// The shortest exact spelling parseDuration() reads back: "25s", "500ms", "90s" → "90s",
// "2m", "1h"; 0 → "0s".
std::string formatDuration(int64_t ms);

} // namespace ferry::config
