// What the S3 store's tests need on top of tests/s3/s3_test_env.h (the
// server): a store pointed at it, a bucket shared by the tests of one
// process, fresh prefixes.
#pragma once

#include <string>

#include "base/status.h"
#include "s3_test_env.h"
#include "storage/s3/s3_credentials.h"
#include "storage/s3/s3_options.h"

namespace ailee::storage::s3::testing {

// The server's credentials and region for a store, instead of the process
// environment (which may hold someone's real AWS keys).
EnvLookup StoreEnv(const s3test::S3TestEnv& env);
// The server's endpoint, fast retries, no housekeeping on open.
S3Options TestOptions(const s3test::S3TestEnv& env);
std::string StoreUrl(const std::string& bucket, const std::string& prefix);
int Port(const s3test::S3TestEnv& env);
// "<tag>-<random hex>": a prefix no other test uses.
std::string UniquePrefix(const std::string& tag);
// One bucket per process and server kind, created on first use.
Result<std::string> SharedBucket(const s3test::S3TestEnv& env);

}  // namespace ailee::storage::s3::testing
