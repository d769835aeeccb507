#include "s3_test_server.h"

#include <cctype>
#include <cstdlib>
#include <map>
#include <mutex>

#include "base/fs.h"
#include "storage/s3/s3_client.h"
#include "storage/s3/s3_hash.h"

namespace ailee::storage::s3::testing {

std::optional<S3TestServer> S3TestServer::Load(const std::string& kind) {
  std::string var = "AILEE_TEST_S3_";
  for (char c : kind) var += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  var += "_ENV";
  const char* path = std::getenv(var.c_str());
  if (path == nullptr || *path == '\0') return std::nullopt;
  auto text = fs::ReadFile(path);
  if (!text.ok()) return std::nullopt;
  std::map<std::string, std::string> kv;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    if (end == std::string::npos) end = text->size();
    std::string line = text->substr(pos, end - pos);
    pos = end + 1;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string v = line.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
    kv[line.substr(0, eq)] = v;
  }
  S3TestServer s;
  s.kind = kind;
  s.endpoint = kv["AILEE_TEST_S3_ENDPOINT"];
  s.access_key_id = kv["AWS_ACCESS_KEY_ID"];
  s.secret_access_key = kv["AWS_SECRET_ACCESS_KEY"];
  s.region = kv["AWS_REGION"].empty() ? "us-east-1" : kv["AWS_REGION"];
  s.object_lock = kv["AILEE_TEST_S3_OBJECT_LOCK"] == "1";
  if (s.endpoint.empty() || s.access_key_id.empty()) return std::nullopt;
  return s;
}

int S3TestServer::port() const { return std::atoi(endpoint.substr(endpoint.rfind(':') + 1).c_str()); }

EnvLookup S3TestServer::Env() const {
  std::map<std::string, std::string> vars = {{"AWS_ACCESS_KEY_ID", access_key_id},
                                             {"AWS_SECRET_ACCESS_KEY", secret_access_key},
                                             {"AWS_REGION", region},
                                             {"HOME", "/nonexistent"}};
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

S3Options S3TestServer::Options() const {
  S3Options o;
  o.endpoint = endpoint;
  o.retry.max_attempts = 6;
  o.retry.base_delay_ms = 5;
  o.retry.max_delay_ms = 200;
  o.retry.budget_ms = 30000;
  o.abort_uploads_older_than_s = 0;
  return o;
}

std::string S3TestServer::Url(const std::string& bucket, const std::string& prefix) const {
  return "s3://" + bucket + (prefix.empty() ? "" : "/" + prefix);
}

std::string UniqueName(const std::string& tag) { return "ailee-" + tag + "-" + RandomHex(6); }

Status CreateBucket(const S3TestServer& server, const std::string& bucket, bool object_lock) {
  ASSIGN_OR_RETURN(S3Config config, ResolveS3Config(server.Url(bucket, ""), server.Options(), server.Env()));
  S3Client client(std::move(config));
  S3Request req;
  req.method = "PUT";
  if (object_lock) req.headers.push_back("x-amz-bucket-object-lock-enabled: true");
  return client.Send(req, "create bucket " + bucket).status();
}

Result<std::string> SharedBucket(const S3TestServer& server) {
  static std::mutex mu;
  static std::map<std::string, std::string> buckets;
  std::lock_guard lock(mu);
  auto it = buckets.find(server.kind);
  if (it != buckets.end()) return it->second;
  std::string name = UniqueName(server.kind);
  RETURN_IF_ERROR(CreateBucket(server, name));
  buckets[server.kind] = name;
  return name;
}

}  // namespace ailee::storage::s3::testing
