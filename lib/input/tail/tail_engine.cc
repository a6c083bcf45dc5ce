// Which files the tail input follows, and what happens to them: discovery (globs at start
// and every refresh_interval, inotify on their directories in between), rotation by rename
// (the old inode is read to its end, then closed after rotate_wait), copytruncate (a file
// shorter than our offset is read again from 0, counted), deletion and re-creation, idle
// flushes, multiline timeouts and the coalesced position saves.
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/ranges.h>

#include "ferry/obs/log.h"
#include "tail_engine.h"

namespace ferry::input {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kPollInterval{250}; // polling mode: how often files are read
constexpr std::chrono::milliseconds kFdRetry{200};      // a file refused a descriptor tries again

// Also called from finalizers on output threads, after the engine may be gone: it takes
// only what outlives the engine (the metrics).
void reportSaveError(const std::string& name, obs::Counter& errors, obs::Counter& fd_exhausted,
                     const PositionSaveError& e) {
  // The tracker stays dirty: the next save (at most kSaveInterval later) tries again.
  errors.add();
  if (outOfDescriptors(e.error)) {
    fd_exhausted.add();
    FERRY_LOG_WARN(name, "cannot save positions: {}; trying again later", e.message);
  } else {
    FERRY_LOG_ERROR(name, "cannot save positions: {}", e.message);
  }
}

} // namespace

TailEngine::TailEngine(TailInputConfig config) : config_(std::move(config)) {
  if (config_.paths.empty()) throw std::invalid_argument("path: at least one glob is needed");
  auto parser = codec::makeLineParser(config_.parser);
  if (!parser) throw std::invalid_argument(parser.error());
  parser_ = std::move(*parser);
  if (config_.multiline.enabled()) {
    auto rules = MultilineRules::create(config_.multiline);
    if (!rules) throw std::invalid_argument(rules.error());
    rules_ = std::move(*rules);
  }
  map_records_ = parser_->producesFields() || !config_.path_key.empty();
  in_place_ = !map_records_ && !rules_;
  max_open_ = config_.max_open_files > 0 ? config_.max_open_files : defaultMaxOpenFiles();
}

TailEngine::~TailEngine() {
  for (auto& f : files_) {
    if (f->fd >= 0) ::close(f->fd);
  }
  // Whatever the finalizers resolved since the last coalesced save.
  if (tracker_) savePositions(0ms);
}

