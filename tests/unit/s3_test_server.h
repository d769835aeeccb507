// The real S3 server a test runs against, as started by
// tests/s3/s3-server.sh (which writes DIR/env). The ctest fixture passes
// the env file as $AILEE_TEST_S3_<KIND>_ENV (KIND upper-case: SWIFT, CEPH);
// without it the server tests skip.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "storage/s3/s3_credentials.h"
#include "storage/s3/s3_options.h"

namespace ailee::storage::s3::testing {

struct S3TestServer {
  std::string kind;  // "swift" or "ceph"
  std::string endpoint;
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;
  bool object_lock = false;

  static std::optional<S3TestServer> Load(const std::string& kind);
  int port() const;
  // Credentials and region for a store, instead of the process environment.
  EnvLookup Env() const;
  // Fast retries, no housekeeping on open: what most tests want.
  S3Options Options() const;
  std::string Url(const std::string& bucket, const std::string& prefix) const;
};

// "ailee-<tag>-<random>": bucket names and prefixes no other test uses.
std::string UniqueName(const std::string& tag);

// Creates `bucket` (with Object Lock if asked) through our own S3 client.
Status CreateBucket(const S3TestServer& server, const std::string& bucket, bool object_lock = false);

// One bucket per test process and kind, created on first use.
Result<std::string> SharedBucket(const S3TestServer& server);

}  // namespace ailee::storage::s3::testing
