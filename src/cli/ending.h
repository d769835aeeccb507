// The one way a command callback ends, after it parsed its flags and ran its
// job:
//
//   auto r = repo::Prune(...);                       // the job
//   EndCommand(s, r, op,                             // audited by `op`
//              [](const auto& st) { return json{...}; },          // --json
//              [](const auto& st) { return "deleted ..."; });     // text
//
// The outcome is written to the audit record (an ok one that cannot be
// recorded becomes that failure), then the report is shown: with --json
// exactly one document on stdout, else the text unless -q, and the outcome is
// stored for main(), which prints an error (and, with --json and no document
// yet, the error document) on stderr and maps it to the exit code.
#pragma once

#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "audit/scoped_op.h"
#include "base/status.h"
#include "cli/command.h"
#include "cli/session.h"

namespace ailee::cli {

// Where a command's outcome is recorded: nowhere (read-only commands), a
// ScopedAuditOp, or a function that records it and returns the outcome to
// exit with.
class AuditRecord {
 public:
  AuditRecord() = default;
  AuditRecord(audit::ScopedAuditOp& op)  // NOLINT: implicit, the common case
      : finish_([&op](const Status& outcome) { return op.Finish(outcome); }) {}
  template <class F>
    requires std::is_invocable_r_v<Status, F, const Status&>
  AuditRecord(F finish) : finish_(std::move(finish)) {}  // NOLINT: implicit

  Status Finish(const Status& outcome) const { return finish_ ? finish_(outcome) : outcome; }

 private:
  std::function<Status(const Status&)> finish_;
};

using JsonRenderer = std::function<nlohmann::ordered_json()>;
// Lines for stdout, joined by '\n'; "" prints nothing.
using TextRenderer = std::function<std::string()>;

// A job that failed before it had anything to show (or succeeded with
// nothing to show).
void EndCommand(const Session& s, const Status& failure, const AuditRecord& audit = {});
// A job that returns a Status: the report is shown when it is ok.
void EndCommand(const Session& s, const Status& status, const AuditRecord& audit, const JsonRenderer& json,
                const TextRenderer& text);
// A job that returns a Result: its error, or its value rendered.
template <class T, class JsonFn, class TextFn>
void EndCommand(const Session& s, const Result<T>& result, const AuditRecord& audit, JsonFn json, TextFn text) {
  if (!result.ok()) return EndCommand(s, result.status(), audit);
  EndWithVerdict(
      s, Status::Ok(), audit, [&] { return nlohmann::ordered_json(json(*result)); },
      [&] { return std::string(text(*result)); });
}
// A job that produced a report and judged it: `verdict` is ok, or the
// failure the report itself shows (damage found). The report is shown either
// way, except when only recording an ok outcome failed (then main prints that
// error alone).
void EndWithVerdict(const Session& s, const Status& verdict, const AuditRecord& audit, const JsonRenderer& json,
                    const TextRenderer& text);

// Joins lines for a TextRenderer.
std::string Lines(const std::vector<std::string>& lines);

}  // namespace ailee::cli
