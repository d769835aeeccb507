// ailee-cli audit verify|show: check the audit log's hash chain (and
// signatures) naming the first bad line, against the newest head the
// configured repository recorded (audit/head_store.h) or --head, and list
// records by time and operation. FILE defaults to logging.audit_log of the
// node config.
#include <cstdlib>
#include <iostream>
#include <vector>

#include "audit/head_store.h"
#include "audit/segment_file.h"
#include "audit/verify.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/hint.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/repo_session.h"
#include "config/config.h"
#include "keys/secret_input.h"
#include "repo/repository.h"

namespace ailee::cli {
namespace {

struct AuditOptions {
  std::string file;                 // show
  std::vector<std::string> paths;   // verify: files and directories of segments
  std::string public_key_file;
  std::string head;  // "SEQ:HASH"
  std::string since;
  std::string until;
  std::string operation;
  RepoArgs repo;  // where the recorded head is read (default: the config's backup.repository)
};

// The head verify compares with when no --head is given: the newest one the
// repository recorded for this log, or why there is none.
struct RecordedHead {
  std::optional<audit::AuditHead> head;
  std::string source;  // repository URL
  std::string note;    // why no head was compared (when `head` is empty)
};

// Never prompts: verification runs from cron. kDataLoss only when the
// repository holds a damaged or forged head; anything else becomes a note.
Result<RecordedHead> RecordedHeadFor(const std::string& log_path, const AuditOptions& o, Session& s) {
  RecordedHead out;
  const auto& cfg = s.config();
  std::string url = o.repo.repo_url;
  if (url.empty() && cfg.ok()) url = cfg->backup.repository;
  if (url.empty()) {
    out.note = cfg.ok() ? "no repository configured (backup.repository) or given (--repo)"
                        : "no repository given (--repo) and the config did not load (" + cfg.status().message() + ")";
    return out;
  }
  out.source = url;
  keys::SecretSource src;
  src.file = o.repo.passphrase_file;
  if (src.file.empty() && !std::getenv(kRepoPassphraseEnv) && cfg.ok()) src.file = cfg->backup.passphrase_file;
  src.env = kRepoPassphraseEnv;
  src.allow_tty = false;
  auto pass = keys::ReadSecret(src);
  if (!pass.ok()) {
    out.note = "no repository passphrase for " + url + " (--passphrase-file, $" + std::string(kRepoPassphraseEnv) +
               " or backup.passphrase_file): " + pass.status().message();
    return out;
  }
  auto store = storage::OpenObjectStore(url);
  if (!store.ok()) {
    out.note = store.status().message();
    return out;
  }
  auto repo = repo::Repository::Open(*store, pass->view());
  if (!repo.ok()) {
    out.note = "repository " + url + " not readable: " + repo.status().message();
    return out;
  }
  auto newest = audit::NewestAuditHead(**store, (*repo)->master_key().data_key, audit::Origin::Current().host, log_path);
  if (!newest.ok()) {
    if (newest.status().code() == StatusCode::kDataLoss) return newest.status();
    out.note = "reading the recorded head from " + url + ": " + newest.status().message();
    return out;
  }
  if (!newest->has_value()) {
    out.note = "no head of this log (" + audit::AbsoluteLogPath(log_path) + " on this host) recorded in " + url + " yet";
    return out;
  }
  out.head = (*newest)->head;
  return out;
}

// The log named on the command line (FILE, else --audit-log), else the
// config's logging.audit_log, else the default log when there is no config.
// Only that field has to be valid: an audit trail is needed most when the
// rest of the config is broken.
Result<std::string> LogToRead(const AuditOptions& o, const GlobalOptions& g) {
  if (!o.file.empty()) return o.file;
  if (!g.audit_log.empty()) return g.audit_log;
  auto text = fs::ReadFile(g.config_path);
  if (!text.ok() && !g.config_given && text.status().code() == StatusCode::kNotFound) {
    return std::string(config::kDefaultAuditLog);  // where commands run without a config are audited
  }
  if (!text.ok()) {
    return InvalidArgument("no audit log FILE given and the config " + g.config_path +
                           " is not readable (" + text.status().message() + ")");
  }
  config::ConfigAnalysis a = config::AnalyzeConfig(*text, g.config_path);
  for (const auto& p : a.problems) {
    if (p.field.empty() || p.field.rfind("logging", 0) == 0) {
      return InvalidArgument("no audit log FILE given and the config's logging section is invalid: " +
                             p.ToString());
    }
  }
  return a.config.logging.audit_log;
}

Result<int64_t> ParseTime(const std::string& flag, const std::string& text) {
  int64_t t = 0;
  if (!ParseUtc(text, &t)) {
    return InvalidArgument(flag + ": expected a UTC time like 2026-11-26 or 2026-11-26T13:32:11Z, found \"" +
                           text + "\"");
  }
  return t;
}

Result<audit::AuditHead> ParseHead(const std::string& text) {
  size_t colon = text.find(':');
  audit::AuditHead head;
  if (colon == std::string::npos || text.size() - colon - 1 != 64) {
    return InvalidArgument("--head: expected SEQ:SHA256HEX, found \"" + text + "\"");
  }
  try {
    head.seq = std::stoull(text.substr(0, colon));
  } catch (const std::exception&) {
    return InvalidArgument("--head: expected a decimal SEQ before ':', found \"" + text + "\"");
  }
  head.hash = text.substr(colon + 1);
  return head;
}

nlohmann::json SegmentsJson(const audit::VerifyReport& r) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& seg : r.segments) {
    list.push_back({{"path", seg.path},
                    {"lines", seg.lines},
                    {"first_seq", seg.first_seq},
                    {"last_seq", seg.last_seq},
                    {"duplicate", seg.duplicate},
                    {"torn_tail_bytes", seg.torn_tail_bytes}});
  }
  return list;
}

