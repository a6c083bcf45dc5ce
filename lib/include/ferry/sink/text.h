// The sink kit, text part: a record's text as a sink that sends one text per record sends it,
// and counts of UTF-8 text as a vendor counts it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ferry/codec/json.h"
#include "ferry/core/buffer.h"
#include "ferry/plugin.h"

namespace ferry::sink {

// The length of `text` in UTF-16 code units (how Kinesis counts a partition key, and
// JavaScript a string), or SIZE_MAX when it is not well-formed UTF-8 (overlong forms,
// surrogates, code points past U+10FFFF, a truncated sequence).
size_t utf16Units(std::string_view text);

// A record's text: with `log_key`, that field's value (a string as it is, any other value as
// JSON), else the whole record as JSON (its time field as `json` says). `text` views the
// record or `scratch`. False when the record is malformed or has no such field.
bool recordText(const ferry_plugin_record& record, const std::string& log_key,
                const codec::RecordJsonOptions& json, core::ByteBuffer& scratch,
                std::string_view& text);

} // namespace ferry::sink
