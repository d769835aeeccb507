// Text an operator types that the system stores and shows again: the reason
// for a halt, a freeze or a federation change, and who asked. It reaches
// terminals (`emergency status`, `federation show`, health-check), logs and
// the audit trail, so it must not carry what a terminal would act on.
#pragma once

#include <string_view>

namespace ailee {

// Only spaces, tabs, newlines, CR, vertical tab or form feed (or nothing):
// "say why" is not answered by whitespace.
bool IsBlankText(std::string_view text);

// A C0 control other than tab and newline (ANSI escapes, CR, NUL) or DEL:
// it would be replayed into the terminal of whoever reads the text back.
bool HasControlCharacter(std::string_view text);

}  // namespace ailee