void TailEngine::start(InputContext& context) {
  context_ = &context;
  auto& m = context.metrics();
  const obs::Labels labels = {{"input", context.name()}};
  files_watched_ = &m.gauge("ferry_input_files_watched", labels,
                            "Files the tail input follows (open or parked)");
  files_open_ = &m.gauge("ferry_input_files_open", labels,
                         "Files the tail input holds a descriptor on (at most max_open_files)");
  files_parked_ =
      &m.counter("ferry_input_files_parked_total", labels,
                 "Files closed to stay within max_open_files (reopened when they grow)");
  fd_exhausted_ =
      &m.counter("ferry_input_fd_exhausted_total", labels,
                 "Opens and position saves of the tail input refused for lack of descriptors "
                 "(EMFILE, ENFILE): retried");
  rotations_ = &m.counter("ferry_input_rotations_total", labels,
                          "Files renamed or replaced under the tail input (read to their end)");
  truncations_ =
      &m.counter("ferry_input_truncations_total", labels,
                 "Files found shorter than the read position (copytruncate): read again from 0");
  lines_split_ = &m.counter("ferry_input_lines_split_total", labels,
                            "Lines longer than max_line_bytes split into several records");
  lines_truncated_ =
      &m.counter("ferry_input_lines_truncated_total", labels,
                 "Lines longer than max_line_bytes cut short (long_lines: truncate)");
  parse_errors_ = &m.counter(
      "ferry_input_parse_errors_total", labels,
      "Lines the parser did not accept (kept as {log}) or whose time_key was unreadable");
  file_errors_ = &m.counter("ferry_input_file_errors_total", labels,
                            "Files that could not be opened, read or checked");
  position_errors_ = &m.counter("ferry_input_position_errors_total", labels,
                                "Failed saves of the tail position database (retried)");

  tracker_ = PositionTracker::create(config_.db_path);
  tracker_->setErrorHandler([name = context.name(), errors = position_errors_,
                             fd_exhausted = fd_exhausted_](const PositionSaveError& e) {
    reportSaveError(name, *errors, *fd_exhausted, e);
  });
  std::map<FileId, PositionEntry> saved;
  if (!config_.db_path.empty()) {
    const auto dir = std::filesystem::path(config_.db_path).parent_path();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    auto loaded = loadPositions(config_.db_path);
    if (!loaded) throw std::runtime_error("position database: " + loaded.error());
    db_existed_ = loaded->existed;
    if (loaded->bad_lines > 0) {
      FERRY_LOG_WARN(context.name(), "{}: {} unreadable lines skipped", config_.db_path,
                     loaded->bad_lines);
    }
    for (auto& e : loaded->entries)
      saved[e.id] = std::move(e);
  }
  watcher_ = std::make_unique<tail::FileWatcher>(config_.inotify);
  if (config_.inotify && watcher_->polling()) {
    if (outOfDescriptors(errno)) fd_exhausted_->add();
    FERRY_LOG_WARN(context.name(), "inotify is not available ({}): polling files every {} ms",
                   std::strerror(errno), kPollInterval.count());
  }
  for (const auto& path : tail::expandGlobs(config_.paths, config_.exclude_paths)) {
    openFile(path, Discovery::kAtStart, &saved);
  }
  recoverRotated(saved);
  rescan_needed_ = true; // also watches the directories
  if (files_.empty()) {
    FERRY_LOG_INFO(context.name(), "no file matches {} yet; looking again every {} ms",
                   fmt::join(config_.paths, ", "), config_.refresh_interval.count());
  }
  if (!config_.db_path.empty()) {
    // Written now even when empty: its presence says this input has run before. Short of
    // descriptors, it is written by the next save instead (the tracker stays dirty).
    if (auto ok = input::savePositions(config_.db_path, tracker_->snapshot()); !ok) {
      if (!outOfDescriptors(ok.error().error)) {
        throw std::runtime_error("position database: " + ok.error().message);
      }
      reportSaveError(context.name(), *position_errors_, *fd_exhausted_, ok.error());
    }
  }
  FERRY_LOG_DEBUG(context.name(), "{} files followed, {} open (max_open_files {})", files_.size(),
                  open_count_, max_open_);
  next_refresh_ = Clock::now() + config_.refresh_interval;
}

void TailEngine::stop() {
  stopping_.store(true);
  if (watcher_) watcher_->wake();
}

std::string TailEngine::tagFor(const std::string& path) const {
  if (config_.tag.find('*') == std::string::npos) return config_.tag;
  std::string flat = path;
  while (!flat.empty() && flat.front() == '/')
    flat.erase(0, 1);
  std::replace(flat.begin(), flat.end(), '/', '.');
  std::string tag;
  for (char c : config_.tag) {
    if (c == '*') {
      tag += flat;
    } else {
      tag.push_back(c);
    }
  }
  return tag;
}

bool TailEngine::isFollowed(FileId id) const {
  return std::any_of(files_.begin(), files_.end(),
                     [&](const auto& f) { return f->id == id && !f->gone; });
}

TailFile* TailEngine::byWatch(int wd) {
  const auto it = by_wd_.find(wd);
  return it == by_wd_.end() ? nullptr : it->second;
}

