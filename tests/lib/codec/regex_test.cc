// codec::Regex: how Fluent Bit's Onigmo patterns read as native ones (a table), which engine
// each pattern gets, named groups on both engines, and PCRE2's match limit on a pattern that
// backtracks catastrophically.
#include "ferry/codec/regex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace ferry::codec {
namespace {

struct Translation {
  const char* onigmo;
  const char* native;
  RegexEngine engine;
};

TEST(RegexTest, FluentBitPatternsReadAsNative) {
  const Translation table[] = {
      {R"(^(?<host>[^ ]*) (?<code>\d+)$)", R"((?m)^(?P<host>[^ ]*) (?P<code>\d+)$)",
       RegexEngine::kRe2},
      {R"((?'key'\w+)=(?<value>\S+))", R"((?P<key>\w+)=(?P<value>\S+))", RegexEngine::kRe2},
      // flb_regex.c's delimiters: /body/ loses its slashes, /body/letters takes the letters.
      {"/^a.b$/", "(?m)^a.b$", RegexEngine::kRe2},
      {"/a.b/i", "(?i)a.b", RegexEngine::kRe2},
      {"/a.b/mi", "(?si)a.b", RegexEngine::kRe2},          // Onigmo's m: dot matches newline
      {"/a.b/o", "/a.b/o", RegexEngine::kRe2},             // o alone is no option: taken as written
      {"/var/log/app", "/var/log/app", RegexEngine::kRe2}, // 'a', 'p': not options
      {"/a b/x", "(?x)a b", RegexEngine::kPcre2},
      {"/", "", RegexEngine::kRe2},
      {"(?m:a.b)", "(?s:a.b)", RegexEngine::kRe2},
      {"(?i-m)x", "(?i-s)x", RegexEngine::kRe2},
      {R"(id=\h+)", "id=[0-9a-fA-F]+", RegexEngine::kRe2}, // Ruby's \h is a hex digit
      {R"([\h-]+ \H)", "[0-9a-fA-F-]+ [^0-9a-fA-F]", RegexEngine::kRe2},
      {R"([$^] \$x\^)", R"([$^] \$x\^)", RegexEngine::kRe2}, // no anchor: no (?m)
      {R"(\Qa(?<b\E(?<c>x))", R"(\Qa(?<b\E(?P<c>x))", RegexEngine::kRe2},
      {"a(?# note)b", "ab", RegexEngine::kRe2},
      {R"([[:alpha:]]+(?<n>\d))", R"([[:alpha:]]+(?P<n>\d))", RegexEngine::kRe2},
      {R"(^(?=.*ELB-HealthChecker\/2\.0).*$)", R"((?m)^(?=.*ELB-HealthChecker\/2\.0).*$)",
       RegexEngine::kPcre2},
      {"(?!x)y", "(?!x)y", RegexEngine::kPcre2},
      {"(?<=a)b", "(?<=a)b", RegexEngine::kPcre2},
      {"(?<!a)b", "(?<!a)b", RegexEngine::kPcre2},
      {R"((?<q>["'])\w+\k<q>)", R"((?P<q>["'])\w+\k<q>)", RegexEngine::kPcre2},
      {R"((a)\1)", R"((a)\1)", RegexEngine::kPcre2},
      {"(?>a+)b", "(?>a+)b", RegexEngine::kPcre2},
      {"a++b", "a++b", RegexEngine::kPcre2},
      {"a*+b", "a*+b", RegexEngine::kPcre2},
      {R"(\Gx)", R"(\Gx)", RegexEngine::kPcre2},
      {R"(x\Z)", R"(x\Z)", RegexEngine::kPcre2},
      {"a+?b", "a+?b", RegexEngine::kRe2}, // lazy, not possessive
      {R"(\++)", R"(\++)", RegexEngine::kRe2},
      {R"(\Ax\z)", R"(\Ax\z)", RegexEngine::kRe2},
  };
  for (const auto& t : table) {
    auto native = fromFluentBit(t.onigmo);
    ASSERT_TRUE(native) << t.onigmo << ": " << native.error();
    EXPECT_EQ(*native, t.native) << t.onigmo;
    auto re = Regex::compile(*native, {.log_engine = false});
    ASSERT_TRUE(re) << t.onigmo << ": " << re.error();
    EXPECT_EQ(re->engine(), t.engine) << t.onigmo;
    EXPECT_EQ(re->fallbackReason().empty(), t.engine == RegexEngine::kRe2) << t.onigmo;
  }
}

TEST(RegexTest, OnigmoOnlyConstructsAndBadPatternsAreRefused) {
  EXPECT_FALSE(fromFluentBit("(?~abc)")) << "the absent operator has no equivalent";
  EXPECT_FALSE(fromFluentBit(R"([\H])"));
  for (const char* bad : {"*failure*", "(?<a>unclosed", "(?=unclosed", "a{2,1}", "(a)\\2"}) {
    auto native = fromFluentBit(bad);
    ASSERT_TRUE(native) << bad;
    auto re = Regex::compile(*native, {.log_engine = false});
    EXPECT_FALSE(re) << bad << " compiled on " << (re ? re->fallbackReason() : "");
    if (!re) {
      EXPECT_FALSE(re.error().empty());
    }
  }
}

