// The sink kit, XML answers: just enough to read the text of one element from the small
// documents AWS's XML APIs answer with (S3's <Error><Code>, <UploadId>...). No parser: no
// attributes, namespaces or CDATA, which those answers do not use.
#pragma once

#include <string>
#include <string_view>

namespace ferry::sink {

// The text of the first <element>...</element> in `xml`, with the five XML entities
// decoded; empty when absent.
std::string xmlText(std::string_view xml, std::string_view element);

} // namespace ferry::sink
