// A key file slot: a random 256-bit key (keys.h NewKeyFile) written to a
// new file and added as a key slot, for unattended backups that open the
// repository without the Argon2id delay.
#pragma once

#include <string>

#include "base/status.h"
#include "repo/repository.h"

namespace ailee::repo {

// Writes a fresh key file at `path` (mode 0600; an existing file is refused
// with kAlreadyExists), then adds its slot; returns the slot id. The file
// comes first: a slot whose key was never stored would be useless, a stored
// key without a slot is merely unused.
Result<std::string> AddKeyFileSlot(Repository& repo, const std::string& path);

}  // namespace ailee::repo
