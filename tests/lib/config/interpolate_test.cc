// Tests for lib/config/interpolate.cc: every ${...} form, $$, lone '$', and every error.
#include <gtest/gtest.h>

#include <map>

#include "ferry/config/interpolate.h"

namespace ferry::config {
namespace {

EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class InterpolateTest : public ::testing::Test {
protected:
  std::expected<std::string, std::string> run(std::string_view text) {
    return interpolate(text, env_);
  }
  EnvLookup env_ = fakeEnv({{"HOME", "/home/me"},
                            {"EMPTY", ""},
                            {"SECRET", "hunter2"},
                            {"REGION", "eu-west-1"},
                            {"B", "bee"}});
};

TEST_F(InterpolateTest, TextWithoutReferencesIsUnchanged) {
  EXPECT_EQ(run("plain text").value(), "plain text");
  EXPECT_EQ(run("").value(), "");
}

TEST_F(InterpolateTest, PlainReference) {
  EXPECT_EQ(run("${HOME}").value(), "/home/me");
  EXPECT_EQ(run("dir=${HOME}/x, r=${REGION}").value(), "dir=/home/me/x, r=eu-west-1");
  EXPECT_EQ(run("${EMPTY}").value(), ""); // set but empty is fine
}

TEST_F(InterpolateTest, UnsetReferenceIsAnErrorNamingTheVariable) {
  const auto r = run("key=${DD_API_KEY}");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("DD_API_KEY is not set"), std::string::npos) << r.error();
}

TEST_F(InterpolateTest, DefaultWhenUnsetOrEmpty) {
  EXPECT_EQ(run("${NOPE:-datadoghq.com}").value(), "datadoghq.com");
  EXPECT_EQ(run("${EMPTY:-fallback}").value(), "fallback");
  EXPECT_EQ(run("${REGION:-us-east-1}").value(), "eu-west-1");
  EXPECT_EQ(run("${NOPE:-}").value(), "");
  EXPECT_EQ(run("${NOPE:-a b:c-d}").value(), "a b:c-d");
}

TEST_F(InterpolateTest, NestedDefaultIsExpandedOnlyWhenUsed) {
  EXPECT_EQ(run("${NOPE:-${B}}").value(), "bee");
  EXPECT_EQ(run("${NOPE:-x-${NOPE2:-${B}}-y}").value(), "x-bee-y");
  // The inner unset reference is not an error when the outer variable is set.
  EXPECT_EQ(run("${REGION:-${UNSET_TOO}}").value(), "eu-west-1");
  const auto r = run("${NOPE:-${UNSET_TOO}}");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("UNSET_TOO"), std::string::npos);
}

TEST_F(InterpolateTest, RequiredWithMessage) {
  EXPECT_EQ(run("${REGION:?set AWS_REGION}").value(), "eu-west-1");
  auto r = run("${NOPE:?set it in the task definition}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(),
            "environment variable NOPE is unset or empty: set it in the task definition");
  r = run("${EMPTY:?}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "environment variable EMPTY is unset or empty");
}

TEST_F(InterpolateTest, DoubleDollarIsALiteralDollar) {
  EXPECT_EQ(run("$$").value(), "$");
  EXPECT_EQ(run("cost: $$5").value(), "cost: $5");
  EXPECT_EQ(run("$${HOME}").value(), "${HOME}");
  EXPECT_EQ(run("$$$$").value(), "$$");
}

TEST_F(InterpolateTest, LoneDollarStaysLiteral) {
  EXPECT_EQ(run("%H%M%S-$UUID.ndjson.gz").value(), "%H%M%S-$UUID.ndjson.gz");
  EXPECT_EQ(run("ends with $").value(), "ends with $");
  EXPECT_EQ(run("$ HOME").value(), "$ HOME");
}

TEST_F(InterpolateTest, SyntaxErrors) {
  for (const char* bad :
       {"${", "${HOME", "${}", "${1ABC}", "${HOME:-x", "${HOME:x}", "${HO-ME}", "${HOME:+x}"}) {
    const auto r = run(bad);
    EXPECT_FALSE(r.has_value()) << bad << " gave " << r.value_or("?");
  }
  EXPECT_NE(run("${HOME").error().find("unclosed"), std::string::npos);
  EXPECT_NE(run("${}").error().find("empty variable name"), std::string::npos);
}

TEST_F(InterpolateTest, ErrorsNeverQuoteValues) {
  const auto r = run("${SECRET:x}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().find("hunter2"), std::string::npos);
}

TEST_F(InterpolateTest, EscapeInterpolationRoundTrips) {
  for (const char* literal : {"plain", "$UUID", "${HOME}", "$$", "a$", "$", "x$${y}", "${"}) {
    const std::string escaped = escapeInterpolation(literal);
    EXPECT_EQ(run(escaped).value(), literal) << escaped;
  }
  EXPECT_EQ(escapeInterpolation("$UUID"), "$UUID"); // left readable when unambiguous
  EXPECT_TRUE(hasReference("a${B}"));
  EXPECT_FALSE(hasReference("a$B$$"));
}

} // namespace
} // namespace ferry::config
