// Which object stores ailee-cli can open: file:// and mem:// always, s3://
// with the node config's backup.s3 settings (docs/s3.md).
#pragma once

#include "cli/command.h"
#include "config/config.h"
#include "storage/s3/s3_options.h"

namespace ailee::cli {

// The store settings a config asks for (defaults without one).
storage::s3::S3Options S3OptionsFrom(const config::S3Section& section);

// Registers the s3:// scheme. The config is read when the first s3:// URL
// is opened (commands that never touch S3 do not need a valid backup.s3).
void RegisterObjectStoreSchemes(const GlobalOptions& g);

}  // namespace ailee::cli
