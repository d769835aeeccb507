#include "base/operator_text.h"

namespace ailee {

bool IsBlankText(std::string_view text) { return text.find_first_not_of(" \t\n\v\f\r") == std::string_view::npos; }

bool HasControlCharacter(std::string_view text) {
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) return true;
  }
  return false;
}

}  // namespace ailee
