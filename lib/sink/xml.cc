// The text of one XML element, entities decoded.
#include "ferry/sink/xml.h"

#include <array>
#include <utility>

namespace ferry::sink {

std::string xmlText(std::string_view xml, std::string_view element) {
  const std::string open = "<" + std::string(element) + ">";
  const std::string close = "</" + std::string(element) + ">";
  const size_t start = xml.find(open);
  if (start == std::string_view::npos) return {};
  const size_t from = start + open.size();
  const size_t end = xml.find(close, from);
  if (end == std::string_view::npos) return {};
  std::string_view raw = xml.substr(from, end - from);
  std::string out;
  out.reserve(raw.size());
  static constexpr std::array<std::pair<std::string_view, char>, 5> kEntities = {
      {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}}};
  while (!raw.empty()) {
    if (raw.front() == '&') {
      bool matched = false;
      for (const auto& [name, ch] : kEntities) {
        if (raw.starts_with(name)) {
          out.push_back(ch);
          raw.remove_prefix(name.size());
          matched = true;
          break;
        }
      }
      if (matched) continue;
    }
    out.push_back(raw.front());
    raw.remove_prefix(1);
  }
  return out;
}

} // namespace ferry::sink
