// Names of local users and who owns a path, for messages that tell an
// operator which user to run as ("the node runs as ailee").
#pragma once

#include <sys/types.h>

#include <string>

namespace ailee {

// The user name of `uid`, or "uid N" when the user database has none.
std::string UserName(uid_t uid);

// The name of the owner of `path` (not following a final symlink), or ""
// when it cannot be stat'ed.
std::string OwnerName(const std::string& path);

}  // namespace ailee
