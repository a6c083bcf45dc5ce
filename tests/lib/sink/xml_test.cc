// xmlText: an element's text with the five entities decoded; absent or unclosed: empty.
#include "ferry/sink/xml.h"

#include <gtest/gtest.h>

namespace ferry::sink {
namespace {

TEST(XmlTextTest, ElementText) {
  EXPECT_EQ(xmlText("<a><UploadId>x&lt;&gt;&quot;&apos;&amp;y</UploadId></a>", "UploadId"),
            "x<>\"'&y");
  EXPECT_EQ(xmlText("<a><Code>A</Code><Code>B</Code></a>", "Code"), "A"); // the first
  EXPECT_EQ(xmlText("<a>&unknown;&amp</a>", "a"), "&unknown;&amp");       // kept as written
  EXPECT_EQ(xmlText("<a><UploadId>x", "UploadId"), "");
  EXPECT_EQ(xmlText("<a/>", "Code"), "");
}

} // namespace
} // namespace ferry::sink
