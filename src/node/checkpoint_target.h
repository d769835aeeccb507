// Where an admin request asks the node to write a checkpoint
// (POST /v1/admin/checkpoint): checked before RocksDB is asked, so that a
// directory the node cannot write is answered with who the node runs as and
// what to do, not RocksDB's bare I/O error (HTTP 500). The usual cause is an
// operator running ailee-cli as root or as another user, whose --output (or
// scratch directory) the node's user `ailee` cannot write
// (docs/operations.md, "Permission model").
#pragma once

#include <string>

#include "base/status.h"

namespace ailee::node {

// kNotFound: the parent directory of `path` does not exist.
// kPermissionDenied (with a hint): the node's user cannot create `path` in
// it (no write or search permission, or a read-only mount such as the
// unit's ProtectSystem=strict), naming the node's user, the directory's
// owner and mode.
Status CheckCheckpointTarget(const std::string& path);

}  // namespace ailee::node
