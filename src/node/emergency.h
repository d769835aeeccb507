// EmergencyControl: the leader's two emergency switches (docs/emergency.md).
//
//  - The halt is node-local: the leader stops producing blocks (followers and
//    the leader keep serving reads; POST /v1/tx answers 503 with the reason).
//    It is durable: `halt` in the StateDb's `local` column family (one synced
//    write), not in the state root, so kill -9 at any moment leaves the node
//    either halted or not, and a restart (or a checkpoint of a halted leader)
//    comes back halted: the safe side.
//  - The peg freeze is chain state: a peg_freeze transaction that the leader
//    puts at the head of its next block, also while halted (a block with only
//    control records). RequestPegFreeze blocks the caller (an HTTP thread)
//    until that block is committed or refused, so the answer names the height
//    the freeze took effect at. Followers learn it by applying the block.
//
// Thread-safe: HTTP threads call Halt/Resume/RequestPegFreeze and read the
// state; the leader's worker calls TakeControlTxs/OnBlockProduced.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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

  // Queues peg_freeze{frozen} for the leader's next block and waits up to
  // `timeout_ms` for it: the height of the block that carries it, the
  // block's refusal (kFailedPrecondition "already frozen since height H"),
  // or kUnavailable when the leader did not produce in time (the request is
  // withdrawn if the leader had not taken it yet; otherwise it may still
  // commit, and the message says so).
  Result<uint64_t> RequestPegFreeze(bool frozen, const EmergencyRequest& request, int64_t timeout_ms);

  // Leader's worker: the control transactions for the next block (taken
  // once; the leader reports their fate with OnBlockProduced).
  std::vector<state::Transaction> TakeControlTxs();
  bool has_pending_control() const;
  // After ProduceBlock of the transactions TakeControlTxs returned: each
  // waiting request learns its height or its refusal.
  void OnBlockProduced(const Result<state::ProducedBlock>& produced);
  // The node is stopping: every waiting request ends now (kUnavailable; one
  // already taken may still have been committed, and the message says so).
  void Shutdown();

 private:
  struct Pending {
    state::Transaction tx;
    crypto::Hash256 id{};
    bool taken = false;
    std::optional<Result<uint64_t>> outcome;
  };

  state::StateDb& db_;
  mutable std::mutex mu_;
  std::condition_variable done_;
  std::optional<HaltRecord> halt_;
  std::vector<std::shared_ptr<Pending>> pending_;
};

}  // namespace ailee::node