TEST(RegexTest, NativePatternsKeepTheirMeaning) {
  // A native pattern is Perl syntax: ^ and $ anchor the text, (?m) is Perl's multiline.
  auto re = Regex::compile("^b$");
  ASSERT_TRUE(re);
  EXPECT_FALSE(re->search("a\nb\nc"));
  auto onig = Regex::compile(*fromFluentBit("^b$"));
  ASSERT_TRUE(onig);
  EXPECT_TRUE(onig->search("a\nb\nc")) << "Ruby's ^ and $ match at line breaks";
  // $ is the end of the text on PCRE2 too (as on RE2), not before a final newline.
  auto pcre = Regex::compile("(?=b)b$");
  ASSERT_TRUE(pcre);
  EXPECT_EQ(pcre->engine(), RegexEngine::kPcre2);
  EXPECT_TRUE(pcre->search("ab"));
  EXPECT_FALSE(pcre->search("ab\n"));
  auto named = Regex::compile(R"((?<k>\w+)=(?P<v>\w+))");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->engine(), RegexEngine::kRe2) << "(?<name>) is a named group, not look-behind";
}

void expectGroups(const Regex& re, std::string_view text,
                  std::vector<std::pair<std::string, std::string>> want) {
  std::vector<std::string_view> groups(static_cast<size_t>(re.groupCount()) + 1);
  ASSERT_TRUE(re.search(text, groups)) << text;
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& g : re.namedGroups()) {
    const std::string_view v = groups[static_cast<size_t>(g.index)];
    got.emplace_back(g.name, v.data() == nullptr ? "<unset>" : std::string(v));
  }
  EXPECT_EQ(got, want) << text;
}

TEST(RegexTest, NamedGroupsOnBothEngines) {
  for (const char* pattern :
       {R"((?<a>\d+)(?: (?<b>x))?-(?<c>\w*))", R"((?=\d)(?<a>\d+)(?: (?<b>x))?-(?<c>\w*))"}) {
    auto re = Regex::compile(pattern, {.log_engine = false});
    ASSERT_TRUE(re) << re.error();
    SCOPED_TRACE(pattern);
    expectGroups(*re, "id 42 x-y", {{"a", "42"}, {"b", "x"}, {"c", "y"}});
    expectGroups(*re, "id 42-", {{"a", "42"}, {"b", "<unset>"}, {"c", ""}});
    EXPECT_FALSE(re->search("none"));
  }
}

TEST(RegexTest, LookAheadAndBackReferenceRunOnPcre2) {
  auto health = Regex::compile(*fromFluentBit(R"(^(?=.*ELB-HealthChecker\/2\.0).*$)"));
  ASSERT_TRUE(health) << health.error();
  EXPECT_EQ(health->fallbackReason(), "look-ahead");
  EXPECT_TRUE(health->search(R"(10.0.0.1 - - "GET / HTTP/1.1" 200 "ELB-HealthChecker/2.0")"));
  EXPECT_FALSE(health->search(R"(10.0.0.1 - - "GET / HTTP/1.1" 200 "curl/8.0")"));
  EXPECT_FALSE(health->search("ELB-HealthChecker/1.0"));
  auto repeat = Regex::compile(R"(\b(\w+) \1\b)", {.log_engine = false});
  ASSERT_TRUE(repeat);
  EXPECT_EQ(repeat->fallbackReason(), "a back-reference");
  EXPECT_TRUE(repeat->search("it is is here"));
  EXPECT_FALSE(repeat->search("it is here"));
  EXPECT_TRUE(repeat->search(std::string_view("\xff\xfe is is", 8)))
      << "invalid UTF-8 is searched, not refused";
}

TEST(RegexTest, MatchLimitStopsCatastrophicBacktracking) {
  // The look-ahead sends (a+)+$ to PCRE2, where 'aaa...b' takes 2^n steps without a limit.
  auto re = Regex::compile("(?=a)(a+)+$", {.log_engine = false});
  ASSERT_TRUE(re);
  ASSERT_EQ(re->engine(), RegexEngine::kPcre2);
  const std::string text = std::string(40, 'a') + "b";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(re->search(text));
  EXPECT_FALSE(re->search(text));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_EQ(re->limitHits(), 2u);
  EXPECT_TRUE(re->search(std::string(40, 'a'))) << "a line within the limit still matches";
  EXPECT_EQ(re->limitHits(), 2u);
  // RE2 runs the same pattern without the look-ahead in linear time, no limit needed.
  auto linear = Regex::compile("(a+)+$");
  ASSERT_TRUE(linear);
  EXPECT_EQ(linear->engine(), RegexEngine::kRe2);
  EXPECT_FALSE(linear->search(std::string(100'000, 'a') + "b"));
}

} // namespace
} // namespace ferry::codec
