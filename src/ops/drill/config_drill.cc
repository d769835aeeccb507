#include "ops/drill/config_drill.h"

#include <algorithm>
#include <cctype>

#include "base/fs.h"
#include "base/scratch.h"
#include "config/config.h"
#include "ops/config/restore.h"
#include "ops/drill/report.h"
#include "ops/drill/shred.h"

namespace ailee::ops {
namespace {

bool PathChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '/'; }

// The restored config's text with each absolute file path the snapshot
// restored replaced by the restored copy (whole paths only).
std::string Rebased(std::string text, const ConfigRestoreReport& restored) {
  std::vector<const ConfigChange*> files;
  for (const auto& c : restored.changes)
    if (!c.dir && !c.path.empty() && c.path[0] == '/' && fs::Exists(c.target)) files.push_back(&c);
  // Longest first: /etc/a/b.pem before /etc/a/b.
  std::sort(files.begin(), files.end(), [](auto* a, auto* b) { return a->path.size() > b->path.size(); });
  for (const ConfigChange* c : files) {
    for (size_t at = text.find(c->path); at != std::string::npos; at = text.find(c->path, at)) {
      const size_t end = at + c->path.size();
      const bool whole = (at == 0 || !PathChar(text[at - 1])) && (end == text.size() || !PathChar(text[end]));
      if (!whole) {
        at = end;
        continue;
      }
      text.replace(at, c->path.size(), c->target);
      at += c->target.size();
    }
  }
  return text;
}

}  // namespace

nlohmann::ordered_json ConfigDrillReportJson(const ConfigDrillReport& r) {
  nlohmann::ordered_json j = DrillOutcomeJson(r, "config");
  j["snapshot_id"] = r.snapshot_id;
  j["config"] = r.config_path;
  j["files"] = r.files;
  j["secrets"] = r.secrets;
  j["problems"] = r.problems;
  j["rto_ms"] = r.rto_ms;
  j["scratch"] = r.scratch;
  return j;
}

Result<ConfigDrillReport> RunConfigDrill(repo::Repository& repo, const ConfigDrillOptions& o) {
  RETURN_IF_ERROR(fs::MakeDirs(o.scratch_parent, 0700));
  ShredAbandoned(o.scratch_parent, kConfigDrillScratchPrefix);
  ConfigDrillReport r;
  DrillSteps run("config drill", o.hooks, r);
  ShreddedScratch scratch(fs::JoinPath(o.scratch_parent, fs::ScratchName(kConfigDrillScratchPrefix)));
  r.scratch = scratch.path();
  ConfigRestoreReport restored;
  const bool ok = run.Phase("restore", [&] {
    ConfigRestoreOptions ro;
    ro.scope = o.scope;
    ro.secrets_passphrase = o.secrets_passphrase;
    ro.validate = false;  // validated below, its paths rebased
    Status st = fs::MakeDirs(scratch.path(), 0700);
    if (st.ok()) {
      auto rr = RestoreConfig(repo, "latest", scratch.path(), ro);
      if (rr.ok()) restored = std::move(rr).value();
      st = rr.status();
    }
    if (st.ok() && restored.config_file.empty())
      st = DataLoss("config snapshot " + restored.snapshot_id.substr(0, 12) + " names no config file");
    r.snapshot_id = restored.snapshot_id;
    r.files = restored.written;
    r.secrets = restored.secrets_written;
    return run.Check("restore", st, "snapshot " + r.snapshot_id.substr(0, 12) + ": " + std::to_string(r.files) +
                                        " files, " + std::to_string(r.secrets) + " secrets");
  });
  (void)(ok && run.Phase("validate", [&] {
    for (const auto& c : restored.changes)
      if (c.target == restored.config_file) r.config_path = c.path;
    auto text = fs::ReadFile(restored.config_file);
    if (!text.ok()) return run.Check("config-valid", text.status(), "");
    config::ConfigAnalysis a = config::AnalyzeConfig(Rebased(*text, restored), restored.config_file);
    for (const auto& p : a.problems) r.problems.push_back(p.ToString());
    return run.Check("config-valid",
                     a.problems.empty() ? Status::Ok()
                                        : DataLoss("the restored config " + r.config_path + " is invalid: " +
                                                   config::FormatProblems(a.problems)),
                     "node " + a.config.node.id + ": valid, its files as the snapshot holds them");
  }));
  run.Phase("shred", [&] { return run.Check("shred", scratch.Remove(), "restored files overwritten and unlinked, scratch removed"); },
            /*cancellable=*/false);
  r.rto_ms = run.Finish({"restore", "validate"});
  return r;
}

}  // namespace ailee::ops
