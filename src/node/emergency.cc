#include "node/emergency.h"

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/operator_text.h"

namespace ailee::node {
namespace {

constexpr std::string_view kHaltKey = "halt";

}  // namespace

std::string EncodeHaltRecord(const HaltRecord& record) {
  return nlohmann::json{{"since_ms", record.since_ms}, {"reason", record.reason}, {"operator", record.operator_id}}
      .dump();
}

Result<HaltRecord> DecodeHaltRecord(std::string_view bytes) {
  auto j = nlohmann::json::parse(bytes, nullptr, false);
  if (!j.is_object() || !j.contains("since_ms") || !j["since_ms"].is_number_integer() || !j.contains("reason") ||
      !j["reason"].is_string() || !j.contains("operator") || !j["operator"].is_string()) {
    return DataLoss("the node's halt record (local column family, key halt) is not {since_ms, reason, operator}: " +
                    std::string(bytes.substr(0, 200)));
  }
  return HaltRecord{j["since_ms"].get<int64_t>(), j["reason"].get<std::string>(), j["operator"].get<std::string>()};
}

std::string DescribeHalt(const HaltRecord& record) {
  return "the federation is halted since " + FormatUtc(record.since_ms / 1000) + " by " + record.operator_id +
         " (reason: " + record.reason + ")";
}

Status CheckEmergencyRequest(const EmergencyRequest& request) {
  if (IsBlankText(request.reason)) return InvalidArgument("reason is required: say why, it is audited");
  if (HasControlCharacter(request.reason)) {
    return InvalidArgument("reason holds a control character (only tab and newline are kept): write it as plain text");
  }
  if (request.reason.size() > kMaxEmergencyReasonBytes) {
    return InvalidArgument("reason: " + std::to_string(request.reason.size()) + " bytes, at most " +
                           std::to_string(kMaxEmergencyReasonBytes));
  }
  if (IsBlankText(request.operator_id)) return InvalidArgument("operator is required: who asks, it is audited");
  if (HasControlCharacter(request.operator_id)) {
    return InvalidArgument("operator holds a control character: write it as plain text");
  }
  if (request.operator_id.size() > kMaxEmergencyOperatorBytes) {
    return InvalidArgument("operator: " + std::to_string(request.operator_id.size()) + " bytes, at most " +
                           std::to_string(kMaxEmergencyOperatorBytes));
  }
  return Status::Ok();
}

Status CheckPegFreezeChange(state::StateDb& db, bool frozen) {
  auto current = db.PegsFrozen();
  if (frozen && current) {
    return FailedPrecondition("already frozen since height " + std::to_string(current->since_height) +
                              " (reason: " + current->reason + ")");
  }
  if (!frozen && !current) return FailedPrecondition("peg-ins and peg-outs are not frozen");
  return Status::Ok();
}

Status EmergencyControl::Load() {
  ASSIGN_OR_RETURN(std::optional<std::string> stored, db_.GetLocal(kHaltKey));
  std::lock_guard<std::mutex> lock(mu_);
  halt_.reset();
  if (stored) {
    ASSIGN_OR_RETURN(HaltRecord record, DecodeHaltRecord(*stored));
    halt_ = std::move(record);
  }
  return Status::Ok();
}

std::optional<HaltRecord> EmergencyControl::halt() const {
  std::lock_guard<std::mutex> lock(mu_);
  return halt_;
}

Status EmergencyControl::Halt(const EmergencyRequest& request, int64_t now_ms) {
  RETURN_IF_ERROR(CheckEmergencyRequest(request));
  std::lock_guard<std::mutex> lock(mu_);
  if (halt_) return FailedPrecondition("already halted: " + DescribeHalt(*halt_));
  HaltRecord record{now_ms, request.reason, request.operator_id};
  // Durable before it is reported: a halt the operator saw acknowledged
  // survives kill -9.
  RETURN_IF_ERROR(db_.PutLocal(kHaltKey, EncodeHaltRecord(record)).WithContext("recording the halt"));
  halt_ = std::move(record);
  return Status::Ok();
}

Status EmergencyControl::Resume() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!halt_) return FailedPrecondition("not halted: the leader is producing blocks");
  RETURN_IF_ERROR(db_.DeleteLocal(kHaltKey).WithContext("clearing the halt"));
  halt_.reset();
  return Status::Ok();
}

}  // namespace ailee::node
