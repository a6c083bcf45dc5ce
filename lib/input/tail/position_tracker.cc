// The position tracker: per file, an ordered list of the batches in flight (their end
// offsets); the saved offset moves to the end of the longest prefix of resolved batches.
// kDelivered and kDropped (the drop is counted by the output) move it; kFailed pins it
// before the failed batch so that a restart reads those records again.
#include "ferry/input/tail_position.h"

namespace ferry::input {

std::shared_ptr<PositionTracker> PositionTracker::create(std::string db_path) {
  return std::shared_ptr<PositionTracker>(new PositionTracker(std::move(db_path)));
}

PositionTracker::~PositionTracker() {
  if (!dirty_ || db_path_.empty()) return;
  std::vector<PositionEntry> entries;
  entries.reserve(files_.size());
  for (const auto& [id, f] : files_)
    entries.push_back({id, f->committed, f->path});
  (void)savePositions(db_path_, entries); // nobody is left to report a failure to
}

PositionTracker::FilePtr PositionTracker::track(FileId id, const std::string& path,
                                                uint64_t offset) {
  std::lock_guard lock(mu_);
  auto& slot = files_[id];
  if (slot) {
    slot->closed = false;
    if (slot->path != path) {
      slot->path = path;
      dirty_ = true;
    }
    return slot;
  }
  slot = std::make_shared<File>();
  slot->id = id;
  slot->path = path;
  slot->committed = slot->pushed = offset;
  dirty_ = true;
  return slot;
}

PositionTracker::FilePtr PositionTracker::find(FileId id) const {
  std::lock_guard lock(mu_);
  const auto it = files_.find(id);
  return it == files_.end() ? nullptr : it->second;
}

uint64_t PositionTracker::resumeOffset(const FilePtr& file) const {
  std::lock_guard lock(mu_);
  return file->pushed;
}

uint64_t PositionTracker::begin(const FilePtr& file, uint64_t end_offset) {
  std::lock_guard lock(mu_);
  file->pushed = end_offset;
  if (file->stuck) return 0; // nothing moves the position until the file restarts
  const uint64_t ticket = file->next_ticket++;
  file->in_flight.push_back({ticket, end_offset, 0});
  return ticket;
}

void PositionTracker::settleLocked(File& file) {
  while (!file.in_flight.empty() && file.in_flight.front().state != 0) {
    const auto& front = file.in_flight.front();
    if (front.state == 2) {
      // Later batches may be delivered, but the position cannot pass this one: keep it
      // here, and stop tracking the rest (they cannot move it either).
      file.stuck = true;
      file.in_flight.clear();
      return;
    }
    if (front.end_offset != file.committed) {
      file.committed = front.end_offset;
      dirty_ = true;
    }
    file.in_flight.pop_front();
  }
}

void PositionTracker::resolve(const FilePtr& file, uint64_t ticket, core::BatchOutcome outcome) {
  std::lock_guard lock(mu_);
  if (ticket == 0 || file->in_flight.empty()) return;
  const uint64_t first = file->in_flight.front().ticket;
  if (ticket < first || ticket - first >= file->in_flight.size()) return; // from before a restart
  auto& entry = file->in_flight[ticket - first];
  entry.state = outcome == core::BatchOutcome::kFailed ? 2 : 1;
  settleLocked(*file);
}

core::BatchFinalizer PositionTracker::finalizer(const FilePtr& file, uint64_t ticket) {
  return [self = shared_from_this(), file, ticket](core::BatchOutcome outcome) {
    self->resolve(file, ticket, outcome);
    // Finalizers run on output threads; saving here keeps positions current while the
    // input itself is blocked by backpressure. At most one save per interval.
    if (auto saved = self->save(kSaveInterval); !saved) {
      std::function<void(const PositionSaveError&)> handler;
      {
        std::lock_guard lock(self->mu_);
        handler = self->on_error_;
      }
      if (handler) handler(saved.error());
    }
  };
}

void PositionTracker::advance(const FilePtr& file, uint64_t offset) {
  std::lock_guard lock(mu_);
  file->pushed = offset;
  if (file->stuck) return;
  if (file->in_flight.empty()) {
    if (file->committed != offset) {
      file->committed = offset;
      dirty_ = true;
    }
    return;
  }
  file->in_flight.push_back({file->next_ticket++, offset, 1});
}

void PositionTracker::restart(const FilePtr& file, uint64_t offset) {
  std::lock_guard lock(mu_);
  file->in_flight.clear();
  file->stuck = false;
  file->committed = file->pushed = offset;
  dirty_ = true;
}

void PositionTracker::close(const FilePtr& file) {
  std::lock_guard lock(mu_);
  file->closed = true;
}

void PositionTracker::forget(const FilePtr& file) {
  std::lock_guard lock(mu_);
  const auto it = files_.find(file->id);
  if (it != files_.end() && it->second == file) {
    files_.erase(it);
    dirty_ = true;
  }
}

void PositionTracker::prune(const std::set<FileId>& alive) {
  std::lock_guard lock(mu_);
  for (auto it = files_.begin(); it != files_.end();) {
    const File& f = *it->second;
    if (f.closed && f.in_flight.empty() && !alive.contains(it->first)) {
      it = files_.erase(it);
      dirty_ = true;
    } else {
      ++it;
    }
  }
}

uint64_t PositionTracker::committed(const FilePtr& file) const {
  std::lock_guard lock(mu_);
  return file->committed;
}

bool PositionTracker::stuck(const FilePtr& file) const {
  std::lock_guard lock(mu_);
  return file->stuck;
}

std::vector<PositionEntry> PositionTracker::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<PositionEntry> out;
  out.reserve(files_.size());
  for (const auto& [id, f] : files_)
    out.push_back({id, f->committed, f->path});
  return out;
}

bool PositionTracker::dirty() const {
  std::lock_guard lock(mu_);
  return dirty_;
}

void PositionTracker::setErrorHandler(std::function<void(const PositionSaveError&)> handler) {
  std::lock_guard lock(mu_);
  on_error_ = std::move(handler);
}

std::expected<bool, PositionSaveError>
PositionTracker::save(std::chrono::milliseconds min_interval) {
  // Another thread saving right now will write what we would: no need to wait for it,
  // unless this is the forced save (interval 0) that must include our changes.
  std::unique_lock save_lock(save_mu_, std::defer_lock);
  if (min_interval.count() > 0) {
    if (!save_lock.try_lock()) return false;
  } else {
    save_lock.lock();
  }
  const auto now = std::chrono::steady_clock::now();
  std::vector<PositionEntry> entries;
  {
    std::lock_guard lock(mu_);
    if (!dirty_) return false;
    if (min_interval.count() > 0 && now - last_save_ < min_interval) return false;
    dirty_ = false;
    last_save_ = now;
    if (db_path_.empty()) return false;
    entries.reserve(files_.size());
    for (const auto& [id, f] : files_)
      entries.push_back({id, f->committed, f->path});
  }
  if (auto ok = savePositions(db_path_, entries); !ok) {
    std::lock_guard lock(mu_);
    dirty_ = true;
    return std::unexpected(ok.error());
  }
  return true;
}

} // namespace ferry::input
