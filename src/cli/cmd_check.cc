// check: the runbook's verify-backups.sh for a monitoring system (ops/check/check.h):
// one line per check, exit 0 when all pass and 1 when any fails, --json.
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/repo_session.h"
#include "ops/check/check.h"
#include "ops/logs/archive.h"

namespace ailee::cli {
namespace {

using nlohmann::json;

struct CheckArgs {
  RepoArgs repo;
  std::string max_state_age = "30m";
  std::string max_archive_age = "15m";
  std::string max_config_age = "26h";
  std::string max_key_verify_age = "8d";
  std::string max_drill_age = "35d";
};

Result<int64_t> Duration(const std::string& flag, const std::string& text) {
  auto ms = ops::ParseDurationMs(text);
  if (!ms.ok() || *ms <= 0) return InvalidArgument(flag + " " + text + ": expected a duration such as 30m, 26h or 8d");
  return *ms;
}

std::string CheckText(const ops::CheckReport& r) {
  std::vector<std::string> lines;
  for (const auto& l : r.lines) {
    lines.push_back(std::string(l.skipped ? "SKIP " : l.ok ? "OK   " : "FAIL ") + l.name + ": " + l.detail);
  }
  return Lines(lines);
}

json CheckJson(const ops::CheckReport& r) {
  json checks = json::array();
  for (const auto& l : r.lines) checks.push_back({{"name", l.name}, {"ok", l.ok}, {"skipped", l.skipped}, {"detail", l.detail}});
  return {{"ok", r.ok}, {"checks", checks}};
}

}  // namespace

void SetUpCheckCommand(CLI::App& app, Session& s) {
  auto* cmd = app.add_subcommand(
      "check",
      "Check that backups are fresh, from the repository itself (never cached numbers): the node's newest state\n"
      "snapshot, its block archive, the copies of the newest state snapshot, its config snapshot, the signer's last\n"
      "passing `keys verify` (audit log) and its last drill. One line per check; exit 0 when every check passes, 1\n"
      "when any fails (for monitoring systems); --json for scripts.");
  auto a = std::make_shared<CheckArgs>();
  AddRepoOptions(cmd, a->repo);
  cmd->add_option("--max-state-age", a->max_state_age, "oldest acceptable state snapshot")->capture_default_str();
  cmd->add_option("--max-archive-age", a->max_archive_age, "oldest acceptable last archived block")->capture_default_str();
  cmd->add_option("--max-config-age", a->max_config_age, "oldest acceptable config snapshot")->capture_default_str();
  cmd->add_option("--max-key-verify-age", a->max_key_verify_age, "oldest acceptable passing keys verify")->capture_default_str();
  cmd->add_option("--max-drill-age", a->max_drill_age, "oldest acceptable passing drill")->capture_default_str();
  cmd->callback([&s, a] {
    ops::CheckOptions o;
    for (auto [flag, text, out] : {std::tuple{"--max-state-age", &a->max_state_age, &o.max_state_age_ms},
                                   std::tuple{"--max-archive-age", &a->max_archive_age, &o.max_archive_age_ms},
                                   std::tuple{"--max-config-age", &a->max_config_age, &o.max_config_age_ms},
                                   std::tuple{"--max-key-verify-age", &a->max_key_verify_age, &o.max_key_verify_age_ms},
                                   std::tuple{"--max-drill-age", &a->max_drill_age, &o.max_drill_age_ms}}) {
      auto ms = Duration(flag, *text);
      if (!ms.ok()) return EndCommand(s, ms.status());
      *out = *ms;
    }
    auto rs = RepoSession::Open(s, a->repo);
    if (!rs.ok()) return EndCommand(s, rs.status());
    if (!rs->config()) return EndCommand(s, InvalidArgument("check needs the node's config (--config): its node id, copies and signer"));
    const auto& cfg = *rs->config();
    o.node_id = cfg.node.id;
    o.copies.primary_url = rs->url();
    o.copies.locations = cfg.backup.secondary_repositories;
    o.copies.min_copies = cfg.backup.min_copies;
    if (cfg.signer) o.signer_id = cfg.signer->id;
    o.audit_log = rs->audit() ? rs->audit()->path() : "";
    auto r = ops::RunChecks(rs->repo(), o);
    if (!r.ok()) return EndCommand(s, r.status());
    EndWithVerdict(s, ops::CheckVerdict(*r), {}, [&] { return CheckJson(*r); }, [&] { return CheckText(*r); });
  });
}

}  // namespace ailee::cli
