#include "ops/object_stores.h"

#include <memory>
#include <mutex>
#include <optional>

#include "storage/object_store.h"
#include "storage/s3/s3_object_store.h"

namespace ailee::ops {

storage::s3::S3Options S3OptionsFrom(const config::S3Section& s) {
  storage::s3::S3Options o;
  o.endpoint = s.endpoint;
  o.region = s.region;
  o.path_style = s.path_style;
  o.profile = s.profile;
  o.credentials_file = s.credentials_file;
  o.storage_class = s.storage_class;
  o.storage_classes = s.storage_classes;
  o.object_lock_mode = s.object_lock_mode;
  o.retention_days = static_cast<int>(s.retention_days);
  o.lock_prefixes = s.lock_prefixes;
  if (o.lock_prefixes.empty()) {
    // Everything a snapshot needs, but not locks/: a lock object must be
    // deletable the moment its holder finishes.
    o.lock_prefixes = {"config", "keys/", "data/", "index/", "snapshots/"};
  }
  o.multipart_threshold = static_cast<uint64_t>(s.multipart_threshold_mib) << 20;
  o.part_size = static_cast<uint64_t>(s.part_size_mib) << 20;
  o.parallel_parts = static_cast<int>(s.parallel_parts);
  o.retry.max_attempts = static_cast<int>(s.retry_max_attempts);
  o.retry.budget_ms = s.retry_budget_s * 1000;
  return o;
}

void RegisterS3Scheme(S3SectionSource settings) {
  struct Shared {
    std::mutex mu;
    S3SectionSource settings;
    std::optional<storage::s3::S3Options> options;
  };
  auto shared = std::make_shared<Shared>();
  shared->settings = std::move(settings);
  storage::RegisterObjectStoreScheme(
      "s3", [shared](const std::string& url) -> Result<std::shared_ptr<storage::ObjectStore>> {
        storage::s3::S3Options options;
        {
          std::lock_guard<std::mutex> lock(shared->mu);
          if (!shared->options) {
            ASSIGN_OR_RETURN(std::optional<config::S3Section> section, shared->settings());
            shared->options = section ? S3OptionsFrom(*section) : storage::s3::S3Options{};
          }
          options = *shared->options;
        }
        ASSIGN_OR_RETURN(auto store, storage::s3::S3ObjectStore::Open(url, options));
        return std::shared_ptr<storage::ObjectStore>(std::move(store));
      });
}

}  // namespace ailee::ops