void TailEngine::openFile(const std::string& path, Discovery when,
                          const std::map<FileId, PositionEntry>* saved) {
  // Within the budget the file is opened now; beyond it, it starts parked (known by stat,
  // opened when its turn to be read comes).
  int fd = -1;
  if (open_count_ < max_open_) {
    fd = openTracked(path);
    if (fd < 0 && errno == ENOENT) return;
    if (fd < 0 && !outOfDescriptors(errno)) {
      file_errors_->add();
      FERRY_LOG_WARN(context_->name(), "cannot open {}: {}", path, std::strerror(errno));
      return;
    }
  }
  struct stat st {};
  if ((fd >= 0 ? ::fstat(fd, &st) : ::stat(path.c_str(), &st)) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) ::close(fd);
    return;
  }
  const FileId id = idOf(st);
  for (const auto& f : files_) {
    if (f->id == id && !f->gone) { // already followed (under this or another name)
      if (fd >= 0) ::close(fd);
      return;
    }
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  auto existing = tracker_->find(id);
  uint64_t offset;
  const char* why;
  if (existing) {
    offset = tracker_->resumeOffset(existing);
    why = "where it was left";
  } else if (saved != nullptr && saved->contains(id)) {
    offset = saved->at(id).offset;
    why = "its saved position";
  } else if (when == Discovery::kAtStart && !config_.read_from_head && !db_existed_) {
    offset = size;
    why = "its end";
  } else {
    offset = 0;
    why = "its start";
  }
  bool truncated = false;
  if (offset > size) {
    truncations_->add();
    truncated = true;
    offset = 0;
    why = "its start (it is shorter than its saved position)";
  }
  auto f = std::make_unique<TailFile>(config_.max_line_bytes, config_.long_lines);
  f->path = path;
  f->tag = tagFor(path);
  f->id = id;
  f->read_offset = f->consumed = f->track_pushed = offset;
  f->size_hint = size;
  f->track = tracker_->track(id, path, offset);
  if (truncated && existing) tracker_->restart(f->track, 0);
  if (rules_) f->joiner = std::make_unique<MultilineJoiner>(*rules_, config_.max_line_bytes);
  f->wd = watcher_->watchFile(fd, path);
  if (f->wd >= 0) by_wd_[f->wd] = f.get();
  if (fd >= 0) adopt(*f, fd);
  f->last_data = Clock::now();
  FERRY_LOG_INFO(context_->name(), "following {} from {} (offset {}{})", path, why, offset,
                 fd >= 0 ? "" : ", opened when its turn comes: max_open_files");
  files_.push_back(std::move(f));
  files_watched_->set(static_cast<int64_t>(files_.size()));
}

// A file saved under a name that now leads elsewhere was rotated while ferry was stopped:
// look for its inode beside that name and read what is left of it.
void TailEngine::recoverRotated(const std::map<FileId, PositionEntry>& saved) {
  for (const auto& [id, entry] : saved) {
    const bool followed = isFollowed(id);
    if (followed) continue;
    const std::string found = findRenamed(entry.path, id, entry.offset + 1);
    if (found.empty()) continue;
    const size_t before = files_.size();
    openFile(found, Discovery::kAtStart, &saved);
    if (files_.size() == before) continue;
    TailFile& f = *files_.back();
    FERRY_LOG_INFO(context_->name(), "{} was rotated to {} while stopped: reading the rest of it",
                   entry.path, found);
    f.tag = tagFor(entry.path);
    f.path = entry.path; // its records keep the name they were written under
    f.rotated = true;
    f.eof_since = Clock::now();
  }
}

void TailEngine::checkRotation(TailFile& f) {
  struct stat st {};
  if (::stat(f.path.c_str(), &st) == 0 && idOf(st) == f.id) {
    if (f.fd >= 0) {
      checkTruncation(f);
    } else if (static_cast<uint64_t>(st.st_size) != f.read_offset) {
      f.maybe_data = true; // grown or truncated: reopen() sees which
    }
    return;
  }
  if (f.fd < 0) {
    f.maybe_data = true; // reopen() tells a rename from a deletion
    return;
  }
  struct stat mine {};
  const bool linked = ::fstat(f.fd, &mine) == 0 && mine.st_nlink > 0;
  f.rotated = true;
  f.maybe_data = true;
  f.eof_since = Clock::now();
  if (linked) {
    rotations_->add();
    FERRY_LOG_INFO(context_->name(), "{} was rotated: reading the old file to its end", f.path);
  } else {
    FERRY_LOG_INFO(context_->name(), "{} was deleted: reading what is left of it", f.path);
  }
}

