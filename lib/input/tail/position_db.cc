// The tail position database file. Text, one file per line, so that an operator can read
// (and, with ferry stopped, edit) it:
//   # ferry tail positions v1: device inode offset path
//   2049 1311297 88420 /var/log/app/app.log
// Replaced atomically (temp file, fsync, rename, fsync of the directory): a crash leaves the
// old or the new version, never a mix. Paths escape '\' and newline.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "ferry/core/buffer.h"
#include "ferry/input/tail_position.h"

namespace ferry::input {
namespace {

constexpr std::string_view kHeader = "# ferry tail positions v1: device inode offset path\n";

bool readNumber(std::string_view& line, uint64_t& out) {
  const auto r = std::from_chars(line.data(), line.data() + line.size(), out);
  if (r.ec != std::errc() || r.ptr == line.data() + line.size() || *r.ptr != ' ') return false;
  line.remove_prefix(static_cast<size_t>(r.ptr - line.data()) + 1);
  return true;
}

std::string unescapePath(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
      out.push_back(s[i] == 'n' ? '\n' : s[i]);
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void appendEscapedPath(core::ByteBuffer& out, std::string_view s) {
  for (char c : s) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
}

std::string errnoText(std::string_view step, const std::string& path) {
  return fmt::format("{} {}: {}", step, path, std::strerror(errno));
}

PositionSaveError saveError(std::string_view step, const std::string& path) {
  const int error = errno;
  return {errnoText(step, path), error};
}

} // namespace

std::expected<LoadedPositions, std::string> loadPositions(const std::string& path) {
  LoadedPositions loaded;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return loaded;
    return std::unexpected(errnoText("cannot open", path));
  }
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const auto error = errnoText("cannot read", path);
      ::close(fd);
      return std::unexpected(error);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  loaded.existed = true;
  std::string_view rest(text);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (line.empty() || line.front() == '#') continue;
    PositionEntry e;
    if (!readNumber(line, e.id.device) || !readNumber(line, e.id.inode) ||
        !readNumber(line, e.offset)) {
      ++loaded.bad_lines;
      continue;
    }
    e.path = unescapePath(line);
    loaded.entries.push_back(std::move(e));
  }
  return loaded;
}

std::expected<void, PositionSaveError> savePositions(const std::string& path,
                                                     const std::vector<PositionEntry>& entries) {
  core::ByteBuffer text(4096);
  text.append(kHeader);
  for (const auto& e : entries) {
    text.append(fmt::format("{} {} {} ", e.id.device, e.id.inode, e.offset));
    appendEscapedPath(text, e.path);
    text.push_back('\n');
  }
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return std::unexpected(saveError("cannot create", tmp));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const auto error = saveError("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return std::unexpected(error);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const auto error = saveError("cannot fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return std::unexpected(error);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const auto error = saveError("cannot rename onto", path);
    ::unlink(tmp.c_str());
    return std::unexpected(error);
  }
  // The rename itself must reach the disk before the position counts as saved.
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::filesystem::path dir = parent.empty() ? std::filesystem::path(".") : parent;
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

} // namespace ferry::input
