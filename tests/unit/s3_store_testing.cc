#include "s3_store_testing.h"

#include <cstdlib>
#include <map>
#include <mutex>

#include "storage/s3/s3_hash.h"

namespace ailee::storage::s3::testing {

EnvLookup StoreEnv(const s3test::S3TestEnv& env) {
  std::map<std::string, std::string> vars = {{"AWS_ACCESS_KEY_ID", env.access_key_id},
                                             {"AWS_SECRET_ACCESS_KEY", env.secret_access_key},
                                             {"AWS_REGION", env.region},
                                             {"HOME", "/nonexistent"}};
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

S3Options TestOptions(const s3test::S3TestEnv& env) {
  S3Options o;
  o.endpoint = env.endpoint;
  o.retry.max_attempts = 6;
  o.retry.base_delay_ms = 5;
  o.retry.max_delay_ms = 200;
  o.retry.budget_ms = 30000;
  o.abort_uploads_older_than_s = 0;
  return o;
}

std::string StoreUrl(const std::string& bucket, const std::string& prefix) {
  return "s3://" + bucket + (prefix.empty() ? "" : "/" + prefix);
}

int Port(const s3test::S3TestEnv& env) {
  return std::atoi(env.endpoint.substr(env.endpoint.rfind(':') + 1).c_str());
}

std::string UniquePrefix(const std::string& tag) { return tag + "-" + RandomHex(6).value(); }

Result<std::string> SharedBucket(const s3test::S3TestEnv& env) {
  static std::mutex mu;
  static std::map<std::string, std::string> buckets;
  std::lock_guard lock(mu);
  auto it = buckets.find(env.kind);
  if (it != buckets.end()) return it->second;
  std::string name = s3test::UniqueBucketName("store-" + env.kind);
  RETURN_IF_ERROR(s3test::CreateBucket(env, name, false));
  buckets[env.kind] = name;
  return name;
}

}  // namespace ailee::storage::s3::testing