bool TailEngine::checkTruncation(TailFile& f) {
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return false;
  f.size_hint = static_cast<uint64_t>(st.st_size);
  if (f.size_hint >= f.read_offset) return false;
  restartTruncated(f);
  return true;
}

void TailEngine::restartTruncated(TailFile& f) {
  if (fill_.file == &f)
    endFill(); // those records are still delivered; they no longer move the position
  truncations_->add();
  FERRY_LOG_INFO(context_->name(),
                 "{} was truncated (copytruncate?): reading it again from the start", f.path);
  f.read_offset = f.consumed = f.track_pushed = 0;
  f.carry.clear();
  f.splitter.reset();
  if (f.joiner) f.joiner->reset();
  tracker_->restart(f.track, 0);
  f.maybe_data = true;
}

void TailEngine::closeFile(TailFile& f) {
  // Nothing more will complete a held line or a pending multiline record: out they go.
  flushCarry(f);
  flushJoiner(f);
  endFill();
  struct stat st {};
  if (f.gone || (f.fd >= 0 && ::fstat(f.fd, &st) == 0 && st.st_nlink == 0)) {
    tracker_->forget(f.track); // deleted: its inode number is free for the next new file
  } else {
    tracker_->close(f.track);
  }
  if (f.wd >= 0) {
    watcher_->unwatch(f.wd);
    by_wd_.erase(f.wd);
  }
  release(f);
  FERRY_LOG_DEBUG(context_->name(), "closed {} at offset {}", f.path, f.read_offset);
  std::erase_if(files_, [&](const auto& p) { return p.get() == &f; });
  files_watched_->set(static_cast<int64_t>(files_.size()));
}

void TailEngine::rescan() {
  for (auto& f : files_) {
    if (!f->rotated) checkRotation(*f);
  }
  for (const auto& pattern : config_.paths) {
    const std::string dir = tail::literalDirectory(pattern);
    if (dir.empty() ||
        std::find(watched_dirs_.begin(), watched_dirs_.end(), dir) != watched_dirs_.end()) {
      continue;
    }
    if (watcher_->watchDirectory(dir)) watched_dirs_.push_back(dir);
  }
  std::set<FileId> alive;
  for (const auto& f : files_) {
    if (!f->gone) alive.insert(f->id);
  }
  for (const auto& path : tail::expandGlobs(config_.paths, config_.exclude_paths)) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;
    const FileId id = idOf(st);
    alive.insert(id);
    const bool followed = isFollowed(id);
    if (!followed) openFile(path, Discovery::kLater, nullptr);
  }
  tracker_->prune(alive);
  for (auto& f : files_)
    f->maybe_data = true;
}

void TailEngine::handleEvents(const std::vector<tail::WatchEvent>& events) {
  for (const auto& ev : events) {
    if (ev.wd < 0) { // the kernel queue overflowed: look at everything
      rescan_needed_ = true;
      continue;
    }
    if (watcher_->isDirectory(ev.wd)) {
      rescan_needed_ = true;
      continue;
    }
    if (TailFile* f = byWatch(ev.wd)) {
      if ((ev.mask & IN_DELETE_SELF) && f->fd < 0 && !f->gone) {
        // A parked file's inode is freed (no descriptor keeps it): its number may be reused
        // by the next new file at once, which must not be taken for this one.
        markGone(*f);
      } else if (!f->gone) {
        f->maybe_data = true;
      }
      if (ev.mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB)) rescan_needed_ = true;
    }
  }
}

