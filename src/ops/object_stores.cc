#include "ops/object_stores.h"

#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <optional>

#include "base/fs.h"
#include "base/hint.h"
#include "base/user_name.h"
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
  o.parallel_uploads = static_cast<int>(s.parallel_uploads);
  o.retry.max_attempts = static_cast<int>(s.retry_max_attempts);
  o.retry.budget_ms = s.retry_budget_s * 1000;
  return o;
}

Status CheckRepositoryUser(const std::string& url) {
  const std::string scheme = "file://";
  if (url.compare(0, scheme.size(), scheme) != 0) return Status::Ok();
  std::string path = url.substr(scheme.size());
  struct stat st {};
  while (::stat(path.c_str(), &st) != 0) {
    if (path.empty() || path == "/") return Status::Ok();  // nothing to judge: the open says what is wrong
    path = fs::Dirname(path);
  }
  const uid_t me = ::geteuid();
  if (st.st_uid == me) return Status::Ok();
  const bool root = me == 0;
  if (!root && ::access(path.c_str(), R_OK | W_OK | X_OK) == 0) return Status::Ok();
  const std::string owner = UserName(st.st_uid);
  return WithHint(
      PermissionDenied("the repository " + path + " belongs to user " + owner + ", and ailee-cli runs as " +
                       UserName(me) +
                       (root ? ": files written as root would be unreadable to " + owner + "'s scheduled jobs"
                             : ", which cannot write it")),
      "run ailee-cli as the repository's owner: sudo -u " + owner +
          " ailee-cli ... (docs/operations.md, \"Permission model\")");
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
