// Which object stores the tools can open: file:// and mem:// always, s3://
// with the node config's backup.s3 settings (docs/s3.md).
#pragma once

#include <functional>
#include <optional>

#include "base/status.h"
#include "config/config.h"
#include "storage/s3/s3_options.h"

namespace ailee::ops {

// The store settings a config's backup.s3 section asks for.
storage::s3::S3Options S3OptionsFrom(const config::S3Section& section);

// Where the s3:// settings come from: the caller's loaded config's
// backup.s3, nullopt for the store's defaults (no config), or the error that
// loading the config gave.
using S3SectionSource = std::function<Result<std::optional<config::S3Section>>()>;

// Registers the s3:// scheme. `settings` is called once, when the first
// s3:// URL is opened (commands that never touch S3 do not need a valid
// backup.s3), and its answer kept for the process; an error is returned by
// every open until it succeeds.
void RegisterS3Scheme(S3SectionSource settings);

// Who may write a file:// repository: its owner (the jobs' user, ailee, in
// the packaged layout), or another user the directory lets in. Root is
// refused when the repository (or, before `repo init`, its nearest existing
// parent) belongs to another user: root could write, but the packs, index
// and locks it left would be unreadable to the owner's jobs. Another user
// without access is refused before a passphrase is blamed. Both are
// kPermissionDenied naming the path, the owner and `sudo -u OWNER`. Other
// schemes: Ok.
Status CheckRepositoryUser(const std::string& url);

}  // namespace ailee::ops
