// GoogleTest glue for the integration harness: Status assertions and a
// fixture hook that prints where a failed test's files are.
#pragma once

#include <gtest/gtest.h>

#include <sstream>

#include "harness.h"

#define AILEE_IT_STATUS_OF(expr) ::ailee::it::internal::StatusOf(expr)
#define ASSERT_OK(expr)                                        \
  do {                                                         \
    const ::ailee::Status _it_st = AILEE_IT_STATUS_OF(expr);   \
    ASSERT_TRUE(_it_st.ok()) << #expr << ": " << _it_st.ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                        \
  do {                                                         \
    const ::ailee::Status _it_st = AILEE_IT_STATUS_OF(expr);   \
    EXPECT_TRUE(_it_st.ok()) << #expr << ": " << _it_st.ToString(); \
  } while (0)

namespace ailee::it::internal {
inline Status StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) { return r.status(); }
}  // namespace ailee::it::internal

namespace ailee::it {

// Unwraps a Result in a test, failing it (fatally) when it holds an error.
#define ASSIGN_OR_FAIL(lhs, expr)                                    \
  auto AILEE_CONCAT(_it_r_, __LINE__) = (expr);                      \
  ASSERT_TRUE(AILEE_CONCAT(_it_r_, __LINE__).ok())                   \
      << #expr << ": " << AILEE_CONCAT(_it_r_, __LINE__).status().ToString(); \
  lhs = std::move(AILEE_CONCAT(_it_r_, __LINE__)).value()

// Parses the first JSON document of a command's stdout (commands run with
// --json). On failure ailee-cli currently prints a second document, the
// error, after the report; that one is ignored here.
inline nlohmann::json JsonOut(const CommandResult& r) {
  std::istringstream in(r.out);
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "stdout does not start with a JSON document (" << e.what() << "):\n" << r;
    return nlohmann::json::object();
  }
  return j;
}

}  // namespace ailee::it
