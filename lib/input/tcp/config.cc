// The tcp input's option table (Fluent Bit's in_tcp names and defaults) and its reading.
#include <fmt/format.h>

#include <stdexcept>

#include "ferry/config/config.h"
#include "ferry/input/tcp.h"

namespace ferry::input {

using config::OptionSpec;
using config::OptionType;

const config::OptionTable& tcpInputOptions() {
  static const config::OptionTable table = {
      OptionSpec{.name = "listen",
                 .type = OptionType::kString,
                 .default_value = "0.0.0.0",
                 .doc = "Address to listen on (127.0.0.1 for FireLens' health check)."},
      OptionSpec{.name = "port",
                 .type = OptionType::kInt,
                 .default_value = "5170",
                 .min_value = 0,
                 .max_value = 65535,
                 .doc = "TCP port (0: a free one)."},
      OptionSpec{.name = "tag",
                 .type = OptionType::kString,
                 .default_value = "tcp",
                 .doc = "Tag of the records."},
      OptionSpec{.name = "format",
                 .type = OptionType::kEnum,
                 .default_value = "json",
                 .enum_values = {"json", "none"},
                 .doc = "json: each JSON object sent (concatenated or one a line) is a record, "
                        "an array becomes {\"msg\": [...]}, invalid JSON is skipped to the next "
                        "newline and counted (reason malformed); none: each piece between "
                        "separators is a record {\"log\": piece}."},
      OptionSpec{.name = "separator",
                 .type = OptionType::kString,
                 .default_value = "\\n",
                 .doc = "Record separator of format none; \\n, \\r, \\t and \\\\ are read as "
                        "escapes."},
      OptionSpec{.name = "chunk_size",
                 .type = OptionType::kSize,
                 .default_value = "32KiB",
                 .min_value = 256,
                 .max_value = int64_t{16} * 1024 * 1024,
                 .doc = "Bytes read from a connection at a time."},
      OptionSpec{.name = "buffer_size",
                 .type = OptionType::kSize,
                 .default_value = "64KiB",
                 .min_value = 256,
                 .max_value = int64_t{64} * 1024 * 1024,
                 .doc = "Largest record still incomplete a connection may hold; a larger one "
                        "closes the connection (counted, reason too_large), as in Fluent Bit."},
      OptionSpec{.name = "max_connections",
                 .type = OptionType::kInt,
                 .default_value = "1024",
                 .min_value = 1,
                 .max_value = 1'000'000,
                 .doc = "Connections served at once; more are accepted and closed (counted)."},
  };
  return table;
}

std::expected<TcpInputConfig, std::string> tcpSettings(const config::Section& s) {
  TcpInputConfig c;
  if (s.has("listen")) c.host = s.getString("listen");
  if (s.has("port")) c.port = static_cast<uint16_t>(s.getInt("port"));
  if (s.has("tag")) c.tag = s.getString("tag");
  if (s.has("format"))
    c.format = s.getString("format") == "none" ? tcp::Format::kNone : tcp::Format::kJson;
  if (s.has("separator")) c.separator = tcp::unescapeSeparator(s.getString("separator"));
  if (c.separator.empty()) return std::unexpected("separator: must not be empty");
  if (s.has("chunk_size")) c.chunk_size = static_cast<size_t>(s.getInt("chunk_size"));
  if (s.has("buffer_size")) c.buffer_size = static_cast<size_t>(s.getInt("buffer_size"));
  if (s.has("max_connections"))
    c.max_connections = static_cast<size_t>(s.getInt("max_connections"));
  return c;
}

TcpInputConfig tcpConfigFromSection(const config::Section& s) {
  auto c = tcpSettings(s);
  if (!c) throw std::invalid_argument(config::sectionDiagnostic(s, c.error()).format());
  return std::move(*c);
}

InputPtr makeTcpInput(const config::Section& section) {
  return std::make_unique<TcpInput>(tcpConfigFromSection(section));
}

} // namespace ferry::input
