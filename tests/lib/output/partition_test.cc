// Partition templates: $TAG and its parts (out of range too), record fields (missing, nested,
// non-string values, line records, malformed msgpack), literal text and the parse errors.
#include "ferry/output/partition.h"

#include <gtest/gtest.h>

#include "ferry/plugin.h"
#include "msgpack_builders.h"

namespace ferry::output {
namespace {

std::string eval(std::string_view text, std::string_view tag, std::string_view data = {},
                 uint32_t format = FERRY_RECORD_MSGPACK_MAP) {
  auto t = PartitionTemplate::parse(text);
  EXPECT_TRUE(t.has_value()) << text << ": " << (t ? "" : t.error());
  return t ? t->evaluate(tag, data, format) : "<error>";
}

// {"k": {"ns": "prod", "n": 5, "deep": {"x": "y"}}, "num": 42, "neg": -3, "f": 1.5,
//  "b": true, "nil": nil, "arr": [1, "x"], 7: "int key", "s": "plain"}
std::string sample() {
  return test::pack([](test::Packer& pk) {
    pk.pack_map(10);
    pk.pack(std::string("k"));
    pk.pack_map(3);
    pk.pack(std::string("ns"));
    pk.pack(std::string("prod"));
    pk.pack(std::string("n"));
    pk.pack(5);
    pk.pack(std::string("deep"));
    pk.pack_map(1);
    pk.pack(std::string("x"));
    pk.pack(std::string("y"));
    pk.pack(std::string("num"));
    pk.pack(42);
    pk.pack(std::string("neg"));
    pk.pack(-3);
    pk.pack(std::string("f"));
    pk.pack(1.5);
    pk.pack(std::string("b"));
    pk.pack(true);
    pk.pack(std::string("nil"));
    pk.pack_nil();
    pk.pack(std::string("arr"));
    pk.pack_array(2);
    pk.pack(1);
    pk.pack(std::string("x"));
    pk.pack(7);
    pk.pack(std::string("int key"));
    pk.pack(std::string("s"));
    pk.pack(std::string("plain"));
    pk.pack(std::string("s"));
    pk.pack(std::string("second of a duplicate key"));
  });
}

TEST(PartitionTemplateTest, TagAndItsParts) {
  EXPECT_EQ(eval("$TAG", "app.web.stderr"), "app.web.stderr");
  EXPECT_EQ(eval("$TAG[0]/$TAG[1]/$TAG[2]", "app.web.stderr"), "app/web/stderr");
  // Out of range: empty, never the whole tag.
  EXPECT_EQ(eval("[$TAG[3]][$TAG[99]]", "app.web.stderr"), "[][]");
  EXPECT_EQ(eval("$TAG[0]", "plain"), "plain");
  EXPECT_EQ(eval("$TAG[1]", "a..b"), "");
  EXPECT_EQ(eval("$TAG[2]", "a..b"), "b");
  EXPECT_EQ(eval("$TAG", ""), "");
}

TEST(PartitionTemplateTest, LiteralText) {
  EXPECT_EQ(eval("group-$$-$TAGx", "t"), "group-$-tx");
  EXPECT_EQ(eval("cost$5 $NOPE $", "t"), "cost$5 $NOPE $");
  EXPECT_TRUE(PartitionTemplate::parse("").value().empty());
  EXPECT_FALSE(PartitionTemplate::parse("$TAG").value().usesFields());
  EXPECT_TRUE(PartitionTemplate::parse("x-$(a)").value().usesFields());
}

TEST(PartitionTemplateTest, FieldsOfMsgpackMaps) {
  const std::string r = sample();
  EXPECT_EQ(eval("$(s)", "t", r), "plain"); // the first of a duplicate key
  EXPECT_EQ(eval("$(k.ns)/$(k.deep.x)", "t", r), "prod/y");
  EXPECT_EQ(eval("$(num)|$(neg)|$(f)|$(b)|$(nil)", "t", r), "42|-3|1.5|true|");
  EXPECT_EQ(eval("$(k.n)", "t", r), "5");
  // Containers as JSON.
  EXPECT_EQ(eval("$(arr)", "t", r), "[1,\"x\"]");
  EXPECT_EQ(eval("$(k.deep)", "t", r), "{\"x\":\"y\"}");
  // Missing: the field, a key under a non-map, a key past the end.
  EXPECT_EQ(eval("[$(missing)][$(num.x)][$(k.ns.more)][$(k.missing)]", "t", r), "[][][][]");
  // Integer keys are not field names.
  EXPECT_EQ(eval("$(7)", "t", r), "");
  EXPECT_EQ(eval("$TAG:$(k.ns)", "app", r), "app:prod");
}

TEST(PartitionTemplateTest, LineRecordsHaveOnlyLog) {
  EXPECT_EQ(eval("$(log)", "t", "a line", FERRY_RECORD_LINE), "a line");
  EXPECT_EQ(eval("[$(message)][$(log.x)]", "t", "a line", FERRY_RECORD_LINE), "[][]");
}

TEST(PartitionTemplateTest, MalformedRecordsGiveEmptyPieces) {
  EXPECT_EQ(eval("[$(a)]", "t", test::bytes({0x81, 0xa1, 'a'})), "[]");            // truncated
  EXPECT_EQ(eval("[$(a)]", "t", test::bytes({0x92, 0x01, 0x02})), "[]");           // an array
  EXPECT_EQ(eval("[$(a)]", "t", test::bytes({0x81, 0xa1, 'a', 0xa5, 'x'})), "[]"); // short str
  EXPECT_EQ(eval("[$(a)]", "t", ""), "[]");
}

TEST(PartitionTemplateTest, ParseErrorsQuoteThePiece) {
  for (const char* bad :
       {"$(", "x$(abc", "$()", "$(a..b)", "$(.a)", "$TAG[x]", "$TAG[1", "$TAG[]", "$TAG[-1]"}) {
    auto t = PartitionTemplate::parse(bad);
    EXPECT_FALSE(t.has_value()) << bad;
    if (!t) {
      EXPECT_NE(t.error().find("partition template"), std::string::npos) << t.error();
    }
  }
}

} // namespace
} // namespace ferry::output
