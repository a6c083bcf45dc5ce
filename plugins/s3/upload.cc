// The S3 upload state machine (PutObject, or Create → UploadPart × n → Complete, Abort before
// a drop). Pure: it builds unsigned calls and reads answers; signing and sending are the
// sink's and the runner's.
#include "upload.h"

#include <algorithm>

#include "ferry/sink/http.h"

namespace ferry::s3 {
namespace {

constexpr std::string_view kEmpty = "";

} // namespace

void OrphanList::add(OpenUpload upload) {
  std::lock_guard lock(mu_);
  items_.push_back(std::move(upload));
}

std::vector<OpenUpload> OrphanList::take(size_t max) {
  std::lock_guard lock(mu_);
  const size_t n = std::min(max, items_.size());
  std::vector<OpenUpload> out(std::make_move_iterator(items_.end() - static_cast<ptrdiff_t>(n)),
                              std::make_move_iterator(items_.end()));
  items_.resize(items_.size() - n);
  return out;
}

size_t OrphanList::size() const {
  std::lock_guard lock(mu_);
  return items_.size();
}

std::string_view stepName(Step step) {
  switch (step) {
  case Step::kAbortOrphan:
    return "AbortMultipartUpload (abandoned upload)";
  case Step::kPut:
    return "PutObject";
  case Step::kCreate:
    return "CreateMultipartUpload";
  case Step::kPart:
    return "UploadPart";
  case Step::kComplete:
    return "CompleteMultipartUpload";
  case Step::kAbort:
    return "AbortMultipartUpload";
  case Step::kDone:
    break;
  }
  return "done";
}

size_t partCountFor(uint64_t size, uint64_t& part_size) {
  if (size < part_size) return 0;
  if ((size + part_size - 1) / part_size > kMaxParts)
    part_size = (size + kMaxParts - 1) / kMaxParts;
  return static_cast<size_t>((size + part_size - 1) / part_size);
}

S3Upload::S3Upload(std::string key, core::ByteBuffer body, uint64_t part_size, size_t records,
                   OrphanList* orphans, std::vector<OpenUpload> orphan_aborts)
    : key_(std::move(key)), body_(std::move(body)), part_size_(part_size),
      part_count_(partCountFor(body_.size(), part_size_)), records_(records), orphans_(orphans),
      orphan_aborts_(std::move(orphan_aborts)),
      step_(part_count_ == 0 ? Step::kPut : Step::kCreate) {}

S3Upload::~S3Upload() {
  // The runner gave up on an upload S3 still holds parts of: leave it for the next request
  // to abort (an S3 lifecycle rule AbortIncompleteMultipartUpload is the last safety net).
  if (orphans_ && !upload_id_.empty() && step_ != Step::kDone) orphans_->add({key_, upload_id_});
  if (orphans_) {
    for (auto& o : orphan_aborts_)
      orphans_->add(std::move(o));
  }
}

Step S3Upload::step() const {
  return orphan_aborts_.empty() ? step_ : Step::kAbortOrphan;
}

std::string_view S3Upload::partBody(size_t index) const {
  const uint64_t begin = index * part_size_;
  const uint64_t len = std::min<uint64_t>(part_size_, body_.size() - begin);
  return body_.view(begin, len);
}

std::string S3Upload::completeXml() const {
  // ETags go in as S3 returned them, quotes included (quotes are legal XML text).
  std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (size_t i = 0; i < etags_.size(); ++i) {
    xml += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", i + 1, etags_[i]);
  }
  xml += "</CompleteMultipartUpload>";
  return xml;
}

S3Call S3Upload::call(const S3Config& config) const {
  S3Call c;
  c.key = key_;
  c.body = kEmpty;
  // Headers that describe the stored object go on PutObject and CreateMultipartUpload only.
  auto objectHeaders = [&] {
    c.headers.emplace_back("Content-Type", config.content_type);
    if (!config.storage_class.empty())
      c.headers.emplace_back("x-amz-storage-class", config.storage_class);
    if (!config.acl.empty()) c.headers.emplace_back("x-amz-acl", config.acl);
    if (!config.sse.empty()) c.headers.emplace_back("x-amz-server-side-encryption", config.sse);
    if (!config.kms_key_id.empty()) {
      c.headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", config.kms_key_id);
    }
  };
  switch (step()) {
  case Step::kAbortOrphan:
    c.method = "DELETE";
    c.key = orphan_aborts_.back().key;
    c.query = "uploadId=" + aws::uriEncode(orphan_aborts_.back().upload_id);
    break;
  case Step::kPut:
    c.method = "PUT";
    c.body = body_.view();
    objectHeaders();
    break;
  case Step::kCreate:
    c.method = "POST";
    c.query = "uploads=";
    objectHeaders();
    break;
  case Step::kPart:
    c.method = "PUT";
    c.query = fmt::format("partNumber={}&uploadId={}", next_part_ + 1, aws::uriEncode(upload_id_));
    c.body = partBody(next_part_);
    c.headers.emplace_back("Content-Type", "application/octet-stream");
    break;
  case Step::kComplete:
    c.method = "POST";
    c.query = "uploadId=" + aws::uriEncode(upload_id_);
    c.body = complete_xml_;
    c.headers.emplace_back("Content-Type", "application/xml");
    break;
  case Step::kAbort:
  case Step::kDone:
    c.method = "DELETE";
    c.query = "uploadId=" + aws::uriEncode(upload_id_);
    break;
  }
  return c;
}

const std::string& S3Upload::payloadHash(std::string_view body) {
  if (hash_.empty() || hashed_data_ != body.data() || hashed_len_ != body.size()) {
    hash_ = aws::sha256Hex(body);
    hashed_data_ = body.data();
    hashed_len_ = body.size();
  }
  return hash_;
}

StepEvent S3Upload::onResponse(const S3Config& config, const ferry_http_response& r,
                               ferry_plugin_verdict& v) {
  StepEvent ev;
  const Step current = step();
  const std::string_view what = stepName(current);
  const bool ok_status = r.status >= 200 && r.status < 300;

  if (current == Step::kAbortOrphan) {
    // Best effort: 2xx, or 404 NoSuchUpload (already gone), ends it; anything else is left
    // to the bucket's lifecycle rule rather than holding up this object.
    ev.upload_aborted = ok_status || r.status == 404;
    ev.abort_failed = !ev.upload_aborted;
    OpenUpload done = std::move(orphan_aborts_.back());
    orphan_aborts_.pop_back();
    // A network failure or refusal: a later request tries again.
    if (ev.abort_failed && orphans_) orphans_->add(std::move(done));
    v.kind = FERRY_VERDICT_CONTINUE;
    return ev;
  }
  if (current == Step::kAbort) {
    ev.upload_aborted = ok_status || r.status == 404;
    ev.abort_failed = !ev.upload_aborted;
    step_ = Step::kDone;
    v = drop_verdict_;
    return ev;
  }

  const bool body_error = ok_status && current == Step::kComplete && bodyIsError(r);
  if (ok_status && !body_error) {
    switch (current) {
    case Step::kPut:
    case Step::kComplete:
      step_ = Step::kDone;
      ev.object_done = true;
      v.kind = FERRY_VERDICT_DELIVERED;
      return ev;
    case Step::kCreate: {
      upload_id_ = xmlText(sink::bodyOf(r), "UploadId");
      if (upload_id_.empty()) {
        v.kind = FERRY_VERDICT_RETRY;
        sdk::setMessage(v, "CreateMultipartUpload: answer without an UploadId");
        return ev;
      }
      etags_.assign(part_count_, std::string());
      next_part_ = 0;
      step_ = Step::kPart;
      v.kind = FERRY_VERDICT_CONTINUE;
      return ev;
    }
    case Step::kPart: {
      const auto etag = sink::findHeader(sink::headersOf(r), "ETag");
      if (!etag || etag->empty()) {
        v.kind = FERRY_VERDICT_RETRY;
        sdk::setMessage(v, fmt::format("UploadPart {}: answer without an ETag", next_part_ + 1));
        return ev;
      }
      etags_[next_part_] = std::string(*etag);
      ev.part_done = true;
      if (++next_part_ == part_count_) {
        complete_xml_ = completeXml();
        step_ = Step::kComplete;
      }
      v.kind = FERRY_VERDICT_CONTINUE;
      return ev;
    }
    default:
      break;
    }
  }

  S3Error error = parseError(r);
  if (body_error && error.code.empty()) error.code = "InternalError";
  const Outcome outcome = classify(error);
  if (outcome == Outcome::kNoSuchUpload) {
    // Someone (a lifecycle rule, another tool) aborted our upload: start again.
    upload_id_.clear();
    step_ = Step::kCreate;
  }
  failureVerdict(outcome, error, what, config.bucket, v);
  if (v.kind == FERRY_VERDICT_DROP && !upload_id_.empty()) {
    // Dropping: abort the upload first so its parts stop costing storage, then drop.
    drop_verdict_ = v;
    step_ = Step::kAbort;
    v = ferry_plugin_verdict{};
    v.kind = FERRY_VERDICT_CONTINUE;
  } else if (v.kind == FERRY_VERDICT_DROP) {
    step_ = Step::kDone;
  }
  return ev;
}

} // namespace ferry::s3
