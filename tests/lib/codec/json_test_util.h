// JSON checks for the codec tests: rapidjson with UTF-8 validation and full precision.
#pragma once

#include <rapidjson/document.h>

#include <string_view>

namespace ferry::test {

inline bool parseJson(std::string_view s, rapidjson::Document& d) {
  d.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseFullPrecisionFlag>(s.data(),
                                                                                      s.size());
  return !d.HasParseError();
}

inline bool isValidJson(std::string_view s) {
  rapidjson::Document d;
  return parseJson(s, d);
}

} // namespace ferry::test
