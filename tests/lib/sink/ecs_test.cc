// The sink kit's ECS task metadata reads: the URI from the environment, the documents from
// a real local endpoint (and its failures), the task id from TaskARN.
#include "ferry/sink/ecs.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <string>

#include "http_test_server.h"

namespace ferry::sink {
namespace {

std::string localHostname() {
  char name[256] = {0};
  ::gethostname(name, sizeof name - 1);
  return name;
}

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

TEST(SinkEcsTest, TaskIdOrHostnamePrefersTheEcsTaskId) {
  using Body = std::expected<std::string, std::string>;
  std::string asked;
  std::chrono::milliseconds timeout{0};
  const MetadataFetch fetch = [&](const std::string& url, std::chrono::milliseconds t) -> Body {
    asked = url;
    timeout = t;
    return R"({"TaskARN":"arn:aws:ecs:eu-west-1:1:task/prod/feedbeef"})";
  };
  const EnvLookup ecs = [](const char* name) -> std::optional<std::string> {
    if (std::string(name) == "ECS_CONTAINER_METADATA_URI_V4") return "http://169.254.170.2/v4/abc/";
    return std::nullopt;
  };
  EXPECT_EQ(taskIdOrHostname(ecs, fetch, std::chrono::milliseconds(1234)), "feedbeef");
  EXPECT_EQ(asked, "http://169.254.170.2/v4/abc/task");
  EXPECT_EQ(timeout, std::chrono::milliseconds(1234));

  const MetadataFetch failing = [](const std::string&, std::chrono::milliseconds) -> Body {
    return std::unexpected("HTTP 404");
  };
  EXPECT_EQ(taskIdOrHostname(ecs, failing, std::chrono::milliseconds(1)), localHostname());
  const EnvLookup no_ecs = [](const char*) -> std::optional<std::string> { return std::nullopt; };
  bool fetched = false;
  const MetadataFetch unexpected = [&](const std::string&, std::chrono::milliseconds) -> Body {
    fetched = true;
    return std::unexpected("not on ECS");
  };
  EXPECT_EQ(taskIdOrHostname(no_ecs, unexpected, std::chrono::milliseconds(1)), localHostname());
  EXPECT_FALSE(fetched);
}

} // namespace
} // namespace ferry::sink
