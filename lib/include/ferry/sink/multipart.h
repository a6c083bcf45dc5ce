// The sink kit, multipart uploads: one object's upload as a request the runner holds. Small
// objects go in one put; larger ones are created, sent part by part and completed (each step
// answered CONTINUE), and aborted before a drop so no half-finished upload keeps costing
// storage. An upload still open when the request is freed (the runner gave up) goes to the
// OpenUploadList; later requests abort it first, and the sink's shutdown aborts what is left
// within a time budget. The steps' wire form (methods, queries, bodies) and the judging of
// answers are the sink's (S3 today; GCS and other S3-style stores share the shape).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/core/buffer.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"

namespace ferry::sink {

struct OpenUpload {
  std::string key;
  std::string upload_id;
};

// Multipart uploads abandoned by freed requests. Thread-safe (requests may be freed on the
// runner thread, the sink destroyed on the main thread).
class OpenUploadList {
public:
  void add(OpenUpload upload);
  // Takes up to `max` of them (the newest first).
  std::vector<OpenUpload> take(size_t max);
  size_t size() const;

private:
  mutable std::mutex mu_;
  std::vector<OpenUpload> items_;
};

// Abandoned uploads a new request aborts first, at most this many.
inline constexpr size_t kOrphanAbortsPerRequest = 4;
// At shutdown the uploads still listed get a short synchronous abort, at most this many, all
// within this budget (the grace period is already spent; ECS kills 5 s after it).
inline constexpr size_t kShutdownAborts = 8;
inline constexpr uint64_t kShutdownAbortBudgetMs = 2000;

// At shutdown: calls abort(upload, timeout_ms left) for up to `max` listed uploads, one
// after another, until budget_ms is spent.
void abortWithin(OpenUploadList& list, size_t max, uint64_t budget_ms,
                 const std::function<void(const OpenUpload&, uint64_t timeout_ms)>& abort);

// Parts for an object of `size` bytes: 0 when it goes in one put (size < part_size), else
// ceil(size / part), the part grown when needed to stay within max_parts.
size_t partCountFor(uint64_t size, uint64_t& part_size, uint64_t max_parts);

enum class UploadStep { kAbortOrphan, kPut, kCreate, kPart, kComplete, kAbort, kDone };

class MultipartUpload : public sdk::Request {
public:
  // `orphans` (non-owning: the sink owns it and, per the ABI, frees every request before
  // itself) receives this upload if it is freed while open; `orphan_aborts` are aborted
  // first, the last one first.
  MultipartUpload(std::string key, core::ByteBuffer body, uint64_t part_size, uint64_t max_parts,
                  size_t records, OpenUploadList* orphans, std::vector<OpenUpload> orphan_aborts);
  ~MultipartUpload() override;

  UploadStep step() const;
  const std::string& key() const { return key_; }
  size_t records() const { return records_; }
  size_t partCount() const { return part_count_; }
  uint64_t bodySize() const { return body_.size(); }
  std::string_view body() const { return body_.view(); }
  uint64_t heldBytes() const override { return body_.capacity() + complete_body.capacity(); }
  const std::string& uploadId() const { return upload_id_; }
  // The abandoned upload a kAbortOrphan step aborts.
  const OpenUpload& orphan() const { return orphan_aborts_.back(); }
  size_t partIndex() const { return next_part_; } // from 0
  std::string_view partBody() const;
  const std::vector<std::string>& etags() const { return etags_; }
  // The body of the complete step, which the sink builds from the etags once all parts are in.
  std::string complete_body;

  // Answers, one per step.
  void orphanAnswered(bool gone); // aborted or already gone; else listed again for later
  void created(std::string upload_id);
  void partUploaded(std::string etag); // after the last part, the step is kComplete
  void delivered();
  void restart(); // the upload is gone: create it again
  // A failed step's verdict (RETRY repeats the step). A DROP with an upload open becomes
  // CONTINUE to an abort step; the drop is given when the abort answers (abortAnswered).
  void failed(ferry_plugin_verdict& verdict);
  void abortAnswered(ferry_plugin_verdict& verdict);

  // Cached SHA-256 of the current call's body (a 5 MiB part is hashed once, not per retry).
  const std::string& payloadHash(std::string_view body);

private:
  std::string key_;
  core::ByteBuffer body_;
  uint64_t part_size_;
  size_t part_count_; // 0: one put
  size_t records_;
  OpenUploadList* orphans_;
  std::vector<OpenUpload> orphan_aborts_;

  UploadStep step_;
  std::string upload_id_;
  size_t next_part_ = 0;
  std::vector<std::string> etags_;
  ferry_plugin_verdict drop_verdict_{};

  const void* hashed_data_ = nullptr;
  size_t hashed_len_ = 0;
  std::string hash_;
};

} // namespace ferry::sink
