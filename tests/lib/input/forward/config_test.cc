// Tests for the forward input's option table, listen addresses and reading a Section.
#include <gtest/gtest.h>

#include <set>

#include "ferry/input/forward.h"

namespace ferry::input {
namespace {

using config::OptionType;
using config::OptionValue;

config::Section section(std::map<std::string, OptionValue> values) {
  config::Section s;
  s.kind = "input";
  s.type = "forward";
  s.name = "forward";
  s.file = "ferry.yaml";
  s.line = 3;
  s.table = &forwardInputOptions();
  for (auto& [key, v] : values)
    v.is_set = true;
  s.values = std::move(values);
  return s;
}

OptionValue text(std::string t, OptionType type = OptionType::kString) {
  OptionValue v;
  v.type = type;
  v.text = std::move(t);
  return v;
}
OptionValue number(int64_t n, OptionType type) {
  OptionValue v;
  v.type = type;
  v.number = n;
  return v;
}
OptionValue list(std::vector<std::string> items) {
  OptionValue v;
  v.type = OptionType::kStringList;
  v.list = std::move(items);
  return v;
}

TEST(ForwardConfig, TheOptionTable) {
  const auto& table = forwardInputOptions();
  std::set<std::string> names;
  for (const auto& spec : table)
    names.insert(spec.name);
  EXPECT_EQ(names, (std::set<std::string>{"listen", "tag_prefix", "shared_key", "self_hostname",
                                          "socket_mode", "tls_cert", "tls_key", "max_record_bytes",
                                          "record_too_large", "buffer_max_size",
                                          "buffer_chunk_size", "max_connections", "idle_timeout"}));
  std::map<std::string, const config::OptionSpec*> by_name;
  for (const auto& spec : table) {
    EXPECT_FALSE(spec.doc.empty()) << spec.name;
    by_name[spec.name] = &spec;
  }
  EXPECT_TRUE(by_name["listen"]->required);
  EXPECT_TRUE(by_name["shared_key"]->secret);
  EXPECT_TRUE(by_name["tls_key"]->secret);
  EXPECT_EQ(by_name["buffer_max_size"]->default_value, "6MiB");
  EXPECT_EQ(by_name["buffer_chunk_size"]->default_value, "64KiB");
  EXPECT_EQ(by_name["max_record_bytes"]->default_value, "1MiB");
  EXPECT_EQ(by_name["idle_timeout"]->default_value, "60s");
  EXPECT_EQ(by_name["max_connections"]->default_value, "1024");
  EXPECT_EQ(by_name["socket_mode"]->default_value, "0660");
  EXPECT_EQ(by_name["record_too_large"]->type, OptionType::kEnum);
  EXPECT_EQ(by_name["record_too_large"]->default_value, "drop");
}

TEST(ForwardConfig, ListenAddresses) {
  auto u = parseForwardListen("unix:///var/run/fluent.sock");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->kind, ForwardListenAddress::Kind::kUnix);
  EXPECT_EQ(u->path, "/var/run/fluent.sock");
  auto t = parseForwardListen("tcp://127.0.0.1:24224");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, ForwardListenAddress::Kind::kTcp);
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 24224);
  auto v6 = parseForwardListen("tcp://[::1]:24225");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 24225);
  auto any = parseForwardListen("tcp://0.0.0.0:0");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->port, 0);
  EXPECT_FALSE(parseForwardListen("unix://relative.sock"));
  EXPECT_FALSE(parseForwardListen("unix:///" + std::string(200, 'a')));
  EXPECT_FALSE(parseForwardListen("tcp://host"));
  EXPECT_FALSE(parseForwardListen("tcp://host:99999"));
  EXPECT_FALSE(parseForwardListen("tcp://host:port"));
  EXPECT_FALSE(parseForwardListen("http://host:80"));
  EXPECT_FALSE(parseForwardListen("/var/run/fluent.sock"));
}