nlohmann::json ReportJson(const std::string& path, const audit::VerifyReport& r) {
  return {{"ok", r.ok},
          {"file", path},
          {"lines", r.lines},
          {"head", {{"seq", r.head.seq}, {"hash", r.head.hash}}},
          {"signed_lines", r.signed_lines},
          {"first_bad_line", r.first_bad_line},
          {"problem", r.problem},
          {"torn_tail_bytes", r.torn_tail_bytes},
          {"bad_file", r.bad_file},
          {"first_seq", r.first_seq},
          {"segments", SegmentsJson(r)}};
}

struct AuditVerification {
  std::string path;  // the log (or the one file) verified
  bool chain = false;  // several segments
  audit::VerifyReport report;
  RecordedHead recorded;  // what the tail was compared with
  bool signatures = false;  // every signature required and checked
};

// What verify reads: with no PATH the configured log and its rotations
// beside it; one file as given (as before rotation existed); otherwise the
// files given and the segments of the configured log's name in each
// directory given (e.g. where `logs restore` put the archived ones).
struct VerifyInput {
  std::string log;                    // whose recorded head applies
  std::vector<std::string> segments;  // empty: `log` alone
  bool head_applies = true;           // `log` is among what is verified
};

Result<VerifyInput> VerifyInputOf(const AuditOptions& o, const GlobalOptions& g) {
  VerifyInput in;
  const bool one_file = o.paths.size() == 1 && !fs::IsDirectory(o.paths[0]);
  if (one_file) {
    in.log = o.paths[0];
    return in;
  }
  AuditOptions configured = o;
  configured.file.clear();
  ASSIGN_OR_RETURN(in.log, LogToRead(configured, g));
  const std::string log_name = fs::Basename(in.log);
  std::vector<std::string> given = o.paths;
  if (given.empty()) {
    if (!fs::IsDirectory(fs::Dirname(in.log))) return in;  // reading the log says what is missing
    given.push_back(fs::Dirname(in.log));
  }
  for (const auto& p : given) {
    if (!fs::IsDirectory(p)) {
      in.segments.push_back(p);
      continue;
    }
    ASSIGN_OR_RETURN(auto found, audit::SegmentsIn(p, log_name));
    in.segments.insert(in.segments.end(), found.begin(), found.end());
  }
  const std::string live = audit::AbsoluteLogPath(in.log);
  in.head_applies = false;
  for (const auto& seg : in.segments) in.head_applies = in.head_applies || audit::AbsoluteLogPath(seg) == live;
  if (o.paths.empty() && in.segments.size() <= 1) in.segments.clear();  // never rotated: as before
  if (!o.paths.empty() && in.segments.empty()) {
    std::string where;
    for (const auto& p : o.paths) where += (where.empty() ? "" : ", ") + p;
    return WithHint(NotFound("no segment of " + log_name + " in " + where),
                    "segments are named " + log_name + ", " + log_name + ".N[.gz] or " + log_name +
                        "-DATE[.gz] (restored ones may end in ~HEX); `logs restore` puts archived ones in a directory");
  }
  return in;
}

