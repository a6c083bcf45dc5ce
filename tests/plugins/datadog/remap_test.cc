// provider ecs: the ECS field → Datadog tag rules one by one (well-formed and malformed values)
// and whole FireLens records through the encoder, with the ddtags string and the remaining
// attributes Fluent Bit's out_datadog sends for the same record (worked out from its
// datadog.c / datadog_remap.c: moved tags in field order, then "," and dd_tags; the moved
// fields leave the record; a non-string or empty value stays).
#include "datadog/remap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "entries.h"
#include "msgpack_builders.h"
#include "test_support.h"

namespace ferry::datadog {
namespace {

using namespace test_entries;

// The tags one field gives on its own ("<none>" when it is not moved).
std::string tagsOf(std::string_view key, std::string_view value) {
  std::string tags;
  return appendEcsTags(key, value, tags) ? tags : "<none>";
}

constexpr std::string_view kArn =
    "arn:aws:ecs:us-east-2:01234567891011:task/mycluster/3de392df-6bfa-470b-97ed-aa6f482cd7a";

TEST(DatadogRemapTest, ContainerFields) {
  EXPECT_EQ(tagsOf("container_id", "3c0b1a2d4e5f"), "container_id:3c0b1a2d4e5f");
  EXPECT_EQ(tagsOf("container_image", "nginx:1.25"), "container_image:nginx:1.25");
  EXPECT_EQ(tagsOf("container_name", "/ecs-app-1"), "container_name:ecs-app-1");
  EXPECT_EQ(tagsOf("container_name", "ecs-app-1"), "container_name:ecs-app-1");
  EXPECT_EQ(tagsOf("container_name", "//twice"), "container_name:/twice") << "one slash only";
  EXPECT_EQ(tagsOf("container_name", "/"), "container_name:");
}

TEST(DatadogRemapTest, ClusterNameOrArn) {
  EXPECT_EQ(tagsOf("ecs_cluster", "mycluster"), "cluster_name:mycluster");
  EXPECT_EQ(tagsOf("ecs_cluster", "arn:aws:ecs:eu-west-1:111122223333:cluster/prod"),
            "cluster_name:prod");
  EXPECT_EQ(tagsOf("ecs_cluster", "cluster/"), "cluster_name:");
}

TEST(DatadogRemapTest, TaskDefinitionSplitsAtTheFirstColon) {
  EXPECT_EQ(tagsOf("ecs_task_definition", "firelens-example-datadog:1"),
            "task_family:firelens-example-datadog,task_version:1");
  EXPECT_EQ(tagsOf("ecs_task_definition", "fam:1:x"), "task_family:fam,task_version:1:x");
  EXPECT_EQ(tagsOf("ecs_task_definition", "no-revision"), "ecs_task_definition:no-revision");
  EXPECT_EQ(tagsOf("ecs_task_definition", ":"), "task_family:,task_version:");
}

TEST(DatadogRemapTest, TaskArnGivesArnRegionAndId) {
  EXPECT_EQ(tagsOf("ecs_task_arn", kArn),
            std::string("task_arn:") + std::string(kArn) +
                ",region:us-east-2,task_id:mycluster/3de392df-6bfa-470b-97ed-aa6f482cd7a");
  // The old ARN format has no cluster in it.
  EXPECT_EQ(tagsOf("ecs_task_arn", "arn:aws:ecs:us-east-1:012345678910:task/0123abcd"),
            "task_arn:arn:aws:ecs:us-east-1:012345678910:task/0123abcd,region:us-east-1,"
            "task_id:0123abcd");
  // Not an ARN: kept whole as task_arn and task_id, no region.
  EXPECT_EQ(tagsOf("ecs_task_arn", "0123abcd"), "task_arn:0123abcd,task_id:0123abcd");
  EXPECT_EQ(tagsOf("ecs_task_arn", "arn:aws:ecs:"), "task_arn:arn:aws:ecs:,task_id:arn:aws:ecs:");
  EXPECT_EQ(tagsOf("ecs_task_arn", "arn:aws:ecs:us-east-1"),
            "task_arn:arn:aws:ecs:us-east-1,task_id:arn:aws:ecs:us-east-1")
      << "no ':' after the region: no region tag";
  EXPECT_EQ(tagsOf("ecs_task_arn", "arn:aws-cn:ecs:cn-north-1:1:task/c/1"),
            "task_arn:arn:aws-cn:ecs:cn-north-1:1:task/c/1,task_id:c/1")
      << "only the aws partition's prefix gives a region";
}

TEST(DatadogRemapTest, OtherKeysAndEmptyValuesStay) {
  EXPECT_EQ(tagsOf("ec2_instance_id", "i-123456789a"), "<none>");
  EXPECT_EQ(tagsOf("source", "stdout"), "<none>");
  EXPECT_EQ(tagsOf("Container_Id", "x"), "<none>") << "keys match exactly";
  EXPECT_EQ(tagsOf("container_id", ""), "<none>");
  std::string tags = "a:1";
  EXPECT_TRUE(appendEcsTags("container_id", "x", tags));
  EXPECT_EQ(tags, "a:1,container_id:x") << "appended after a comma";
}

// The settings ecs-fargate-datadog's [OUTPUT] converts to.
EncoderSettings fargateDatadog() {
  EncoderSettings s;
  s.service = "my-httpd-service";
  s.source = "httpd";
  s.tags = "project:example";
  s.hostname = "3de392df-6bfa-470b-97ed-aa6f482cd7a";
  s.provider = Provider::kEcs;
  return s;
}

// A record as the Docker fluentd driver sends it, after FireLens's record_modifier.
std::vector<std::pair<std::string, std::string>> firelensRecord(std::string task_definition) {
  return {{"container_id", "3c0b1a2d4e5f"},
          {"container_name", "/ecs-firelens-example-datadog-1-app-e6a8f6c5d4b3a2f1"},
          {"source", "stdout"},
          {"log", "127.0.0.1 - - [01/May/2024:12:00:00 +0000] \"GET / HTTP/1.1\" 200 45"},
          {"ecs_cluster", "mycluster"},
          {"ecs_task_arn", std::string(kArn)},
          {"ecs_task_definition", std::move(task_definition)}};
}

// The tags Fluent Bit derives from firelensRecord (before the configured dd_tags).
std::string firelensTags(std::string_view family) {
  return fmt::format("container_id:3c0b1a2d4e5f,"
                     "container_name:ecs-firelens-example-datadog-1-app-e6a8f6c5d4b3a2f1,"
                     "cluster_name:mycluster,task_arn:{},region:us-east-2,"
                     "task_id:mycluster/3de392df-6bfa-470b-97ed-aa6f482cd7a,"
                     "task_family:{},task_version:1",
                     kArn, family);
}

TEST(DatadogRemapTest, FargateRecordShipsTheEcsTags) {
  Records r;
  r.map(test::packMap(firelensRecord("firelens-example-datadog:1")));
  auto ec2 = firelensRecord("firelens-example-datadog:1");
  ec2.insert(ec2.begin() + 4, {"ec2_instance_id", "i-123456789a"}); // EC2 launch type
  r.map(test::packMap(ec2));
  const Encoded e = encode(fargateDatadog(), r);
  ASSERT_EQ(e.doc.Size(), 2u) << e.json;
  const std::string want = firelensTags("firelens-example-datadog") + ",project:example";
  for (size_t i = 0; i < 2; ++i) {
    const auto& entry = e.doc[static_cast<rapidjson::SizeType>(i)];
    EXPECT_EQ(str(entry, "ddtags"), want);
    EXPECT_EQ(str(entry, "message"),
              "127.0.0.1 - - [01/May/2024:12:00:00 +0000] \"GET / HTTP/1.1\" 200 45");
    EXPECT_EQ(str(entry, "service"), "my-httpd-service");
    EXPECT_EQ(str(entry, "ddsource"), "httpd");
    EXPECT_EQ(str(entry, "source"), "stdout");
  }
  EXPECT_EQ(keys(e.doc[0]), (std::vector<std::string>{"message", "ddtags", "source", "ddsource",
                                                      "service", "hostname", "timestamp"}));
  EXPECT_EQ(str(e.doc[1], "ec2_instance_id"), "i-123456789a") << "not an ECS field: stays";
}

TEST(DatadogRemapTest, ParsedJsonRecordHasNoMessageAndTheTags) {
  // ecs-datadog-parse-json: the parser (Reserve_Data True) replaced `log` by its members.
  std::vector<std::pair<std::string, std::string>> fields = {
      {"level", "info"}, {"msg", "request done"}, {"request_id", "F1x"}};
  for (auto& f : firelensRecord("nerves_hub-production:1"))
    if (f.first != "log") fields.push_back(f);
  Records r;
  r.map(test::packMap(fields));
  EncoderSettings s = fargateDatadog();
  s.service = "nerves_hub";
  s.source = "elixir";
  s.tags = "env:production,application:nerves_hub-production,version:v2.0.0,task:web";
  const Encoded e = encode(s, r);
  ASSERT_EQ(e.doc.Size(), 1u) << e.json;
  EXPECT_EQ(str(e.doc[0], "ddtags"), firelensTags("nerves_hub-production") + "," + s.tags);
  EXPECT_EQ(keys(e.doc[0]),
            (std::vector<std::string>{"ddtags", "level", "msg", "request_id", "source", "ddsource",
                                      "service", "hostname", "timestamp", "status"}))
      << "no message: Datadog takes `msg`";
}

TEST(DatadogRemapTest, OnlyNonEmptyStringsMove) {
  Records r;
  r.map(test::pack([](test::Packer& pk) {
    pk.pack_map(4);
    pk.pack(std::string("log"));
    pk.pack(std::string("hi"));
    pk.pack(std::string("ecs_task_definition"));
    pk.pack(7);
    pk.pack(std::string("container_name"));
    pk.pack(std::string(""));
    pk.pack(std::string("container_id"));
    pk.pack_bin(3);
    pk.pack_bin_body("abc", 3);
  }));
  const Encoded e = encode(fargateDatadog(), r);
  ASSERT_EQ(e.doc.Size(), 1u) << e.json;
  EXPECT_EQ(str(e.doc[0], "ddtags"), "project:example") << "nothing moved: the configured tags";
  EXPECT_TRUE(e.doc[0]["ecs_task_definition"].IsInt());
  EXPECT_EQ(str(e.doc[0], "container_name"), "");
  EXPECT_EQ(str(e.doc[0], "container_id"), "abc");
}

TEST(DatadogRemapTest, RecordTagsAndUnconfiguredTags) {
  Records r;
  r.map(test::packMap({{"ddtags", "team:a"}, {"log", "own tags"}, {"ecs_cluster", "c1"}}));
  r.map(test::packMap({{"log", "no ECS field"}, {"ddtags", "team:b"}}));
  r.map(test::packMap({{"ddtags", ""}, {"log", "empty own tags"}, {"container_id", "x"}}));
  r.map(test::pack([](test::Packer& pk) {
    pk.pack_map(2);
    pk.pack(std::string("container_id"));
    pk.pack(std::string("y"));
    pk.pack(std::string("ddtags"));
    pk.pack(5);
  }));
  const Encoded e = encode(fargateDatadog(), r);
  ASSERT_EQ(e.doc.Size(), 4u) << e.json;
  // The record's ddtags replace the configured ones, after the moved tags.
  EXPECT_EQ(str(e.doc[0], "ddtags"), "cluster_name:c1,team:a");
  EXPECT_EQ(str(e.doc[1], "ddtags"), "team:b");
  EXPECT_EQ(str(e.doc[2], "ddtags"), "container_id:x");
  EXPECT_EQ(str(e.doc[3], "ddtags"), "container_id:y,5") << "a non-string ddtags: its JSON text";
  for (const auto& entry : e.doc.GetArray()) {
    auto k = keys(entry);
    EXPECT_EQ(std::count(k.begin(), k.end(), "ddtags"), 1) << "one ddtags";
  }

  EncoderSettings s = fargateDatadog();
  s.tags.clear();
  Records plain;
  plain.map(test::packMap({{"log", "x"}, {"container_id", "c"}, {"ecs_cluster", "k"}}));
  EXPECT_EQ(str(encode(s, plain).doc[0], "ddtags"), "container_id:c,cluster_name:k")
      << "no dd_tags: no trailing comma";
}

TEST(DatadogRemapTest, WithoutTheProviderEveryFieldStays) {
  Records r;
  r.map(test::packMap(firelensRecord("firelens-example-datadog:1")));
  EncoderSettings s = fargateDatadog();
  s.provider = Provider::kNone;
  const Encoded e = encode(s, r);
  EXPECT_EQ(str(e.doc[0], "ddtags"), "project:example");
  EXPECT_EQ(str(e.doc[0], "ecs_cluster"), "mycluster");
  EXPECT_EQ(str(e.doc[0], "container_name"),
            "/ecs-firelens-example-datadog-1-app-e6a8f6c5d4b3a2f1");
}

} // namespace
} // namespace ferry::datadog
