// The sink kit's text counts.
#include "ferry/sink/text.h"

#include <cstdint>

#include "ferry/sink/record.h"

namespace ferry::sink {

size_t utf16Units(std::string_view text) {
  size_t units = 0;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      n = 1, cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4, cp = c & 0x07;
    } else {
      return SIZE_MAX;
    }
    if (i + n > text.size()) return SIZE_MAX;
    for (size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return SIZE_MAX;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not well-formed.
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return SIZE_MAX;
    units += cp >= 0x10000 ? 2 : 1;
    i += n;
  }
  return units;
}

bool recordText(const ferry_plugin_record& r, const std::string& log_key,
                const codec::RecordJsonOptions& json, core::ByteBuffer& scratch,
                std::string_view& text) {
  scratch.clear();
  const std::string_view data(reinterpret_cast<const char*>(r.data), r.data_len);
  if (log_key.empty()) {
    if (!codec::appendRecordJson(scratch, static_cast<core::RecordFormat>(r.format),
                                 {r.timestamp_ns, data}, json))
      return false;
  } else {
    const auto value = recordField(r, {log_key});
    if (!value) return false;
    if (value->is_string) return text = value->bytes, true;
    if (codec::appendMsgpackAsJson(scratch, value->bytes) == 0) return false;
  }
  text = scratch.view();
  return true;
}

} // namespace ferry::sink