Result<AuditVerification> VerifyLog(const AuditOptions& o, Session& s) {
  AuditVerification v;
  ASSIGN_OR_RETURN(VerifyInput in, VerifyInputOf(o, s.global()));
  v.path = in.log;
  v.chain = !in.segments.empty();
  audit::VerifyOptions vo;
  if (!o.public_key_file.empty()) {
    ASSIGN_OR_RETURN(std::string pem, fs::ReadFile(o.public_key_file));
    auto key = crypto::PublicKey::FromPem(pem);
    if (!key.ok()) return key.status().WithContext("--public-key " + o.public_key_file);
    vo.public_key = *key;
    v.signatures = true;
  }
  if (!o.head.empty()) {
    ASSIGN_OR_RETURN(vo.expected_head, ParseHead(o.head));
    v.recorded.head = vo.expected_head;
    v.recorded.source = "--head";
  } else if (in.head_applies) {
    ASSIGN_OR_RETURN(v.recorded, RecordedHeadFor(v.path, o, s));
    vo.expected_head = v.recorded.head;
  } else {
    v.recorded.note = "the recorded head is that of " + audit::AbsoluteLogPath(v.path) + ", which is not among the files given";
  }
  if (v.chain) {
    ASSIGN_OR_RETURN(v.report, audit::VerifyAuditSegments(in.segments, vo, fs::Basename(in.log)));
  } else {
    ASSIGN_OR_RETURN(v.report, audit::VerifyAuditLog(v.path, vo));
  }
  return v;
}

Status VerdictOf(const AuditVerification& v) {
  const audit::VerifyReport& r = v.report;
  if (r.ok) return Status::Ok();
  std::string against = v.recorded.head ? "; compared with the head recorded in " + v.recorded.source : "";
  if (v.chain) {
    std::string good = r.lines > 0 ? "seq " + std::to_string(r.first_seq) + ".." + std::to_string(r.head.seq) + " verified"
                                   : "no line before it";
    return DataLoss("audit log " + v.path + " with its segments: " + r.problem + " (" + good + against + ")");
  }
  std::string good = r.first_bad_line > 1 ? "lines 1.." + std::to_string(r.first_bad_line - 1) + " verified"
                                          : "no line before it";
  return DataLoss("audit log " + v.path + ": first bad line " + std::to_string(r.first_bad_line) + ": " + r.problem +
                  " (" + good + against + ")");
}

nlohmann::json VerificationJson(const AuditVerification& v) {
  nlohmann::json doc = ReportJson(v.path, v.report);
  const RecordedHead& rec = v.recorded;
  doc["recorded_head"] = rec.head ? nlohmann::json{{"seq", rec.head->seq}, {"hash", rec.head->hash}, {"source", rec.source}}
                                  : nlohmann::json(nullptr);
  if (!rec.note.empty()) doc["recorded_head_note"] = rec.note;
  return doc;
}

// The OK line (a damaged log says what is wrong in the error instead).
std::string VerificationText(const AuditVerification& v) {
  const audit::VerifyReport& r = v.report;
  if (!r.ok) return "";
  std::string line = "audit log OK: " + v.path + ", " + std::to_string(r.lines) + " line(s), head " +
                     std::to_string(r.head.seq) + ":" + r.head.hash;
  if (v.chain) {
    line += ", across " + std::to_string(r.segments.size()) + " file(s) from seq " + std::to_string(r.first_seq);
  } else if (r.first_seq > 1) {
    line += ", from seq " + std::to_string(r.first_seq) + " (continues a rotated segment not given)";
  }
  if (v.signatures) line += ", all signatures valid";
  if (v.recorded.head) {
    line += "; matches the recorded head (line " + std::to_string(v.recorded.head->seq) + ") from " + v.recorded.source;
  }
  return line;
}

// What a clean verification could not check, on stderr.
void PrintNotes(const AuditVerification& v) {
  if (!v.recorded.head) {
    std::cerr << "note: a truncated tail cannot be detected: not compared with a recorded head (" << v.recorded.note
              << ")" << std::endl;
  }
  if (v.report.first_seq > 1) {
    std::cerr << "note: seq 1.." << v.report.first_seq - 1
              << " are in older segments not verified here (archived ones: `ailee-cli logs restore --since DATE --target DIR`,"
                 " then `ailee-cli audit verify DIR "
              << v.path << "`)" << std::endl;
  }
  if (v.report.torn_tail_bytes > 0) {
    std::cerr << "note: " << v.report.torn_tail_bytes
              << " byte(s) of an interrupted append at the end; the next append removes them and records it"
              << std::endl;
  }
}

