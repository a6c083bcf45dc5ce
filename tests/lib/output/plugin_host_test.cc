// Plugin host: loads the real sink plugins and refuses broken ones with clear messages.
// Also pins the ABI header: editing it without a version bump fails here.
#include "ferry/output/plugin_host.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_support.h"

namespace ferry::output {
namespace {

TEST(PluginHostTest, LoadsEachBuiltInSinkPlugin) {
  PluginHost host(FERRY_PLUGIN_DIR);
  for (const char* type : {"stdout", "file", "null"}) {
    auto api = host.load(type);
    ASSERT_TRUE(api.has_value()) << api.error();
    EXPECT_STREQ((*api)->descriptor->type_name, type);
    EXPECT_EQ((*api)->descriptor->abi_major, static_cast<uint32_t>(FERRY_PLUGIN_ABI_MAJOR));
    EXPECT_NE((*api)->encode, nullptr);
  }
  auto again = host.load("stdout");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *host.load("stdout")) << "a plugin must be loaded once";
  const auto types = host.availableTypes();
  EXPECT_NE(std::find(types.begin(), types.end(), "file"), types.end());
}

TEST(PluginHostTest, FileSinkDeclaresItsOptionTable) {
  PluginHost host(FERRY_PLUGIN_DIR);
  auto api = host.load("file");
  ASSERT_TRUE(api.has_value()) << api.error();
  const auto& opts = (*api)->options;
  auto path =
      std::find_if(opts.begin(), opts.end(), [](const auto& o) { return o.name == "path"; });
  ASSERT_NE(path, opts.end());
  EXPECT_TRUE(path->required);
}

TEST(PluginHostTest, RefusesAPluginBuiltForAnotherAbiVersion) {
  PluginHost host(FERRY_TEST_PLUGIN_DIR);
  auto api = host.loadPath(std::string(FERRY_TEST_PLUGIN_DIR) + "/bad_abi.so");
  ASSERT_FALSE(api.has_value());
  EXPECT_NE(api.error().find("ABI 2.0"), std::string::npos) << api.error();
  EXPECT_NE(api.error().find("bad_abi.so"), std::string::npos) << api.error();
  EXPECT_NE(api.error().find("rebuild"), std::string::npos) << api.error();
}

TEST(PluginHostTest, RefusesAPluginMissingSymbolsNamingThem) {
  PluginHost host(FERRY_TEST_PLUGIN_DIR);
  auto api = host.loadPath(std::string(FERRY_TEST_PLUGIN_DIR) + "/missing_symbol.so");
  ASSERT_FALSE(api.has_value());
  EXPECT_NE(api.error().find("ferry_on_encode"), std::string::npos) << api.error();
  EXPECT_EQ(api.error().find("ferry_on_init"), std::string::npos)
      << "init is present: " << api.error();
}

TEST(PluginHostTest, UnknownTypeListsWhatIsAvailable) {
  PluginHost host(FERRY_PLUGIN_DIR);
  auto api = host.load("kafka");
  ASSERT_FALSE(api.has_value());
  EXPECT_NE(api.error().find("unknown output type 'kafka'"), std::string::npos) << api.error();
  EXPECT_NE(api.error().find("stdout"), std::string::npos) << api.error();
  EXPECT_FALSE(host.load("../etc/passwd").has_value());
}

TEST(PluginHostTest, NotAPluginAtAll) {
  test::TempDir dir;
  test::writeFile(dir / "junk.so", "not an ELF file");
  PluginHost host(dir.path().string());
  auto api = host.load("junk");
  ASSERT_FALSE(api.has_value());
  EXPECT_NE(api.error().find("cannot load plugin"), std::string::npos) << api.error();
}

// FNV-1a of the ABI header. When this fails: if the change is additive (as the header's
// "Versioning" paragraph says), bump FERRY_PLUGIN_ABI_MINOR; otherwise bump the MAJOR; an
// edit of comments alone needs no bump. Then update the expected hash and version together.
TEST(PluginAbiTest, HeaderChangesRequireAVersionBump) {
  std::ifstream in(std::string(FERRY_TEST_DATA_DIR) + "/../../lib/include/ferry/plugin.h",
                   std::ios::binary);
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : ss.str()) {
    h ^= c;
    h *= 1099511628211ull;
  }
  constexpr uint64_t kPinnedHash = 0x2a3687c34e20ad7bull;
  constexpr int kPinnedMajor = 1, kPinnedMinor = 5;
  EXPECT_EQ(FERRY_PLUGIN_ABI_MAJOR * 1000 + FERRY_PLUGIN_ABI_MINOR,
            kPinnedMajor * 1000 + kPinnedMinor);
  EXPECT_EQ(h, kPinnedHash) << std::hex << "plugin.h changed (hash 0x" << h
                            << "): bump FERRY_PLUGIN_ABI_MAJOR/MINOR and re-pin";
}

} // namespace
} // namespace ferry::output
