// The human-readable record form shared by `stdout` with `format: pretty` and `ferry tail`:
//   2024-05-01 12:00:00.123 INFO  request completed  method=GET status=200
// time (UTC), level (coloured on a terminal), message, then the other fields (dim).
#pragma once

#include "ferry/core/batch.h"
#include "ferry/core/buffer.h"

namespace ferry::codec {

struct PrettyOptions {
  bool color = false;
};

// Appends one record and a newline.
void appendPretty(core::ByteBuffer& out, core::RecordFormat format, const core::RecordView& record,
                  const PrettyOptions& options);

} // namespace ferry::codec
