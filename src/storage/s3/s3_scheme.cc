#include "storage/s3/s3_scheme.h"

#include "storage/object_store.h"
#include "storage/s3/s3_object_store.h"

namespace ailee::storage::s3 {

void RegisterS3Scheme(S3Options defaults) {
  RegisterObjectStoreScheme("s3", [defaults = std::move(defaults)](
                                      const std::string& url) -> Result<std::shared_ptr<ObjectStore>> {
    ASSIGN_OR_RETURN(auto store, S3ObjectStore::Open(url, defaults));
    return std::shared_ptr<ObjectStore>(std::move(store));
  });
}

}  // namespace ailee::storage::s3
