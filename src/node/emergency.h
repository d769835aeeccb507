// EmergencyControl: the leader's halt, one of its two emergency switches
// (docs/emergency.md).
//
//  - The halt is node-local: the leader stops producing blocks (followers and
//    the leader keep serving reads; POST /v1/tx answers 503 with the reason).
//    It is durable: `halt` in the StateDb's `local` column family (one synced
//    write), not in the state root, so kill -9 at any moment leaves the node
//    either halted or not, and a restart (or a checkpoint of a halted leader)
//    comes back halted: the safe side.
//  - The peg freeze is chain state, not held here: a peg_freeze control
//    record that goes through the node's one queue of control records
//    (node/control_queue.h, Node::CommitControlRecord) to the head of the
//    leader's next block, also while halted (a block with only control
//    records). Followers learn it by applying the block.
//
// Thread-safe: HTTP threads call Halt/Resume and read the state; the
// leader's worker reads halt().
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "base/status.h"
#include "state/state_db.h"

namespace ailee::node {

// Who stopped the leader, when and why.
struct HaltRecord {
  int64_t since_ms = 0;
  std::string reason;
  std::string operator_id;
};
// The `local` CF value: {"since_ms":..,"reason":..,"operator":..} (JSON: a
// node-local flag, never hashed, read back only by this code).
std::string EncodeHaltRecord(const HaltRecord& record);
Result<HaltRecord> DecodeHaltRecord(std::string_view bytes);
// "the federation is halted since 2026-12-03T09:30:00Z by alice (reason: ...)".
std::string DescribeHalt(const HaltRecord& record);

// An operator's request as the admin endpoint received it.
struct EmergencyRequest {
  std::string reason;       // required, <= kMaxEmergencyReasonBytes
  std::string operator_id;  // required, <= kMaxEmergencyOperatorBytes
};
inline constexpr size_t kMaxEmergencyReasonBytes = 1024;
inline constexpr size_t kMaxEmergencyOperatorBytes = 128;
// kInvalidArgument naming the field: "reason is required: say why, it is audited".
Status CheckEmergencyRequest(const EmergencyRequest& request);
// Whether the chain's pegs can be set to `frozen` now: kFailedPrecondition
// "already frozen since height H (reason: ...)" or "... are not frozen".
// The block would refuse the record too; saying so first spares a block.
Status CheckPegFreezeChange(state::StateDb& db, bool frozen);

class EmergencyControl {
 public:
  explicit EmergencyControl(state::StateDb& db) : db_(db) {}

  // Reads the durable halt (once, at start).
  Status Load();

  std::optional<HaltRecord> halt() const;
  // kFailedPrecondition when already halted (nothing written).
  Status Halt(const EmergencyRequest& request, int64_t now_ms);
  // kFailedPrecondition when not halted.
  Status Resume();

 private:
  state::StateDb& db_;
  mutable std::mutex mu_;
  std::optional<HaltRecord> halt_;
};

}  // namespace ailee::node
