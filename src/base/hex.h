// Hex encoding of byte strings (bytes are carried in std::string, as in LevelDB).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ailee {

std::string HexEncode(std::string_view bytes);
// Returns nullopt on odd length or a non-hex character.
std::optional<std::string> HexDecode(std::string_view hex);

}  // namespace ailee
