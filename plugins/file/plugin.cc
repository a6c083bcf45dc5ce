// The `file` sink: JSON lines appended to a path. When logrotate moves the file away (or
// deletes it), the next write notices the path no longer names our inode and reopens it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ferry/output/local_sink.h"

namespace {

using namespace ferry;

class FileSink : public sdk::Sink {
public:
  FileSink(std::string path, output::LineEncoding enc, int mode)
      : path_(std::move(path)), enc_(std::move(enc)), mode_(mode) {}
  ~FileSink() override {
    if (fd_ >= 0) ::close(fd_);
  }

  std::expected<void, std::string> open() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode_);
    if (fd_ < 0) return std::unexpected("cannot open " + path_ + ": " + std::strerror(errno));
    return {};
  }

  std::expected<sdk::RequestPtr, std::string> encode(std::span<const ferry_plugin_record> records,
                                                     size_t& consumed, size_t& dropped) override {
    return output::encodeLines(records, enc_, consumed, dropped);
  }

  void deliver(sdk::Request& request, ferry_plugin_verdict& v) override {
    auto& r = static_cast<output::LinesRequest&>(request);
    if (auto ok = reopenIfMoved(); !ok) {
      v.kind = FERRY_VERDICT_RETRY;
      sdk::setMessage(v, ok.error());
      return;
    }
    const int err = output::writeAll(fd_, r.bytes.data(), r.bytes.size());
    if (err == 0) {
      v.kind = FERRY_VERDICT_DELIVERED;
      return;
    }
    ::close(fd_);
    fd_ = -1; // reopen on the next attempt (disk full, file system remounted, ...)
    v.kind = FERRY_VERDICT_RETRY;
    sdk::setMessage(v, "write to " + path_ + " failed: " + std::strerror(err));
  }

private:
  std::expected<void, std::string> reopenIfMoved() {
    if (fd_ < 0) return open();
    struct stat by_path {
    }, by_fd{};
    if (::stat(path_.c_str(), &by_path) != 0 || ::fstat(fd_, &by_fd) != 0 ||
        by_path.st_ino != by_fd.st_ino || by_path.st_dev != by_fd.st_dev) {
      return open();
    }
    return {};
  }

  std::string path_;
  output::LineEncoding enc_;
  int mode_;
  int fd_ = -1;
};

const ferry_plugin_option kOptions[] = {
    {.name = "path",
     .type = FERRY_OPTION_STRING,
     .required = 1,
     .doc = "File to append JSON lines to (created if missing)."},
    {.name = "file_mode",
     .type = FERRY_OPTION_STRING,
     .default_value = "0640",
     .doc = "Permissions of a file ferry creates (octal)."},
    FERRY_LOCAL_SINK_OPTIONS,
};

const ferry_plugin_descriptor kDescriptor = {
    .abi_major = FERRY_PLUGIN_ABI_MAJOR,
    .abi_minor = FERRY_PLUGIN_ABI_MINOR,
    .type_name = "file",
    .description =
        "Appends records to a file as JSON lines; follows logrotate by reopening the path.",
    .options = kOptions,
    .option_count = std::size(kOptions)};

struct FileSettings {
  output::LineEncoding enc;
  int mode = 0640;
};

// The options as start-up reads them (also ferry_on_check): the file is not opened here, so a
// path that cannot be opened yet is a runtime failure, not a config error.
std::expected<FileSettings, std::string> parseSettings(const sdk::Options& options) {
  auto enc = output::lineEncodingFromOptions(options);
  if (!enc) return std::unexpected(enc.error());
  const std::string mode_text = options.string("file_mode");
  char* end = nullptr;
  const long mode = std::strtol(mode_text.c_str(), &end, 8);
  if (end == mode_text.c_str() || *end != '\0' || mode < 0 || mode > 07777) {
    return std::unexpected("file_mode: expected an octal mode like 0640, got '" + mode_text + "'");
  }
  return FileSettings{std::move(*enc), static_cast<int>(mode)};
}

std::expected<std::unique_ptr<sdk::Sink>, std::string>
makeSink(const sdk::Host&, const sdk::Options& options, ferry_plugin_limits& limits) {
  auto settings = parseSettings(options);
  if (!settings) return std::unexpected(settings.error());
  auto sink =
      std::make_unique<FileSink>(options.string("path"), std::move(settings->enc), settings->mode);
  if (auto ok = sink->open(); !ok) return std::unexpected("path: " + ok.error());
  limits.transport = FERRY_TRANSPORT_LOCAL;
  limits.max_records = 8192;
  limits.max_request_bytes = 4 << 20;
  limits.flush_interval_ms = 200;
  return sink;
}

} // namespace

FERRY_PLUGIN_DEFINE_CHECKED(kDescriptor, makeSink, parseSettings)
