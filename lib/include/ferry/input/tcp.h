// The `tcp` input: Fluent Bit's in_tcp. A plain TCP server whose clients send either
// concatenated JSON values (format json: each object is a record, an array becomes
// {"msg": [...]}) or text split on a separator (format none: each piece is {"log": piece}).
// FireLens adds one on 127.0.0.1:8877 for its `nc` health check. Limits: buffer_size per
// connection for a record not yet complete (a larger one closes the connection, as in Fluent
// Bit), chunk_size per read, max_connections.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

#include "ferry/codec/parsers.h"
#include "ferry/config/options.h"
#include "ferry/core/batch.h"
#include "ferry/input/input.h"

namespace ferry::input {

namespace tcp {

enum class Format : uint8_t { kJson, kNone };

// One connection's bytes → records. Records go into the batch given to each call: msgpack
// maps (kMsgpackMap batches) for json, lines (kLine batches) for none.
class TcpDecoder {
public:
  TcpDecoder(Format format, std::string separator, size_t max_pending);

  // Appends what `bytes` completes. False when the record still incomplete holds more than
  // max_pending bytes: the caller closes the connection (nothing of it was acknowledged).
  bool feed(std::string_view bytes, core::Batch& batch, int64_t ts_ns);
  // End of the connection: a last line without separator is still a record (none); an
  // unfinished JSON value counts as malformed.
  void finish(core::Batch& batch, int64_t ts_ns);

  // JSON that is not an object or array, or does not parse: skipped up to the next newline
  // (or what was buffered, without one) and counted; the connection stays open.
  uint64_t malformed() const { return malformed_; }
  size_t pending() const { return pending_.size(); }

private:
  void decodeJson(core::Batch& batch, int64_t ts_ns);
  void decodeNone(core::Batch& batch, int64_t ts_ns);
  void emitJson(std::string_view value, core::Batch& batch, int64_t ts_ns);
  void skipBadJson();

  Format format_;
  std::string separator_;
  size_t max_pending_;
  codec::LineParserPtr json_;
  std::string pending_; // bytes not yet consumed
  // JSON scan state, kept between feeds so a large value is scanned once.
  size_t scan_ = 0;
  bool in_value_ = false;
  bool in_string_ = false;
  bool escaped_ = false;
  bool skipping_ = false; // dropping a malformed value up to the next newline
  uint32_t depth_ = 0;
  uint64_t malformed_ = 0;
  std::string wrapped_; // scratch: an array as {"msg": [...]}
};

// Fluent Bit's Separator text with its escapes read: "\n", "\r\n", "\t", "\\".
std::string unescapeSeparator(std::string_view text);

} // namespace tcp

struct TcpInputConfig {
  std::string host = "0.0.0.0";
  uint16_t port = 5170; // 0 = a free port (tests)
  std::string tag = "tcp";
  tcp::Format format = tcp::Format::kJson;
  std::string separator = "\n";
  size_t chunk_size = 32 * 1024;
  size_t buffer_size = 64 * 1024;
  size_t max_connections = 1024;
};

const config::OptionTable& tcpInputOptions();
// Reads a validated section, with nothing opened (the registry's settings check runs it too);
// an error names the key: "separator: must not be empty".
std::expected<TcpInputConfig, std::string> tcpSettings(const config::Section& section);
// The same, throwing std::invalid_argument naming the file, line and key.
TcpInputConfig tcpConfigFromSection(const config::Section& section);
InputPtr makeTcpInput(const config::Section& section);
class TcpInput final : public Input {
public:
  explicit TcpInput(TcpInputConfig config);
  ~TcpInput() override;
  void start(InputContext& context) override;
  void stop() override;
  void join() override;
  // The bound port, after start() (tests bind port 0).
  uint16_t port() const { return port_; }

private:
  struct Loop;
  TcpInputConfig config_;
  std::unique_ptr<Loop> loop_;
  uint16_t port_ = 0;
};

} // namespace ferry::input
