// The multipart upload's state: which step comes next, the parts of the body, the ETags
// collected, the abort before a drop, and abandoned uploads handed on for a later abort.
#include "ferry/sink/multipart.h"

#include <algorithm>
#include <chrono>

#include "ferry/aws/sigv4.h"

namespace ferry::sink {

void OpenUploadList::add(OpenUpload upload) {
  std::lock_guard lock(mu_);
  items_.push_back(std::move(upload));
}

std::vector<OpenUpload> OpenUploadList::take(size_t max) {
  std::lock_guard lock(mu_);
  const size_t n = std::min(max, items_.size());
  std::vector<OpenUpload> out(std::make_move_iterator(items_.end() - static_cast<ptrdiff_t>(n)),
                              std::make_move_iterator(items_.end()));
  items_.resize(items_.size() - n);
  return out;
}

size_t OpenUploadList::size() const {
  std::lock_guard lock(mu_);
  return items_.size();
}

void abortWithin(OpenUploadList& list, size_t max, uint64_t budget_ms,
                 const std::function<void(const OpenUpload&, uint64_t timeout_ms)>& abort) {
  const auto start = std::chrono::steady_clock::now();
  for (const auto& o : list.take(max)) {
    const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
    if (spent >= static_cast<int64_t>(budget_ms)) break;
    abort(o, budget_ms - static_cast<uint64_t>(spent));
  }
}

size_t partCountFor(uint64_t size, uint64_t& part_size, uint64_t max_parts) {
  if (size < part_size) return 0;
  if ((size + part_size - 1) / part_size > max_parts)
    part_size = (size + max_parts - 1) / max_parts;
  return static_cast<size_t>((size + part_size - 1) / part_size);
}

MultipartUpload::MultipartUpload(std::string key, core::ByteBuffer body, uint64_t part_size,
                                 uint64_t max_parts, size_t records, OpenUploadList* orphans,
                                 std::vector<OpenUpload> orphan_aborts)
    : key_(std::move(key)), body_(std::move(body)), part_size_(part_size),
      part_count_(partCountFor(body_.size(), part_size_, max_parts)), records_(records),
      orphans_(orphans), orphan_aborts_(std::move(orphan_aborts)),
      step_(part_count_ == 0 ? UploadStep::kPut : UploadStep::kCreate) {}

MultipartUpload::~MultipartUpload() {
  // The runner gave up on an upload the store still holds parts of: leave it for a later
  // request to abort (a bucket lifecycle rule is the last safety net).
  if (orphans_ && !upload_id_.empty() && step_ != UploadStep::kDone)
    orphans_->add({key_, upload_id_});
  if (orphans_) {
    for (auto& o : orphan_aborts_)
      orphans_->add(std::move(o));
  }
}

UploadStep MultipartUpload::step() const {
  return orphan_aborts_.empty() ? step_ : UploadStep::kAbortOrphan;
}

std::string_view MultipartUpload::partBody() const {
  const uint64_t begin = next_part_ * part_size_;
  const uint64_t len = std::min<uint64_t>(part_size_, body_.size() - begin);
  return body_.view(begin, len);
}

void MultipartUpload::orphanAnswered(bool gone) {
  OpenUpload done = std::move(orphan_aborts_.back());
  orphan_aborts_.pop_back();
  // A network failure or refusal: a later request tries again.
  if (!gone && orphans_) orphans_->add(std::move(done));
}

void MultipartUpload::created(std::string upload_id) {
  upload_id_ = std::move(upload_id);
  etags_.assign(part_count_, std::string());
  next_part_ = 0;
  step_ = UploadStep::kPart;
}

void MultipartUpload::partUploaded(std::string etag) {
  etags_[next_part_] = std::move(etag);
  if (++next_part_ == part_count_) step_ = UploadStep::kComplete;
}

void MultipartUpload::delivered() {
  step_ = UploadStep::kDone;
}

void MultipartUpload::restart() {
  upload_id_.clear();
  step_ = UploadStep::kCreate;
}

void MultipartUpload::failed(ferry_plugin_verdict& v) {
  if (v.kind != FERRY_VERDICT_DROP) return;
  if (upload_id_.empty()) {
    step_ = UploadStep::kDone;
    return;
  }
  // Dropping: abort the upload first so its parts stop costing storage, then drop.
  drop_verdict_ = v;
  step_ = UploadStep::kAbort;
  v = ferry_plugin_verdict{};
  v.kind = FERRY_VERDICT_CONTINUE;
}

void MultipartUpload::abortAnswered(ferry_plugin_verdict& v) {
  step_ = UploadStep::kDone;
  v = drop_verdict_;
}

const std::string& MultipartUpload::payloadHash(std::string_view body) {
  if (hash_.empty() || hashed_data_ != body.data() || hashed_len_ != body.size()) {
    hash_ = aws::sha256Hex(body);
    hashed_data_ = body.data();
    hashed_len_ = body.size();
  }
  return hash_;
}

} // namespace ferry::sink