Result<std::vector<audit::AuditRecord>> ShowLog(const AuditOptions& o, const GlobalOptions& g) {
  ASSIGN_OR_RETURN(std::string path, LogToRead(o, g));
  audit::AuditFilter filter;
  if (!o.since.empty()) {
    ASSIGN_OR_RETURN(filter.since, ParseTime("--since", o.since));
  }
  if (!o.until.empty()) {
    ASSIGN_OR_RETURN(filter.until, ParseTime("--until", o.until));
  }
  filter.operation = o.operation;
  return audit::ReadAuditLog(path, filter);
}

// ordered_json keeps each record's fields in the order of the log line.
audit::Json RecordsJson(const std::vector<audit::AuditRecord>& records) {
  audit::Json list = audit::Json::array();
  for (const auto& r : records) list.push_back(r.json);
  return list;
}

std::string RecordsText(const std::vector<audit::AuditRecord>& records) {
  std::vector<std::string> lines;
  for (const auto& r : records) {
    const auto& j = r.json;
    std::string line = "#" + std::to_string(r.seq) + " " + r.time + " " + r.operation + " " + r.result;
    if (j.contains("duration_ms")) line += " " + j["duration_ms"].dump() + "ms";
    if (j.contains("user") && j.contains("host")) {
      line += " " + j["user"].get<std::string>() + "@" + j["host"].get<std::string>();
    }
    if (j.contains("message") && !j["message"].get<std::string>().empty()) {
      line += " \"" + j["message"].get<std::string>() + "\"";
    }
    if (j.contains("touched") && !j["touched"].empty()) line += " touched=" + j["touched"].dump();
    lines.push_back(line);
  }
  return Lines(lines);
}

}  // namespace

void SetUpAuditCommand(CLI::App& parent, Session& s) {
  auto opts = std::make_shared<AuditOptions>();
  CLI::App* audit = parent.add_subcommand("audit", "verify and read the hash-chained audit log");
  audit->require_subcommand(1);

  CLI::App* verify = audit->add_subcommand("verify", "check the chain (and signatures); names the first bad line");
  verify->add_option("paths", opts->paths,
                     "audit log FILE (default: logging.audit_log of the config, with its rotations beside it), or\n"
                     "several files and directories of its segments (rotated .N[.gz], -DATE[.gz], restored by\n"
                     "`logs restore`), verified as one chain in seq order");
  verify->add_option("--public-key", opts->public_key_file, "PEM public key: require and check every signature");
  verify->add_option("--head", opts->head,
                     "expected head SEQ:HASH (e.g. from a snapshot); default: the newest head recorded in the\n"
                     "repository (--repo, else backup.repository; passphrase from --passphrase-file,\n"
                     "$AILEE_REPO_PASSPHRASE or backup.passphrase_file, never a prompt)");
  AddRepoOptions(verify, opts->repo);
  verify->callback([opts, &s] {
    auto v = VerifyLog(*opts, s);
    if (!v.ok()) return EndCommand(s, v.status());
    EndWithVerdict(s, VerdictOf(*v), {}, [&] { return VerificationJson(*v); }, [&] { return VerificationText(*v); });
    if (v->report.ok && !s.global().json && !s.global().quiet) PrintNotes(*v);
  });

  CLI::App* show = audit->add_subcommand("show", "list audit records, filtered by time and operation");
  show->add_option("file", opts->file, "audit log (default: logging.audit_log of the config)");
  show->add_option("--since", opts->since, "UTC time, inclusive (2026-11-26 or 2026-11-26T13:00:00Z)");
  show->add_option("--until", opts->until, "UTC time, exclusive");
  show->add_option("--operation", opts->operation, "exact operation, or a prefix ending in '.' (key.)");
  show->add_flag("--json", s.global().json, "print the records as one JSON array");
  show->callback([opts, &s] {
    auto records = ShowLog(*opts, s.global());
    EndCommand(s, records, {}, RecordsJson, RecordsText);
  });
}

}  // namespace ailee::cli
