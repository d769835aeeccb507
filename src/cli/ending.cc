#include "cli/ending.h"

#include <iostream>

namespace ailee::cli {

void EndCommand(const Session&, const Status& failure, const AuditRecord& audit) {
  SetResult(audit.Finish(failure));
}

void EndCommand(const Session& s, const Status& status, const AuditRecord& audit, const JsonRenderer& json,
                const TextRenderer& text) {
  if (!status.ok()) return EndCommand(s, status, audit);
  EndWithVerdict(s, status, audit, json, text);
}

void EndWithVerdict(const Session& s, const Status& verdict, const AuditRecord& audit, const JsonRenderer& json,
                    const TextRenderer& text) {
  Status outcome = audit.Finish(verdict);
  const bool show = outcome.ok() || !verdict.ok();
  const GlobalOptions& g = s.global();
  if (show && g.json && json) PrintOrderedJson(json());
  if (show && !g.json && !g.quiet && text) {
    std::string t = text();
    if (!t.empty()) std::cout << t << std::endl;
  }
  SetResult(std::move(outcome));
}

std::string Lines(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) out += (i > 0 ? "\n" : "") + lines[i];
  return out;
}

}  // namespace ailee::cli
