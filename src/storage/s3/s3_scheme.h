// Plugs the S3 store into OpenObjectStore: after RegisterS3Scheme,
// OpenObjectStore("s3://bucket/prefix?...") returns an S3ObjectStore opened
// with `defaults` (the node config's S3 settings) under the URL's own
// parameters (s3_options.h). Call once at startup, before opening a
// repository; calling again replaces the defaults.
#pragma once

#include "storage/s3/s3_options.h"

namespace ailee::storage::s3 {

void RegisterS3Scheme(S3Options defaults);

}  // namespace ailee::storage::s3
