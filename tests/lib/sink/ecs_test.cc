// The sink kit's ECS task metadata reads: the URI from the environment, the documents from
// a real local endpoint (and its failures), the task id from TaskARN.
#include "ferry/sink/ecs.h"

#include <gtest/gtest.h>

#include <string>

#include "http_test_server.h"

namespace ferry::sink {
namespace {

TEST(SinkEcsTest, MetadataUriFromTheEnvironment) {
  EXPECT_EQ(ecsMetadataUri(std::nullopt), std::nullopt);
  EXPECT_EQ(ecsMetadataUri(""), std::nullopt);
  EXPECT_EQ(ecsMetadataUri("/"), std::nullopt);
  EXPECT_EQ(ecsMetadataUri("http://169.254.170.2/v4/abc//"), "http://169.254.170.2/v4/abc");
}

TEST(SinkEcsTest, TaskIdFromTheTaskDocument) {
  EXPECT_EQ(taskIdFromTaskDocument(R"({"Cluster":"c","TaskARN":"arn:aws:ecs:us-west-2:1:)"
                                   R"(task/default/158d1c8083dd49d6b527399fd6414f5c"})"),
            "158d1c8083dd49d6b527399fd6414f5c");
  EXPECT_EQ(taskIdFromTaskDocument(R"({"TaskARN":"arn:aws:ecs:us-east-1:1:task/abc"})"), "abc");
  EXPECT_EQ(taskIdFromTaskDocument(R"({"TaskARN":"arn:aws:ecs:us-east-1:1:task/"})"), std::nullopt);
  EXPECT_EQ(taskIdFromTaskDocument(R"({"TaskARN":"arn:aws:ecs:x:1:task/a\nb"})"), std::nullopt);
  EXPECT_EQ(taskIdFromTaskDocument(R"({"TaskARN":42})"), std::nullopt);
  EXPECT_EQ(taskIdFromTaskDocument("not json"), std::nullopt);
  EXPECT_EQ(taskIdFromTaskDocument("{}"), std::nullopt);
}

TEST(SinkEcsTest, FetchesTheDocumentsFromARealEndpoint) {
  test::HttpTestServer server([](const test::HttpTestRequest& req) {
    test::HttpTestResponse resp;
    resp.content_type = "application/json";
    if (req.path == "/v4/xyz/task") {
      resp.body = R"({"TaskARN":"arn:aws:ecs:us-east-1:1:task/cluster/0a1b2c"})";
    } else if (req.path == "/v4/xyz") {
      resp.body = R"({"Labels":{}})";
    } else {
      resp.status = 404;
    }
    return resp;
  });
  const std::string uri = server.url() + "/v4/xyz";
  auto task = ecsTaskDocument(uri, std::chrono::milliseconds(2000));
  ASSERT_TRUE(task.has_value()) << task.error();
  EXPECT_EQ(taskIdFromTaskDocument(*task), "0a1b2c");
  auto container = ecsContainerDocument(uri, std::chrono::milliseconds(2000));
  ASSERT_TRUE(container.has_value()) << container.error();
  EXPECT_EQ(*container, R"({"Labels":{}})");

  auto missing = ecsTaskDocument(server.url() + "/v4/gone", std::chrono::milliseconds(2000));
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().find("HTTP 404"), std::string::npos) << missing.error();
  EXPECT_EQ(missing.error().find("/v4/gone"), std::string::npos)
      << "the URI's path is not for the log: " << missing.error();
}

} // namespace
} // namespace ferry::sink
