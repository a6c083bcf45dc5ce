// Shared record plumbing for the filters: a record's top-level fields as views into its
// bytes, a writer for edited maps, and a batch rewriter that copies nothing until a record
// actually changes (a filter that does not apply returns the batch it was given).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/core/batch.h"

namespace ferry::filter {

// One top-level field. `value` is the raw msgpack bytes of the value, or — when `text` is
// set — plain text to be written as a msgpack string (a kLine record's `log`, or a value a
// filter made up), so that lines never need encoding before they are written.
struct Field {
  std::string_view key;
  std::string_view value;
  bool text = false;
};

// Splits a record into its top-level fields: a kLine record is {log: line}; a msgpack
// record must be a map with string keys. False when it is not (the record is then left
// alone by every filter). `stack` is scratch space for skipping nested values.
bool splitFields(core::RecordFormat format, std::string_view data, std::vector<Field>& out,
                 std::vector<uint64_t>& stack);

// Writes fields as one msgpack map.
void writeMap(core::ByteBuffer& out, std::span<const Field> fields);

// A field's value as text: strings (and bin) as they are; integers, floats and booleans
// in their usual spelling (into `scratch`). False for nil, arrays, maps and ext.
bool fieldText(const Field& field, std::string& scratch, std::string_view& out);

// Finds a field by key; nullptr when absent.
const Field* findField(std::span<const Field> fields, std::string_view key);

// Builds a replacement batch lazily: until the first change, kept records cost nothing;
// at the first change the records kept so far are copied, and finish() returns the original
// batch when nothing changed.
class BatchRewriter {
public:
  // out_format: the format of the rewritten batch. A kLine input rewritten as msgpack has
  // its kept lines converted to {log: line}.
  BatchRewriter(const core::Batch& in, core::RecordFormat out_format);

  void keep(size_t i);
  // Drops record i.
  void drop(size_t i);
  // Begins the replacement of record i: write one record into the returned buffer, then
  // call commit().
  core::ByteBuffer& replace(size_t i);
  void commit(int64_t timestamp_ns);
  // Appends a record that has no counterpart in the input (concat_partial).
  core::ByteBuffer& insert();

  bool changed() const { return static_cast<bool>(out_); }
  // The batch to pass on: `in` itself when nothing changed, else the rewritten one (its
  // finalizer and input id are the router's to move).
  core::BatchRef finish(core::BatchRef in);

private:
  void materialize(size_t upto);
  void copy(size_t i);

  const core::Batch& in_;
  core::RecordFormat out_format_;
  core::BatchRef out_;
  size_t pending_from_ = 0; // records [pending_from_, i) were kept before materializing
  size_t next_ = 0;         // the next input index not yet decided
  size_t start_ = 0;        // offset of the record being replaced
};

} // namespace ferry::filter
