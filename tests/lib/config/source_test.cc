// Tests for lib/config/source.cc: where the YAML comes from, in SPEC.md's order, and the
// embedded default.
#include <gtest/gtest.h>
#include <unistd.h>

#include "config_fakes.h"
#include "ferry/config/config.h"
#include "test_support.h"

namespace ferry::config {
namespace {

using testing::fakeEnv;

class ConfigSourceTest : public ::testing::Test {
protected:
  void SetUp() override {
    test::writeFile(dir_ / "cli.yaml", "cli: true\n");
    test::writeFile(dir_ / "env.yaml", "env: true\n");
  }
  std::string cli() const { return (dir_ / "cli.yaml").string(); }
  std::string envFile() const { return (dir_ / "env.yaml").string(); }
  test::TempDir dir_;
};

TEST_F(ConfigSourceTest, CliPathWinsOverEverything) {
  const auto s = chooseSource(
      cli(), fakeEnv({{"FERRY_CONFIG", envFile()}, {"FERRY_CONFIG_YAML", "yaml: true\n"}}));
  EXPECT_EQ(s.name, cli());
  EXPECT_EQ(s.text, "cli: true\n");
  EXPECT_EQ(s.dir, dir_.path().string());
}

TEST_F(ConfigSourceTest, FerryConfigPathComesSecond) {
  const auto s = chooseSource(
      std::nullopt, fakeEnv({{"FERRY_CONFIG", envFile()}, {"FERRY_CONFIG_YAML", "yaml: true\n"}}));
  EXPECT_EQ(s.name, envFile());
  EXPECT_EQ(s.text, "env: true\n");
}

TEST_F(ConfigSourceTest, FerryConfigYamlComesThird) {
  const auto s = chooseSource(
      std::nullopt, fakeEnv({{"FERRY_CONFIG", ""}, {"FERRY_CONFIG_YAML", "yaml: true\n"}}));
  EXPECT_EQ(s.name, "FERRY_CONFIG_YAML");
  EXPECT_EQ(s.text, "yaml: true\n");
  EXPECT_EQ(s.dir, "");
}

TEST_F(ConfigSourceTest, EmbeddedDefaultComesLast) {
  const auto s = chooseSource(std::nullopt, fakeEnv({{"FERRY_CONFIG_YAML", ""}}));
  EXPECT_EQ(s.name, "<embedded default>");
  EXPECT_NE(s.text.find("tcp://127.0.0.1:24224"), std::string::npos);
}

TEST_F(ConfigSourceTest, UnreadableFileIsAConfigErrorNamingIt) {
  const std::string missing = (dir_ / "missing.yaml").string();
  for (const std::string& path : {missing, dir_.path().string()}) {
    try {
      chooseSource(path, fakeEnv({}));
      FAIL() << "expected ConfigError for " << path;
    } catch (const ConfigError& e) {
      ASSERT_EQ(e.diagnostics().size(), 1u);
      EXPECT_EQ(e.diagnostics()[0].file, path);
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
      EXPECT_NE(e.diagnostics()[0].message.find("cannot read"), std::string::npos);
    }
  }
  EXPECT_THROW(chooseSource(std::nullopt, fakeEnv({{"FERRY_CONFIG", missing}})), ConfigError);
}

TEST(ConfigEmbeddedDefaultTest, SocketPathDependsOnWhatIsWritable) {
  const auto env = fakeEnv({{"XDG_RUNTIME_DIR", "/run/user/1000"}});
  EXPECT_NE(embeddedDefault(env, true, true).find("listen: unix:///var/run/fluent.sock"),
            std::string::npos);
  const std::string xdg = embeddedDefault(env, true, false);
  EXPECT_EQ(xdg.find("/var/run/fluent.sock"), std::string::npos);
  EXPECT_NE(xdg.find("unix://${XDG_RUNTIME_DIR}/ferry.sock"), std::string::npos) << xdg;
  const std::string tmp = embeddedDefault(fakeEnv({}), true, false);
  EXPECT_NE(tmp.find("unix:///tmp/ferry-" + std::to_string(getuid()) + ".sock"), std::string::npos)
      << tmp;
  EXPECT_NE(tmp.find("# /var/run is not writable and XDG_RUNTIME_DIR is unset"), std::string::npos);
}

TEST(ConfigEmbeddedDefaultTest, StdinOnlyWhenItIsNotATerminal) {
  const auto env = fakeEnv({});
  EXPECT_EQ(embeddedDefault(env, true, true).find("type: stdin"), std::string::npos);
  EXPECT_NE(embeddedDefault(env, false, true).find("type: stdin"), std::string::npos);
}

TEST(ConfigEmbeddedDefaultTest, LoadsWithOnlyTypeListenAndTag) {
  // Tables holding nothing but the keys the default may use: any other key would fail.
  testing::FakeTables tables;
  tables.forward = {testing::withRequired(testing::spec("listen", OptionType::kString))};
  tables.stdin_input = {testing::spec("tag", OptionType::kString)};
  tables.stdout_output = {};
  const auto env = fakeEnv({{"XDG_RUNTIME_DIR", "/run/user/1000"}});
  const Config c = load(ConfigSource{.name = "<embedded default>",
                                     .dir = "",
                                     .text = embeddedDefault(env, false, false)},
                        tables.lookup(), env);
  ASSERT_EQ(c.inputs.size(), 3u);
  EXPECT_EQ(c.inputs[0].getString("listen"), "unix:///run/user/1000/ferry.sock");
  EXPECT_EQ(c.inputs[0].name, "forward.0");
  EXPECT_EQ(c.inputs[1].getString("listen"), "tcp://127.0.0.1:24224");
  EXPECT_EQ(c.inputs[2].type, "stdin");
  EXPECT_EQ(c.inputs[2].getString("tag"), "stdin");
  ASSERT_EQ(c.outputs.size(), 1u);
  EXPECT_EQ(c.outputs[0].section.type, "stdout");
  EXPECT_EQ(c.outputs[0].section.match, "*");
}

} // namespace
} // namespace ferry::config
