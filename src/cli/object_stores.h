// Which object stores ailee-cli can open: file:// and mem:// always, s3://
// with the node config's backup.s3 settings (ops/object_stores.h).
#pragma once

#include "cli/command.h"

namespace ailee::cli {

// Registers the s3:// scheme with the settings of the config named by `g`.
// The config is read when the first s3:// URL is opened (commands that never
// touch S3 do not need a valid backup.s3); without --config, a missing or
// invalid config means the defaults.
void RegisterObjectStoreSchemes(const GlobalOptions& g);

}  // namespace ailee::cli
