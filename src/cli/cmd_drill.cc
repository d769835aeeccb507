// ailee-cli drill: rehearses the recovery of this node in a sandbox
// (ops/drill/drill.h), stores the report in the repository and writes it as
// JSON (--json) and HTML (--html). SIGINT/SIGTERM stop the drill between
// steps; the sandbox node is stopped and the sandbox removed either way.
#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <random>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hint.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/key_env.h"
#include "cli/repo_session.h"
#include "cli/secrets_passphrase.h"
#include "config/drill.h"
#include "config/node_access.h"
#include "ops/config/restore.h"
#include "ops/drill/config_drill.h"
#include "ops/drill/drill.h"
#include "ops/drill/key_drill.h"
#include "ops/drill/report.h"
#include "ops/drill/test_token.h"
#include "ops/metrics/job_samples.h"
#include "repo/snapshot.h"

namespace ailee::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void OnInterrupt(int) { g_interrupted = 1; }

// SIGINT and SIGTERM set a flag for as long as this lives (the drill then
// cleans up instead of dying with its sandbox on disk).
class InterruptFlag {
 public:
  InterruptFlag() {
    struct sigaction sa {};
    sa.sa_handler = OnInterrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~InterruptFlag() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  bool raised() const { return g_interrupted != 0; }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

struct DrillArgs {
  RepoArgs repo;
  std::optional<uint64_t> to_height;
  std::string random_within;
  std::optional<uint64_t> seed;
  std::string html;
  std::string node_binary;
  std::string sandbox_dir;
  std::string leader;
  int64_t timeout_s = 600;
  bool keep = false;
  // --keys: the signer key's backup instead of the state.
  bool keys = false;
  std::string signer_id;
  std::string key_backup;
  keycmd::PassphraseOpts key_pass;
  // --keys --to-pkcs11: into a PKCS#11 test token (else the config's drill.test_token).
  bool to_pkcs11 = false;
  std::string pkcs11_module;
  std::string token_label;
  std::string pin_file;
  // --config: the newest config snapshot instead of the state.
  bool config_part = false;
  std::string secrets_passphrase_file;
  // --history: the drill reports stored in the repository.
  bool history = false;
};

// The federation section for the sandbox's config, keys inline (the
// production config's key files may be relative to another directory).
std::string FederationYaml(const config::NodeConfig& cfg) {
  std::string y = "federation:\n  threshold: " + std::to_string(cfg.federation.threshold) + "\n  signers:\n";
  for (const auto& s : cfg.federation.signers) {
    y += "    - id: " + s.id + "\n      public_key: |\n";
    size_t at = 0;
    while (at < s.public_key_pem.size()) {
      size_t nl = s.public_key_pem.find('\n', at);
      if (nl == std::string::npos) nl = s.public_key_pem.size();
      if (nl > at) y += "        " + s.public_key_pem.substr(at, nl - at) + "\n";
      at = nl + 1;
    }
  }
  return y;
}

// ailee-node beside this ailee-cli.
std::string NodeBesideCli() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "ailee-node";
  return fs::JoinPath(fs::Dirname(std::string(buf, static_cast<size_t>(n))), "ailee-node");
}

Result<ops::DrillTargets> TargetsOf(const config::NodeConfig& cfg) {
  ASSIGN_OR_RETURN(config::DrillTargetsConfig c, config::LoadDrillTargets(cfg));
  ops::DrillTargets t;
  if (c.rto_s) t.rto_s = *c.rto_s;
  if (c.rpo_s) t.rpo_s = *c.rpo_s;
  if (c.rpo_blocks) t.rpo_blocks = static_cast<uint64_t>(*c.rpo_blocks);
  return t;
}

// --keys and --config each rehearse one part alone: the state drill's flags
// would be ignored.
Status CheckPartFlags(const DrillArgs& a) {
  if (a.keys && a.config_part)
    return WithHint(InvalidArgument("drill: give --keys or --config, not both"),
                    "run the key drill and the config drill as two commands (each has its own report and metrics)");
  const char* part = a.keys ? "--keys" : "--config";
  const std::vector<std::pair<bool, const char*>> state_only = {
      {a.to_height.has_value(), "--to-height"}, {!a.random_within.empty(), "--random-within"},
      {a.seed.has_value(), "--seed"},          {!a.html.empty(), "--html"},
      {!a.node_binary.empty(), "--node-binary"}, {!a.leader.empty(), "--leader"},
      {a.keep, "--keep"}};
  for (const auto& [given, flag] : state_only)
    if (given)
      return WithHint(InvalidArgument(std::string("drill: ") + flag + " belongs to the state drill, not to " + part),
                      "run the state drill and the " + std::string(part) + " drill as two commands");
  return Status::Ok();
}

Status CheckKeyDrillFlags(const DrillArgs& a) {
  if (!a.key_pass.passphrase_file.empty() && !a.key_pass.shares.empty())
    return WithHint(InvalidArgument("drill: give --key-passphrase-file or --key-shares, not both"),
                    "the shares recombine the passphrase; a passphrase file replaces them");
  if (a.key_backup.empty())
    return WithHint(InvalidArgument("drill --keys: no key backup (--key-backup DIR, or AILEE_KEY_BACKUP_DIR)"),
                    "name the directory `keys backup --out` wrote, e.g. /var/backups/ailee/keys");
  if (!a.to_pkcs11 && (!a.pkcs11_module.empty() || !a.token_label.empty() || !a.pin_file.empty()))
    return WithHint(InvalidArgument("drill --keys: --pkcs11-module, --token-label and --pin-file belong to --to-pkcs11"),
                    "add --to-pkcs11 to rehearse the import into a test token, or leave them out");
  return Status::Ok();
}

// --history lists; every flag that would run a drill is refused with it.
Status CheckHistoryFlags(const DrillArgs& a) {
  const bool runs = a.keys || a.config_part || a.to_height || !a.random_within.empty() || a.seed || !a.html.empty() ||
                    a.keep || !a.key_backup.empty() || a.to_pkcs11;
  if (!runs) return Status::Ok();
  return WithHint(InvalidArgument("drill: --history lists the stored drill reports and runs no drill"),
                  "run `drill --history` alone (every part: state, keys, config), or the drill without --history");
}

// Flags a drill would otherwise trip over only after its restore (minutes
// at a large state): refused before anything runs.
Status CheckFlags(const DrillArgs& a) {
  if (a.history) return CheckHistoryFlags(a);
  if (a.keys || a.config_part) RETURN_IF_ERROR(CheckPartFlags(a));
  if (a.keys) return CheckKeyDrillFlags(a);
  if (!a.secrets_passphrase_file.empty() && !a.config_part)
    return WithHint(InvalidArgument("drill: --secrets-passphrase-file belongs to the config drill"),
                    "add --config to rehearse the config's recovery, or leave it out");
  if (!a.signer_id.empty() || !a.key_backup.empty() || !a.key_pass.passphrase_file.empty() || !a.key_pass.shares.empty() ||
      a.to_pkcs11 || !a.pkcs11_module.empty() || !a.token_label.empty() || !a.pin_file.empty())
    return WithHint(InvalidArgument("drill: --id, --key-backup, --key-passphrase-file, --key-shares, --to-pkcs11 and "
                                    "its token flags belong to the key drill"),
                    "add --keys to rehearse the signer key's recovery, or leave them out for the state drill");
  constexpr int64_t kMaxTimeoutS = 7 * 86400;
  if (a.timeout_s <= 0 || a.timeout_s > kMaxTimeoutS)
    return WithHint(InvalidArgument("drill: --timeout " + std::to_string(a.timeout_s) +
                                    " is not a number of seconds from 1 to " + std::to_string(kMaxTimeoutS)),
                    "give the seconds the sandbox node may take to start and catch up (default 600)");
  if (a.seed && a.random_within.empty())
    return WithHint(InvalidArgument("drill: --seed " + std::to_string(*a.seed) + " without --random-within chooses nothing"),
                    "give --random-within AGE with it (to repeat a random drill), or leave --seed out");
  if (a.html.empty()) return Status::Ok();
  if (fs::IsDirectory(a.html))
    return WithHint(InvalidArgument("drill: --html " + a.html + " is a directory"),
                    "name the file to write, e.g. --html " + fs::JoinPath(a.html, "drill.html"));
  const std::string dir = fs::Dirname(a.html);
  if (!fs::IsDirectory(dir))
    return WithHint(InvalidArgument("drill: --html " + a.html + ": the directory " + dir + " does not exist"),
                    "create it first, or write the HTML report somewhere that exists");
  if (access(dir.c_str(), W_OK) != 0)
    return WithHint(PermissionDenied("drill: --html " + a.html + ": the directory " + dir + " is not writable by this user"),
                    "write the HTML report to a directory this user may write");
  return Status::Ok();
}

Result<ops::DrillOptions> OptionsOf(Session& session, const config::NodeConfig& cfg, const DrillArgs& a) {
  ops::DrillOptions o;
  o.point.height = a.to_height;
  if (!a.random_within.empty()) {
    if (a.to_height) return InvalidArgument("drill: give --to-height or --random-within, not both");
    ASSIGN_OR_RETURN(o.point.within_ms, ops::ParseAge(a.random_within));
  }
  o.seed = a.seed ? *a.seed : std::random_device{}();
  o.production_url = config::NodeUrl(cfg);
  o.sandbox.node_id = cfg.node.id;
  o.sandbox.leader_url = !a.leader.empty() ? a.leader : cfg.is_follower() ? cfg.follow : o.production_url;
  o.sandbox.federation_yaml = FederationYaml(cfg);
  o.sandbox.block_interval_ms = cfg.node.block_interval_ms;
  o.sandbox.commitment_interval = cfg.node.commitment_interval;
  o.node_binary = a.node_binary.empty() ? NodeBesideCli() : a.node_binary;
  o.sandbox_parent = a.sandbox_dir.empty() ? fs::Dirname(cfg.node.data_dir) : a.sandbox_dir;
  o.keep = a.keep;
  o.timeout_ms = a.timeout_s * 1000;
  std::string why_not;
  o.federation = session.FederationIfConfigured(&why_not);
  ASSIGN_OR_RETURN(o.targets, TargetsOf(cfg));
  return o;
}

std::string Secs(int64_t ms) { return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s"; }

// A drill that ran, whether or not its report could be kept: the drill's
// own finding outranks a report that could not be stored (the exit code
// stays the drill's, the storing error is in the report shown beside it),
// and a passed drill whose report is not kept ends on that error with its
// report still shown. The result is never lost with the repository.
struct KeptReport {
  std::string id;  // empty when not stored
  Status status;   // why not (or, stored, why its HTML page was not written)
};

Status VerdictOf(const Status& drill, const KeptReport& kept) { return drill.ok() ? kept.status : drill; }

void AddKept(nlohmann::ordered_json& j, const KeptReport& kept) {
  j["report_snapshot"] = kept.id;
  if (!kept.status.ok()) j["report_error"] = std::string(MessageWithoutHint(kept.status));
}

void AddKeptLines(std::vector<std::string>& lines, const KeptReport& kept) {
  if (!kept.id.empty()) lines.push_back("report stored as snapshot " + kept.id.substr(0, 12));
  if (!kept.status.ok())
    lines.push_back((kept.id.empty() ? "report NOT stored in the repository: " : "") +
                    std::string(MessageWithoutHint(kept.status)));
}

KeptReport KeptOf(const Result<std::string>& id, const char* what) {
  if (id.ok()) return {*id, Status::Ok()};
  return {"", id.status().WithContext(what)};
}

std::string DrillText(const ops::DrillReport& r, const KeptReport& kept, const std::string& html) {
  std::vector<std::string> lines;
  lines.push_back("drill of node " + r.node_id + ": " + (r.ok ? "PASSED" : "FAILED at check '" + r.failed_check + "'"));
  lines.push_back("recovery point: " + r.point + " (seed " + std::to_string(r.seed) + "); restored height " +
                  std::to_string(r.restored_height) + " (snapshot at " + std::to_string(r.snapshot_height) + " + " +
                  std::to_string(r.blocks_replayed) + " archived blocks)");
  for (const auto& p : r.phases) lines.push_back("  " + p.name + ": " + Secs(p.duration_ms));
  lines.push_back("RTO " + Secs(r.rto_ms) + " (target < " + std::to_string(r.targets.rto_s) + " s); RPO " +
                  std::to_string(r.rpo_blocks) + " blocks, " + Secs(r.rpo_ms) + " (target < " +
                  std::to_string(r.targets.rpo_s) + " s) against the network's tip " + std::to_string(r.network_tip));
  for (const auto& c : r.checks) lines.push_back(std::string(c.ok ? "  ok   " : "  FAIL ") + c.name + ": " + c.detail);
  AddKeptLines(lines, kept);
  if (!html.empty()) lines.push_back("HTML report: " + html);
  return Lines(lines);
}

// Interruptible between phases; the phases on stderr unless --quiet/--json.
ops::DrillHooks DrillHooksOf(const Session& session, const InterruptFlag& interrupt, std::string what) {
  ops::DrillHooks h;
  h.cancelled = [&interrupt] { return interrupt.raised(); };
  const GlobalOptions& g = session.global();
  if (!g.quiet && !g.json)
    h.on_phase = [what](const std::string& phase) { std::fprintf(stderr, "%s: %s\n", what.c_str(), phase.c_str()); };
  return h;
}

std::string KeyDrillText(const ops::KeyDrillReport& r, const KeptReport& kept, const std::string& checked_against) {
  std::vector<std::string> lines;
  lines.push_back("key drill of signer " + r.signer_id + ": " + (r.ok ? "PASSED" : "FAILED at check '" + r.failed_check + "'"));
  lines.push_back("  checked against federation " + checked_against);
  for (const auto& p : r.phases) lines.push_back("  " + p.name + ": " + Secs(p.duration_ms));
  lines.push_back("key RTO " + Secs(r.rto_ms) + (r.token.empty() ? " (open + restore + test-signer)"
                                                                  : " (open + restore + import + test-signer)"));
  for (const auto& c : r.checks) lines.push_back(std::string(c.ok ? "  ok   " : "  FAIL ") + c.name + ": " + c.detail);
  for (const auto& l : r.leftovers_removed) lines.push_back("removed a killed drill's key objects '" + l + "' from the test token");
  AddKeptLines(lines, kept);
  return Lines(lines);
}

// The test token of --to-pkcs11 (the flags, else the config's
// drill.test_token), checked before anything is opened; its PIN is read
// into `pin`.
Result<ops::DrillTestToken> TestTokenOf(const config::NodeConfig& cfg, const DrillArgs& a,
                                        std::optional<crypto::SecureBytes>& pin) {
  ASSIGN_OR_RETURN(config::DrillSection section, config::LoadDrillSection(cfg));
  const config::DrillTestTokenConfig fallback = section.test_token.value_or(config::DrillTestTokenConfig{});
  ops::DrillTestToken t;
  t.module = a.pkcs11_module.empty() ? fallback.module : a.pkcs11_module;
  t.token_label = a.token_label.empty() ? fallback.token_label : a.token_label;
  if (cfg.signer && cfg.signer->pkcs11) t.production_token_label = cfg.signer->pkcs11->token_label;
  RETURN_IF_ERROR(ops::CheckTestToken(t));
  ASSIGN_OR_RETURN(crypto::SecureBytes read, keycmd::ReadPin(a.pin_file.empty() ? fallback.pin_file : a.pin_file));
  t.pin = &pin.emplace(std::move(read));
  return t;
}

// drill --keys: the signer key restored from its backup into a scratch
// directory, proven to sign for the federation, shredded. Audited like every
// key operation.
void RunKeyDrillCommand(Session& session, DrillArgs& a) {
  auto env = keycmd::OpenKeyEnv(session, {}, "");
  if (!env.ok()) return EndCommand(session, env.status());
  if (!env->config) return EndCommand(session, InvalidArgument("drill --keys needs the node's config (--config)"));
  const config::NodeConfig& cfg = *env->config;
  if (a.signer_id.empty() && cfg.signer) a.signer_id = cfg.signer->id;
  if (a.signer_id.empty())
    return EndCommand(session, WithHint(InvalidArgument("drill --keys: no signer id"),
                                        "give --id SIGNER (this node's config has no signer section)"));
  nlohmann::json details = {{"backup", a.key_backup}, {"drill", true}};
  auto record = [&](const std::string& fp) { return keycmd::AuditRecordOf(*env, "key.drill", a.signer_id, fp, details); };
  ops::KeyDrillOptions o;
  std::optional<crypto::SecureBytes> pin;
  if (a.to_pkcs11) {
    auto token = TestTokenOf(cfg, a, pin);
    if (!token.ok()) return EndCommand(session, token.status(), record(""));
    details["test_token"] = {{"module", token->module}, {"token", token->token_label}};
    o.token = *token;
  }
  auto s = RepoSession::Open(session, a.repo);  // where the report is kept
  if (!s.ok()) return EndCommand(session, s.status(), record(""));
  auto pass = keycmd::BackupPassphrase(a.key_pass, a.signer_id, a.key_backup);
  if (!pass.ok()) return EndCommand(session, pass.status(), record(""));
  o.signer_id = a.signer_id;
  o.backup = a.key_backup;
  o.passphrase = &*pass;
  // The signer's key in the federation in force: a signer a later epoch
  // added is drilled like a genesis one, one that left is refused.
  auto live = env->in_force->LiveKey(a.signer_id);
  if (!live.ok()) return EndCommand(session, live.status(), record(""));
  const keys::FederationKeys checked = {{a.signer_id, live->key}};
  o.federation = &checked;
  o.scratch_parent = a.sandbox_dir.empty() ? fs::Dirname(cfg.node.data_dir) : a.sandbox_dir;
  InterruptFlag interrupt;
  o.hooks = DrillHooksOf(session, interrupt, "drill --keys");
  auto r = ops::RunKeyDrill(o);
  if (!r.ok()) return EndCommand(session, r.status(), record(""));
  session.AddMetrics(ops::metrics::KeyDrillSamples(*r));
  details["checks"] = ops::ChecksJson(r->checks);
  const KeptReport kept =
      KeptOf(ops::SaveDrillOutcome(s->repo(), cfg.node.id, *r, ops::KeyDrillReportJson(*r)), "the key drill ran");
  details["report_snapshot"] = kept.id;
  const Status verdict = r->verdict.ok() ? r->verdict : keycmd::SharesHint(r->verdict, a.key_pass);
  EndWithVerdict(
      session, VerdictOf(verdict, kept), record(r->fingerprint),
      [&] {
        auto j = ops::KeyDrillReportJson(*r);
        j["checked_against"] = live->against;
        AddKept(j, kept);
        return j;
      },
      [&] { return KeyDrillText(*r, kept, live->against); });
}

std::string ConfigDrillText(const ops::ConfigDrillReport& r, const KeptReport& kept) {
  std::vector<std::string> lines;
  lines.push_back("config drill of " + (r.config_path.empty() ? std::string("the newest config snapshot") : r.config_path) +
                  ": " + (r.ok ? "PASSED" : "FAILED at check '" + r.failed_check + "'"));
  for (const auto& p : r.phases) lines.push_back("  " + p.name + ": " + Secs(p.duration_ms));
  lines.push_back("config RTO " + Secs(r.rto_ms) + " (restore + validate)");
  for (const auto& c : r.checks) lines.push_back(std::string(c.ok ? "  ok   " : "  FAIL ") + c.name + ": " + c.detail);
  AddKeptLines(lines, kept);
  return Lines(lines);
}

// drill --config: this node's newest config snapshot restored into a scratch
// directory, validated, shredded.
void RunConfigDrillCommand(Session& session, const DrillArgs& a) {
  auto s = RepoSession::Open(session, a.repo);
  if (!s.ok()) return EndCommand(session, s.status());
  if (!s->config()) return EndCommand(session, InvalidArgument("drill --config needs the node's config (--config FILE before drill)"));
  const config::NodeConfig& cfg = *s->config();
  audit::ScopedAuditOp op(s->audit(), "drill.config", {{"repository", s->url()}, {"node_id", cfg.node.id}});
  auto pass = SecretsPassphrase(a.secrets_passphrase_file, false);
  if (!pass.ok()) return EndCommand(session, pass.status(), op);
  ops::ConfigDrillOptions o;
  o.scope = ops::ConfigScopeFor(cfg, "");
  if (*pass) o.secrets_passphrase = &**pass;
  o.scratch_parent = a.sandbox_dir.empty() ? fs::Dirname(cfg.node.data_dir) : a.sandbox_dir;
  InterruptFlag interrupt;
  o.hooks = DrillHooksOf(session, interrupt, "drill --config");
  auto r = ops::RunConfigDrill(s->repo(), o);
  if (!r.ok()) return EndCommand(session, r.status(), op);
  session.AddMetrics(ops::metrics::ConfigDrillSamples(*r));
  if (!r->snapshot_id.empty()) op.Touch(r->snapshot_id);
  const KeptReport kept =
      KeptOf(ops::SaveDrillOutcome(s->repo(), cfg.node.id, *r, ops::ConfigDrillReportJson(*r)), "the config drill ran");
  if (!kept.id.empty()) op.Touch(kept.id);
  EndWithVerdict(
      session, VerdictOf(r->verdict, kept), op,
      [&] {
        auto j = ops::ConfigDrillReportJson(*r);
        AddKept(j, kept);
        return j;
      },
      [&] { return ConfigDrillText(*r, kept); });
}

// The history and the snapshots that could not be read: a damaged one may
// be a drill report (a failed drill's, for all the listing can tell), so the
// history says so rather than reading clean.
struct DrillHistory {
  std::vector<ops::DrillHistoryEntry> reports;
  std::vector<std::pair<std::string, std::string>> damaged;  // id (hex), error
};

nlohmann::ordered_json HistoryJson(const std::string& node_id, const DrillHistory& history) {
  const std::vector<ops::DrillHistoryEntry>& h = history.reports;
  nlohmann::ordered_json reports = nlohmann::ordered_json::array();
  for (const auto& e : h) {
    nlohmann::ordered_json j = {{"snapshot", e.snapshot_id}, {"part", e.part},     {"started_ms", e.started_ms},
                                {"ok", e.ok},               {"failed_check", e.failed_check}, {"rto_ms", e.rto_ms}};
    if (e.part == ops::kStateDrillPart) j["rpo_blocks"] = e.rpo_blocks, j["rpo_ms"] = e.rpo_ms;
    reports.push_back(std::move(j));
  }
  nlohmann::ordered_json damaged = nlohmann::ordered_json::array();
  for (const auto& [id, error] : history.damaged) damaged.push_back({{"id", id}, {"error", error}});
  return {{"node_id", node_id}, {"reports", reports}, {"damaged", damaged}};
}

std::string HistoryText(const std::string& node_id, const DrillHistory& history) {
  const std::vector<ops::DrillHistoryEntry>& h = history.reports;
  std::vector<std::string> lines = {h.empty() ? "no drill reports of node " + node_id + " in the repository"
                                              : "drill reports of node " + node_id + ", oldest first:"};
  for (const auto& e : h) {
    std::string l = FormatUtc(e.started_ms / 1000) + "  " + e.part + std::string(8 - std::min<size_t>(7, e.part.size()), ' ') +
                    (e.ok ? "passed" : "FAILED at '" + e.failed_check + "'") + "  RTO " + Secs(e.rto_ms);
    if (e.part == ops::kStateDrillPart) l += ", RPO " + std::to_string(e.rpo_blocks) + " blocks, " + Secs(e.rpo_ms);
    lines.push_back(l + "  " + e.snapshot_id.substr(0, 12));
  }
  for (const auto& [id, error] : history.damaged)
    lines.push_back("DAMAGED snapshot " + id + " (a drill report may be among them): " + error);
  return Lines(lines);
}

Result<DrillHistory> ReadDrillHistory(repo::Repository& repo, const std::string& node_id) {
  ASSIGN_OR_RETURN(repo::SnapshotListing listing, repo::ListSnapshots(repo));
  DrillHistory h;
  h.reports = ops::DrillHistoryOf(listing, node_id, "");
  for (const auto& [id, st] : listing.damaged) h.damaged.emplace_back(repo::IdHex(id), st.message());
  return h;
}

// drill --history: every drill report of this node (state, keys, config)
// kept in the repository, oldest first.
void RunHistoryCommand(Session& session, const DrillArgs& a) {
  auto s = RepoSession::Open(session, a.repo);
  if (!s.ok()) return EndCommand(session, s.status());
  if (!s->config()) return EndCommand(session, InvalidArgument("drill --history needs the node's config (--config)"));
  const std::string node_id = s->config()->node.id;
  EndCommand(
      session, ReadDrillHistory(s->repo(), node_id), {},
      [&](const DrillHistory& h) { return HistoryJson(node_id, h); },
      [&](const DrillHistory& h) { return HistoryText(node_id, h); });
}

}  // namespace

void SetUpDrillCommand(CLI::App& parent, Session& session) {
  auto* cmd = parent.add_subcommand(
      "drill",
      "Rehearse the recovery of this node without touching production: restore a recovery point (latest, --to-height,\n"
      "or --random-within AGE) into a sandbox directory, proven, with the block archive replayed; start a sandbox\n"
      "ailee-node on a free loopback port that follows the leader and has no signer key (it can never sign); wait\n"
      "until it holds the network's tip at drill start; prove its block and state root there, and the anchor\n"
      "commitment, equal the production node's. Measures RTO per phase and RPO (blocks and seconds against the tip),\n"
      "stores the report in the repository (kind drill-report) and writes it as HTML with --html. The sandbox node\n"
      "is stopped and the sandbox removed on every way out, also on SIGINT/SIGTERM.");
  auto a = std::make_shared<DrillArgs>();
  AddRepoOptions(cmd, a->repo);
  cmd->add_option("--to-height", a->to_height, "drill on the state at this block height (default: latest)");
  cmd->add_option("--random-within", a->random_within, "drill on a uniformly random restorable point no older than AGE (30d, 12h, 90m)");
  cmd->add_option("--seed", a->seed, "seed of --random-within's choice (default: random; the report names it)");
  cmd->add_option("--html", a->html, "write the report as a self-contained HTML page to FILE");
  cmd->add_option("--timeout", a->timeout_s, "seconds the sandbox node may take to start and catch up")->capture_default_str();
  cmd->add_option("--node-binary", a->node_binary, "the ailee-node to run (default: the one beside ailee-cli)");
  cmd->add_option("--sandbox-dir", a->sandbox_dir, "where the sandbox is made (default: beside node.data_dir)");
  cmd->add_option("--leader", a->leader, "URL the sandbox node follows (default: the config's follow URL, else this node)");
  cmd->add_flag("--keep", a->keep, "keep the sandbox directory (the node is stopped) for inspection");
  cmd->add_flag("--keys", a->keys,
                "rehearse the signer key's recovery instead: open its backup, restore it into a scratch directory\n"
                "beside node.data_dir (or in --sandbox-dir), check it is the federation's key, sign a challenge\n"
                "with it (test-signer), shred it; reports the key RTO");
  cmd->add_flag("--to-pkcs11", a->to_pkcs11,
                "with --keys: also import the restored key into a PKCS#11 TEST token, run test-signer through the\n"
                "token and destroy the imported objects again (never the signer's token: signer.pkcs11.token_label\n"
                "is refused)");
  cmd->add_option("--pkcs11-module", a->pkcs11_module, "with --to-pkcs11: the module (default: drill.test_token.module)");
  cmd->add_option("--token-label", a->token_label, "with --to-pkcs11: the test token (default: drill.test_token.token_label)");
  cmd->add_option("--pin-file", a->pin_file,
                  "with --to-pkcs11: file holding the test token's user PIN (default: drill.test_token.pin_file,\n"
                  "else AILEE_PKCS11_PIN or the terminal)");
  cmd->add_option("--id", a->signer_id, "with --keys: the signer (default: the config's signer.id)");
  cmd->add_option("--key-backup", a->key_backup, "with --keys: local key backup file or directory")
      ->envname("AILEE_KEY_BACKUP_DIR");
  cmd->add_option("--key-passphrase-file", a->key_pass.passphrase_file,
                  "with --keys: file or pipe holding the backup passphrase (or AILEE_KEY_PASSPHRASE)");
  cmd->add_option("--key-shares", a->key_pass.shares, "with --keys: share files that recombine the backup passphrase");
  cmd->add_flag("--config", a->config_part,
                "rehearse the config's recovery instead: restore this node's newest config snapshot into a scratch\n"
                "directory, validate it (its files as the snapshot holds them), shred it");
  cmd->add_flag("--history", a->history,
                "list this node's drill reports kept in the repository (state, keys and config drills), oldest first");
  cmd->add_option("--secrets-passphrase-file", a->secrets_passphrase_file,
                  "with --config: file holding the secrets passphrase (else $AILEE_SECRETS_PASSPHRASE; without one\n"
                  "secrets are not restored)");
  cmd->callback([&session, a] {
    if (Status flags = CheckFlags(*a); !flags.ok()) return EndCommand(session, flags);
    if (a->history) return RunHistoryCommand(session, *a);
    if (a->keys) return RunKeyDrillCommand(session, *a);
    if (a->config_part) return RunConfigDrillCommand(session, *a);
    auto s = RepoSession::Open(session, a->repo);
    if (!s.ok()) return EndCommand(session, s.status());
    if (!s->config()) return EndCommand(session, InvalidArgument("drill needs the node's config (--config)"));
    const auto& cfg = *s->config();
    audit::ScopedAuditOp op(s->audit(), "drill", {{"repository", s->url()}, {"node_id", cfg.node.id}});
    auto o = OptionsOf(session, cfg, *a);
    if (!o.ok()) return EndCommand(session, o.status(), op);
    InterruptFlag interrupt;
    o->cancelled = [&interrupt] { return interrupt.raised(); };
    const GlobalOptions& g = session.global();
    if (!g.quiet && !g.json) o->on_phase = [](const std::string& phase) { std::fprintf(stderr, "drill: %s\n", phase.c_str()); };
    auto r = ops::RunDrill(s->repo(), *o);
    if (!r.ok()) return EndCommand(session, r.status(), op);
    session.AddMetrics(ops::metrics::DrillSamples(*r));
    const ops::RecordedDrillReport recorded = ops::RecordDrillReport(s->repo(), *r, a->html);
    const KeptReport kept{recorded.id, recorded.status};
    if (!kept.id.empty()) op.Touch(kept.id);
    EndWithVerdict(
        session, VerdictOf(r->verdict, kept), op,
        [&] {
          auto j = ops::DrillReportJson(*r);
          AddKept(j, kept);
          j["html"] = a->html;
          return j;
        },
        [&] { return DrillText(*r, kept, a->html); });
  });
}

}  // namespace ailee::cli
