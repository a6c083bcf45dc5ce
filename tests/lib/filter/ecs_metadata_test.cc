// ecs_metadata: the fields read from task metadata v4 documents, against a local server
// standing in for the endpoint, and its failure path (records pass unchanged).
#include "filter_test_util.h"

#include "http_test_server.h"

namespace ferry::test {
namespace {

const char* kTask = R"({"Cluster":"arn:aws:ecs:eu-west-1:111122223333:cluster/prod",
  "TaskARN":"arn:aws:ecs:eu-west-1:111122223333:task/prod/abc123","Family":"checkout",
  "Revision":"42","AvailabilityZone":"eu-west-1b","Containers":[]})";
const char* kContainer = R"({"DockerId":"d1","Name":"log_router","Labels":{
  "com.amazonaws.ecs.cluster":"prod-from-labels"}})";

TEST(EcsMetadata, FieldsFromTheTaskDocument) {
  auto fields = filter::ecsFieldsFromDocuments(kTask, kContainer);
  ASSERT_TRUE(fields.has_value()) << fields.error();
  EXPECT_EQ(*fields, (std::vector<std::pair<std::string, std::string>>{
                         {"ecs_cluster", "prod"},
                         {"ecs_task_arn", "arn:aws:ecs:eu-west-1:111122223333:task/prod/abc123"},
                         {"ecs_task_definition", "checkout:42"},
                         {"aws_region", "eu-west-1"},
                         {"aws_availability_zone", "eu-west-1b"}}));
}

TEST(EcsMetadata, LabelsFillWhatTheTaskDocumentLacks) {
  auto fields = filter::ecsFieldsFromDocuments(R"({"Family":"f"})", kContainer);
  ASSERT_TRUE(fields.has_value());
  EXPECT_EQ(fields->front(),
            (std::pair<std::string, std::string>{"ecs_cluster", "prod-from-labels"}));
  EXPECT_FALSE(filter::ecsFieldsFromDocuments("not json", "").has_value());
  EXPECT_FALSE(filter::ecsFieldsFromDocuments("{}", "{}").has_value());
}

TEST(EcsMetadata, AddsFieldsFromTheEndpoint) {
  HttpTestServer server([](const HttpTestRequest& r) {
    if (r.path == "/v4/abc/task") return HttpTestResponse{200, kTask};
    if (r.path == "/v4/abc") return HttpTestResponse{200, kContainer};
    return HttpTestResponse{404, ""};
  });
  auto f = makeFilter("  - type: ecs_metadata\n    metadata_uri: " + server.url() + "/v4/abc\n");
  auto out = f->apply(mapBatch("app", {packFields({{"log", "x"}, {"aws_region", "mine"}})}));
  EXPECT_EQ(
      recordsJson(*out),
      (std::vector<std::string>{
          R"({"log":"x","aws_region":"mine","ecs_cluster":"prod","ecs_task_arn":"arn:aws:ecs:eu-west-1:111122223333:task/prod/abc123","ecs_task_definition":"checkout:42","aws_availability_zone":"eu-west-1b"})"}));
  EXPECT_GE(server.requestCount(), 2u);
}

TEST(EcsMetadata, EndpointFailureLeavesRecordsUnchanged) {
  HttpTestServer server([](const HttpTestRequest&) { return HttpTestResponse{500, "oops"}; });
  auto f = makeFilter("  - type: ecs_metadata\n    metadata_uri: " + server.url() + "\n");
  auto in = lineBatch("app", {"x"});
  core::Batch* raw = in.get();
  EXPECT_EQ(f->apply(std::move(in)).get(), raw);
}

} // namespace
} // namespace ferry::test