TEST(ForwardConfig, EveryOptionIsRead) {
  const auto s = section({
      {"listen", list({"unix:///tmp/f.sock", "tcp://127.0.0.1:24224"})},
      {"tag_prefix", text("ecs.")},
      {"shared_key", text("k")},
      {"self_hostname", text("me")},
      {"socket_mode", text("0600")},
      {"tls_cert", text("/c.pem")},
      {"tls_key", text("/k.pem")},
      {"max_record_bytes", number(2048, OptionType::kSize)},
      {"record_too_large", text("truncate", OptionType::kEnum)},
      {"buffer_max_size", number(1 << 20, OptionType::kSize)},
      {"buffer_chunk_size", number(8192, OptionType::kSize)},
      {"max_connections", number(5, OptionType::kInt)},
      {"idle_timeout", number(1500, OptionType::kDuration)},
  });
  const auto c = forwardConfigFromSection(s);
  ASSERT_EQ(c.listen.size(), 2u);
  EXPECT_EQ(c.listen[0].path, "/tmp/f.sock");
  EXPECT_EQ(c.listen[1].port, 24224);
  EXPECT_EQ(c.tag_prefix, "ecs.");
  EXPECT_EQ(c.shared_key, "k");
  EXPECT_EQ(c.self_hostname, "me");
  EXPECT_EQ(c.socket_mode, 0600u);
  EXPECT_EQ(c.tls_cert, "/c.pem");
  EXPECT_EQ(c.tls_key, "/k.pem");
  EXPECT_EQ(c.max_record_bytes, 2048u);
  EXPECT_EQ(c.record_too_large, forward::RecordTooLarge::kTruncate);
  EXPECT_EQ(c.buffer_max_size, 1u << 20);
  EXPECT_EQ(c.buffer_chunk_size, 8192u);
  EXPECT_EQ(c.max_connections, 5u);
  EXPECT_EQ(c.idle_timeout, std::chrono::milliseconds(1500));
}

TEST(ForwardConfig, DefaultsWhenOnlyListenIsGiven) {
  const auto c = forwardConfigFromSection(section({{"listen", list({"tcp://127.0.0.1:0"})}}));
  EXPECT_EQ(c.socket_mode, 0660u);
  EXPECT_EQ(c.buffer_max_size, 6u << 20);
  EXPECT_EQ(c.buffer_chunk_size, 64u << 10);
  EXPECT_EQ(c.max_record_bytes, 1u << 20);
  EXPECT_EQ(c.record_too_large, forward::RecordTooLarge::kDrop);
  EXPECT_EQ(c.max_connections, 1024u);
  EXPECT_EQ(c.idle_timeout, std::chrono::seconds(60));
  EXPECT_TRUE(c.shared_key.empty());
}

void expectBad(std::map<std::string, OptionValue> values, const std::string& key) {
  try {
    forwardConfigFromSection(section(std::move(values)));
    ADD_FAILURE() << "accepted a bad " << key;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ferry.yaml:3"), std::string::npos) << e.what();
  }
}

TEST(ForwardConfig, BadValuesNameTheirKey) {
  expectBad({}, "listen");
  expectBad({{"listen", list({"udp://x:1"})}}, "listen");
  expectBad({{"listen", list({"unix:///tmp/a.sock"})}, {"socket_mode", text("0999")}},
            "socket_mode");
  expectBad({{"listen", list({"tcp://127.0.0.1:1"})}, {"tls_cert", text("/c.pem")}}, "tls_key");
  expectBad({{"listen", list({"unix:///tmp/a.sock"})}, {"shared_key", text("k")}}, "shared_key");
  expectBad({{"listen", list({"unix:///tmp/a.sock"})},
             {"record_too_large", text("squash", OptionType::kEnum)}},
            "record_too_large");
}

TEST(ForwardConfig, TheFactoryBuildsAnInput) {
  auto input = makeForwardInput(section({{"listen", list({"tcp://127.0.0.1:0"})}}));
  ASSERT_NE(input, nullptr);
  EXPECT_FALSE(input->finite());
  EXPECT_NE(dynamic_cast<ForwardInput*>(input.get()), nullptr);
}

} // namespace
} // namespace ferry::input
