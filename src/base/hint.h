// Operator hints: the next step for the cause of an error ("stop the node
// first", "check the passphrase source"), attached where the cause is known.
// The CLI prints a Status's own hint after its message, or none: hints are
// never chosen by status code.
//
// A hint rides at the end of the Status message, after kHintSeparator, so it
// survives copies, WithContext and every layer that passes a Status on, and
// it reads naturally wherever a message is printed whole ("...\nhint: ...").
// (Status's layout stays as it is: base/status.h is included by every file.)
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ailee {

inline constexpr std::string_view kHintSeparator = "\nhint: ";

// The message without its hint.
inline std::string_view MessageWithoutHint(const Status& st) {
  std::string_view m = st.message();
  size_t pos = m.rfind(kHintSeparator);
  return pos == std::string_view::npos ? m : m.substr(0, pos);
}

// The hint, or "" when the status has none.
inline std::string_view HintOf(const Status& st) {
  std::string_view m = st.message();
  size_t pos = m.rfind(kHintSeparator);
  return pos == std::string_view::npos ? std::string_view() : m.substr(pos + kHintSeparator.size());
}

// `st` with `hint` (replacing an earlier one); an ok status stays ok.
inline Status WithHint(const Status& st, std::string_view hint) {
  if (st.ok()) return st;
  return Status(st.code(), std::string(MessageWithoutHint(st)) + std::string(kHintSeparator) + std::string(hint));
}

}  // namespace ailee
