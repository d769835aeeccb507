// Issue 14 broken on purpose (session 9, B14): the break-glass record's
// reason is what the audit and `federation show` keep of WHY the old keys
// were overruled, so a reason that says nothing, or one that rewrites the
// operator's terminal when shown, must not make it into the chain.
#include <gtest/gtest.h>

#include "state/federation_change.h"
#include "state_federation_testing.h"

namespace ailee::state {
namespace {

using testing::MakeChange;
using testing::MakeFederation;
using testing::TestChainId;

TEST(Break14, BreakGlassRefusesABlankOrControlCharacterReason) {
  const Federation genesis = MakeFederation({"signer-01", "signer-02", "signer-03"}, 2);
  const Federation incoming = MakeFederation({"signer-02", "signer-03", "signer-04"}, 2);
  auto break_glass = [&](const std::string& reason) {
    return MakeChange(TestChainId(), genesis, 0, incoming, 10, {"signer-03", "signer-04"},
                      ChangeAuthorization::kBreakGlass, reason);
  };
  ASSERT_TRUE(CheckChangeAuthorized(break_glass("signer-01 compromised"), genesis, 10).ok());
  // Blank: "needs a reason" like the empty one; approvals are over the bytes,
  // so an incoming signer happily signs whitespace.
  for (const std::string blank : {" ", "\t\n  \r\n", "\v\f"}) {
    Status st = CheckChangeAuthorized(break_glass(blank), genesis, 10);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << "reason \"" << blank << "\"";
    EXPECT_NE(st.message().find("needs a reason"), std::string::npos) << st.message();
  }
  // An ANSI escape or a NUL would be replayed into every terminal that runs
  // `federation show` or reads the node's log of the retired signer.
  for (const std::string& hostile : {std::string("ok\x1b[2J\x1b[Hall clear"), std::string("a\0b", 3),
                                    std::string("line\rforged")}) {
    FederationChange c = break_glass(hostile);
    c.authorization = ChangeAuthorization::kThreshold;  // the rule holds for any reason the chain keeps
    Status st = CheckChangeShape(c);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << "reason accepted";
    EXPECT_NE(st.message().find("control character"), std::string::npos) << st.message();
    Status bg = CheckChangeShape(break_glass(hostile));
    EXPECT_EQ(bg.code(), StatusCode::kInvalidArgument);
  }
  // Not UTF-8 (a Latin-1 terminal): the JSON encoders downstream would throw.
  FederationChange latin1 = break_glass("Schl\xfcssel kompromittiert");
  Status st = CheckChangeShape(latin1);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("reason is not valid UTF-8"), std::string::npos) << st.message();
  latin1 = break_glass("ok");
  latin1.operator_id = "J\xf6rg";
  EXPECT_NE(CheckChangeShape(latin1).message().find("operator is not valid UTF-8"), std::string::npos);
  // Unicode is text, not control: kept.
  EXPECT_TRUE(CheckChangeAuthorized(break_glass("Schlüssel von signer-01 kompromittiert \xe2\x80\x94 Vorfall 4711\n"),
                                    genesis, 10)
                  .ok());
}

}  // namespace
}  // namespace ailee::state