void TailEngine::runTimers(SteadyTime now) {
  for (size_t i = 0; i < files_.size();) {
    TailFile& f = *files_[i];
    if (f.rotated && !f.maybe_data && now - f.eof_since >= config_.rotate_wait) {
      closeFile(f); // files_[i] is now the next file
      continue;
    }
    if (!f.carry.empty() && now - f.last_data >= config_.idle_flush) {
      flushCarry(f);
      endFill();
    }
    if (f.joiner && f.joiner->expired(now)) {
      flushJoiner(f);
      endFill();
    }
    ++i;
  }
}

std::chrono::milliseconds TailEngine::nextTimeout(SteadyTime now) const {
  SteadyTime deadline = next_refresh_;
  if (rescan_needed_) return 0ms;
  for (const auto& f : files_) {
    if (f->maybe_data) return 0ms;
    if (!f->carry.empty()) deadline = std::min(deadline, f->last_data + config_.idle_flush);
    if (f->joiner && f->joiner->pending()) deadline = std::min(deadline, f->joiner->deadline());
    if (f->rotated) deadline = std::min(deadline, f->eof_since + config_.rotate_wait);
  }
  if (watcher_->polling()) deadline = std::min(deadline, now + kPollInterval);
  if (fd_retry_at_ != SteadyTime{}) deadline = std::min(deadline, fd_retry_at_);
  if (tracker_->dirty()) deadline = std::min(deadline, now + PositionTracker::kSaveInterval);
  if (deadline <= now) return 0ms;
  // Round up: waking a millisecond early would find nothing due and spin.
  return std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
}

void TailEngine::savePositions(std::chrono::milliseconds interval) {
  if (!context_) return; // never started
  if (auto ok = tracker_->save(interval); !ok) {
    reportSaveError(context_->name(), *position_errors_, *fd_exhausted_, ok.error());
  }
}

void TailEngine::finishAll() {
  for (auto& f : files_) {
    flushCarry(*f);
    flushJoiner(*f);
    endFill();
  }
}

void TailEngine::run() {
  std::vector<tail::WatchEvent> events;
  while (!stopping_.load()) {
    events.clear();
    watcher_->wait(nextTimeout(Clock::now()), events);
    if (stopping_.load()) break;
    handleEvents(events);
    const SteadyTime now = Clock::now();
    if (watcher_->polling()) {
      for (auto& f : files_)
        f->maybe_data = true;
    }
    if (fd_retry_at_ != SteadyTime{} && now >= fd_retry_at_) {
      fd_retry_at_ = {};
      for (auto& f : files_)
        f->maybe_data = f->maybe_data || std::exchange(f->fd_wait, false);
    }
    if (rescan_needed_ || now >= next_refresh_) {
      rescan_needed_ = false;
      next_refresh_ = now + config_.refresh_interval;
      rescan();
    }
    bool all_at_end = true;
    // Every file that may have bytes gets its turn each round (at most a round's budget
    // each), open or parked: none waits for the others to fall silent.
    for (size_t i = 0; i < files_.size() && !stopping_.load(); ++i) {
      TailFile& f = *files_[i];
      if (f.gone || (f.maybe_data && f.fd < 0 && !parkedMayHaveData(f))) f.maybe_data = false;
      if (f.maybe_data) {
        const Reopen got = acquire(f);
        if (got == Reopen::kOpen) {
          f.maybe_data = !pump(f);
        } else if (got == Reopen::kLater) {
          f.maybe_data = false; // no descriptor to be had: again in kFdRetry, not at once
          f.fd_wait = true;
          fd_retry_at_ = Clock::now() + kFdRetry;
        }
      }
      all_at_end = all_at_end && !f.maybe_data && !f.fd_wait;
    }
    runTimers(Clock::now());
    savePositions(PositionTracker::kSaveInterval);
    if (config_.exit_on_eof && all_at_end && !stopping_.load()) {
      finishAll();
      return;
    }
  }
  // Stopping: what is read goes out; an incomplete line or multiline record stays unsaved
  // and is read again after a restart.
  endFill();
}

} // namespace ferry::input
