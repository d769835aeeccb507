// The YAML schema of docs/config.md, section by section.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include "config/parse.h"

#include "config/drill_parse.h"

namespace ailee::config::internal {
namespace {

bool IsIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

constexpr const char* kIdExpected = "an id of 1-64 characters from [a-z0-9-]";

bool IsLoopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4 {};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return false;
}

bool IsHostName(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  in6_addr v6 {};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return true;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

// "host:port" or "[v6]:port". Port 0 asks the OS for a free port.
bool SplitHostPort(const std::string& s, std::string* host, int* port) {
  size_t colon;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    *host = s.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    *host = s.substr(0, colon);
    if (host->find(':') != std::string::npos) return false;  // bare IPv6 needs brackets
  }
  std::string p = s.substr(colon + 1);
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), ::isdigit)) return false;
  *port = std::stoi(p);
  return *port <= 65535 && IsHostName(*host);
}

// http(s)://host:port[/path]; the port is required so no default is guessed.
bool IsHttpUrl(const std::string& url) {
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else {
    return false;
  }
  std::string authority = rest.substr(0, rest.find('/'));
  std::string host;
  int port = 0;
  return SplitHostPort(authority, &host, &port) && port > 0;
}

// A repository URL "scheme://..." or a local path, which becomes file://.
std::optional<std::string> RepositoryUrl(const std::string& value, const std::string& base_dir) {
  size_t sep = value.find("://");
  if (sep == std::string::npos) return "file://" + ResolvePath(base_dir, value);
  std::string scheme = value.substr(0, sep);
  bool scheme_ok = !scheme.empty() && std::isalpha(static_cast<unsigned char>(scheme[0])) &&
                   std::all_of(scheme.begin(), scheme.end(), [](char c) {
                     return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
                   });
  if (!scheme_ok || sep + 3 >= value.size()) return std::nullopt;
  return value;
}

void ParseNode(const YAML::Node& root, NodeConfig* cfg, FieldReader& r) {
  auto node = r.Map(root, "", "node", /*required=*/true);
  if (!node) return;
  const std::string p = "node";
  r.CheckKnownKeys(*node, p, {"id", "data_dir", "listen", "allow_public", "block_interval_ms",
                              "commitment_interval", "mempool_capacity", "admin_token_file"});
  NodeSection& n = cfg->node;
  if (auto id = r.String(*node, p, "id", true)) {
    if (IsIdentifier(*id)) n.id = *id;
    else r.Problem("node.id", kIdExpected, "\"" + *id + "\"");
  }
  if (auto dir = r.String(*node, p, "data_dir", true)) n.data_dir = ResolvePath(cfg->config_dir, *dir);
  if (auto b = r.Bool(*node, p, "allow_public")) n.allow_public = *b;
  if (auto listen = r.String(*node, p, "listen", false)) {
    std::string host;
    int port = 0;
    if (!SplitHostPort(*listen, &host, &port)) {
      r.Problem("node.listen", "host:port (IPv6 as [addr]:port, port 0..65535)", "\"" + *listen + "\"");
    } else if (!IsLoopback(host) && !n.allow_public) {
      r.Problem("node.listen", "a loopback address (127.0.0.0/8, ::1, localhost)", "\"" + *listen + "\"",
                "set node.allow_public: true to listen on other interfaces");
    } else {
      n.listen = *listen;
      n.listen_host = host;
      n.listen_port = port;
    }
  }
  if (auto v = r.Int(*node, p, "block_interval_ms", 10, 600000, false)) n.block_interval_ms = *v;
  if (auto v = r.Int(*node, p, "commitment_interval", 1, 1000000, false)) n.commitment_interval = *v;
  if (auto v = r.Int(*node, p, "mempool_capacity", 1, 10000000, false)) n.mempool_capacity = *v;
  if (auto f = r.String(*node, p, "admin_token_file", false)) {
    n.admin_token_file = ResolvePath(cfg->config_dir, *f);
  } else if (!n.data_dir.empty()) {
    n.admin_token_file = n.data_dir + "/admin.token";
  }
}

void ParseFederation(const YAML::Node& root, NodeConfig* cfg, FieldReader& r) {
  auto fed = r.Map(root, "", "federation", /*required=*/true);
  if (!fed) return;
  const std::string p = "federation";
  r.CheckKnownKeys(*fed, p, {"threshold", "signers"});
  auto threshold = r.Int(*fed, p, "threshold", 1, std::numeric_limits<int32_t>::max(), true);
  auto list = r.List(*fed, p, "signers", true);
  if (list && list->size() == 0) r.Problem("federation.signers", "at least one signer", "an empty list");
  std::set<std::string> ids;
  for (size_t i = 0; list && i < list->size(); ++i) {
    const std::string sp = IndexPath("federation.signers", i);
    YAML::Node item = (*list)[i];
    if (!item.IsMap()) {
      r.Problem(sp, "a map with id and public_key_file or public_key", Describe(item));
      continue;
    }
    r.CheckKnownKeys(item, sp, {"id", "public_key_file", "public_key", "fingerprint"});
    FederationSigner s;
    if (auto id = r.String(item, sp, "id", true)) {
      if (!IsIdentifier(*id)) {
        r.Problem(sp + ".id", kIdExpected, "\"" + *id + "\"");
      } else if (!ids.insert(*id).second) {
        r.Problem(sp + ".id", "an id not used by another signer", "\"" + *id + "\"", "duplicate signer id");
      } else {
        s.id = *id;
      }
    }
    auto file = r.String(item, sp, "public_key_file", false);
    auto inline_pem = r.String(item, sp, "public_key", false);
    bool has_file = FieldReader::Has(item, "public_key_file");
    bool has_inline = FieldReader::Has(item, "public_key");
    if (has_file && has_inline) {
      r.Problem(sp, "exactly one of public_key_file and public_key", "both");
    } else if (!has_file && !has_inline) {
      r.Problem(sp + ".public_key_file", "a PEM file path (or an inline public_key)", "nothing",
                "every signer needs a public key");
    }
    if (file && !has_inline) s.public_key_file = ResolvePath(cfg->config_dir, *file);
    if (inline_pem && !has_file) s.public_key_pem = *inline_pem;
    if (auto fp = r.String(item, sp, "fingerprint", false)) {
      std::string lower = *fp;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower.size() != 64 || !std::all_of(lower.begin(), lower.end(), ::isxdigit)) {
        r.Problem(sp + ".fingerprint", "64 hex digits (SHA-256 of the DER public key)", "\"" + *fp + "\"");
      } else {
        s.fingerprint = lower;
      }
    }
    if (!s.public_key_file.empty() || !s.public_key_pem.empty()) CheckFederationKey(&s, sp, r);
    cfg->federation.signers.push_back(std::move(s));
  }
  if (threshold) {
    cfg->federation.threshold = *threshold;
    if (list && list->size() > 0 && static_cast<size_t>(*threshold) > list->size()) {
      r.Problem("federation.threshold",
                "at most " + std::to_string(list->size()) + " (the number of signers)",
                std::to_string(*threshold));
    }
  }
  CheckDistinctKeys(cfg->federation, r);
}

void ParseSigner(const YAML::Node& root, NodeConfig* cfg, FieldReader& r) {
  auto sig = r.Map(root, "", "signer", /*required=*/false);
  if (!sig) {
    if (!FieldReader::Has(root, "signer") && cfg->follow.empty()) {
      r.Problem("signer", "a signer section (required unless follow is set)", "nothing",
                "a block-producing node signs with its federation key");
    }
    return;
  }
  const std::string p = "signer";
  r.CheckKnownKeys(*sig, p, {"id", "key_file", "pkcs11"});
  SignerSection s;
  if (auto id = r.String(*sig, p, "id", true)) {
    // An id outside the genesis federation may be a signer a later epoch
    // added (the chain carries those, not the config): accepted here when
    // its key loads (a key file, checked below, or a PKCS#11 token); the
    // node checks it against the chain's epoch at startup.
    s.id = *id;
  }
  bool has_file = FieldReader::Has(*sig, "key_file");
  bool has_pkcs11 = FieldReader::Has(*sig, "pkcs11");
  if (has_file && has_pkcs11) r.Problem(p, "exactly one of key_file and pkcs11", "both");
  if (!has_file && !has_pkcs11) {
    r.Problem("signer.key_file", "a PEM private key path (or a pkcs11 section)", "nothing");
  }
  if (auto f = r.String(*sig, p, "key_file", false)) s.key_file = ResolvePath(cfg->config_dir, *f);
  if (auto pk = r.Map(*sig, p, "pkcs11", false)) {
    const std::string pp = "signer.pkcs11";
    r.CheckKnownKeys(*pk, pp, {"module", "token_label", "key_label", "pin_file", "fence_file"});
    Pkcs11KeyRef ref;
    if (auto m = r.String(*pk, pp, "module", true)) ref.module = ResolvePath(cfg->config_dir, *m);
    if (auto t = r.String(*pk, pp, "token_label", true)) ref.token_label = *t;
    if (auto k = r.String(*pk, pp, "key_label", true)) ref.key_label = *k;
    if (auto pin = r.String(*pk, pp, "pin_file", false)) ref.pin_file = ResolvePath(cfg->config_dir, *pin);
    if (auto fence = r.String(*pk, pp, "fence_file", false)) ref.fence_file = ResolvePath(cfg->config_dir, *fence);
    s.pkcs11 = ref;
  }
  if (!(has_file && has_pkcs11)) CheckSignerKey(*cfg, s, r);
  cfg->signer = std::move(s);
}

void ParseFollowAndPeers(const YAML::Node& root, NodeConfig* cfg, FieldReader& r) {
  if (auto f = r.String(root, "", "follow", false)) {
    if (IsHttpUrl(*f)) cfg->follow = *f;
    else r.Problem("follow", "a leader URL like http://127.0.0.1:8545", "\"" + *f + "\"");
  }
  auto list = r.List(root, "", "peers", false);
  for (size_t i = 0; list && i < list->size(); ++i) {
    YAML::Node item = (*list)[i];
    if (item.IsScalar() && IsHttpUrl(item.Scalar())) {
      cfg->peers.push_back(item.Scalar());
    } else {
      r.Problem(IndexPath("peers", i), "a URL like http://10.0.0.2:8545", Describe(item));
    }
  }
}

void ParseLogging(const YAML::Node& root, NodeConfig* cfg, FieldReader& r) {
  auto log = r.Map(root, "", "logging", false);
  if (!log) {
    cfg->logging.audit_log = ResolvePath(cfg->config_dir, cfg->logging.audit_log);
    return;
  }
  const std::string p = "logging";
  r.CheckKnownKeys(*log, p, {"log_file", "audit_log", "level"});
  if (auto f = r.String(*log, p, "log_file", false)) cfg->logging.log_file = ResolvePath(cfg->config_dir, *f);
  if (auto f = r.String(*log, p, "audit_log", false)) cfg->logging.audit_log = ResolvePath(cfg->config_dir, *f);
  if (auto lv = r.String(*log, p, "level", false)) {
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
    if (kLevels.count(*lv)) cfg->logging.level = *lv;
    else r.Problem("logging.level", "one of trace, debug, info, warn, error", "\"" + *lv + "\"");
  }
}

void ParseMonitoring(const YAML::Node& root, NodeConfig* cfg, FieldReader& r) {
  auto mon = r.Map(root, "", "monitoring", false);
  if (!mon) return;
  const std::string p = "monitoring";
  r.CheckKnownKeys(*mon, p, {"textfile_dir"});
  auto dir = r.String(*mon, p, "textfile_dir", false);
  if (!dir) return;
  cfg->monitoring.textfile_dir = ResolvePath(cfg->config_dir, *dir);
  // Checked with the config (validate-config names it), because a job whose
  // metrics cannot be written only warns.
  CheckDirectory(cfg->monitoring.textfile_dir, "monitoring.textfile_dir", r);
}

void ParseS3(const YAML::Node& backup, NodeConfig* cfg, FieldReader& r) {
  S3Section& s = cfg->backup.s3;
  auto s3 = r.Map(backup, "backup", "s3", false);
  if (!s3) return;
  const std::string p = "backup.s3";
  r.CheckKnownKeys(*s3, p, {"endpoint", "region", "path_style", "profile", "credentials_file", "storage_class",
                            "storage_classes", "object_lock", "multipart_threshold_mib", "part_size_mib",
                            "parallel_parts", "parallel_uploads", "retry"});
  if (auto v = r.String(*s3, p, "endpoint", false)) {
    if (v->rfind("http://", 0) == 0 || v->rfind("https://", 0) == 0) s.endpoint = *v;
    else r.Problem(p + ".endpoint", "an http:// or https:// URL", "\"" + *v + "\"");
  }
  if (auto v = r.String(*s3, p, "region", false)) s.region = *v;
  if (auto v = r.Bool(*s3, p, "path_style")) s.path_style = *v;
  if (auto v = r.String(*s3, p, "profile", false)) s.profile = *v;
  if (auto v = r.String(*s3, p, "credentials_file", false)) {
    s.credentials_file = ResolvePath(cfg->config_dir, *v);
    CheckSecretFile(s.credentials_file, p + ".credentials_file", r);
  }
  if (auto v = r.String(*s3, p, "storage_class", false)) s.storage_class = *v;
  if (auto classes = r.Map(*s3, p, "storage_classes", false)) {
    for (const auto& kv : *classes) {
      std::string key = kv.first.Scalar();
      if (kv.second.IsScalar() && !kv.second.Scalar().empty()) s.storage_classes[key] = kv.second.Scalar();
      else r.Problem(p + ".storage_classes." + key, "a storage class name such as STANDARD_IA", Describe(kv.second));
    }
  }
  if (auto lock = r.Map(*s3, p, "object_lock", false)) {
    const std::string lp = p + ".object_lock";
    r.CheckKnownKeys(*lock, lp, {"mode", "retention_days", "prefixes"});
    if (auto m = r.String(*lock, lp, "mode", true)) {
      if (*m == "GOVERNANCE" || *m == "COMPLIANCE") s.object_lock_mode = *m;
      else r.Problem(lp + ".mode", "GOVERNANCE or COMPLIANCE", "\"" + *m + "\"");
    }
    if (auto d = r.Int(*lock, lp, "retention_days", 1, 36500, true)) s.retention_days = *d;
    if (auto l = r.StringList(*lock, lp, "prefixes")) s.lock_prefixes = *l;
  }
  if (auto v = r.Int(*s3, p, "multipart_threshold_mib", 5, 5120, false)) s.multipart_threshold_mib = *v;
  if (auto v = r.Int(*s3, p, "part_size_mib", 5, 5120, false)) s.part_size_mib = *v;
  if (auto v = r.Int(*s3, p, "parallel_parts", 1, 64, false)) s.parallel_parts = *v;
  if (auto v = r.Int(*s3, p, "parallel_uploads", 1, 64, false)) s.parallel_uploads = *v;
  if (auto retry = r.Map(*s3, p, "retry", false)) {
    const std::string rp = p + ".retry";
    r.CheckKnownKeys(*retry, rp, {"max_attempts", "budget_s"});
    if (auto v = r.Int(*retry, rp, "max_attempts", 1, 100, false)) s.retry_max_attempts = *v;
    if (auto v = r.Int(*retry, rp, "budget_s", 1, 86400, false)) s.retry_budget_s = *v;
  }
}

void ParseBackup(const YAML::Node& root, NodeConfig* cfg, FieldReader& r) {
  BackupSection& b = cfg->backup;
  b.config_paths = {cfg->config_dir};
  auto bk = r.Map(root, "", "backup", false);
  if (!bk) return;
  const std::string p = "backup";
  r.CheckKnownKeys(*bk, p, {"repository", "passphrase_file", "config_paths", "secret_paths", "env_files",
                            "compose_files", "proxy_configs", "min_copies", "secondary_repositories", "s3",
                            "compression"});
  if (auto repo = r.String(*bk, p, "repository", false)) {
    if (auto url = RepositoryUrl(*repo, cfg->config_dir)) b.repository = *url;
    else r.Problem("backup.repository", "a URL like file:///var/backups/ailee/repo or s3://bucket/prefix",
                   "\"" + *repo + "\"");
  }
  if (auto f = r.String(*bk, p, "passphrase_file", false)) {
    b.passphrase_file = ResolvePath(cfg->config_dir, *f);
    CheckSecretFile(b.passphrase_file, "backup.passphrase_file", r);
  }
  auto paths = [&](std::string_view key, std::vector<std::string>* out) {
    if (auto list = r.StringList(*bk, p, key)) {
      out->clear();
      for (const auto& s : *list) out->push_back(ResolvePath(cfg->config_dir, s));
    }
  };
  paths("config_paths", &b.config_paths);
  paths("secret_paths", &b.secret_paths);
  paths("env_files", &b.env_files);
  paths("compose_files", &b.compose_files);
  paths("proxy_configs", &b.proxy_configs);
  auto secondary = r.List(*bk, p, "secondary_repositories", false);
  for (size_t i = 0; secondary && i < secondary->size(); ++i) {
    YAML::Node item = (*secondary)[i];
    std::optional<std::string> url;
    if (item.IsScalar() && !item.Scalar().empty()) url = RepositoryUrl(item.Scalar(), cfg->config_dir);
    if (url) b.secondary_repositories.push_back(*url);
    else r.Problem(IndexPath("backup.secondary_repositories", i), "a repository URL", Describe(item));
  }
  if (auto c = r.String(*bk, p, "compression", false)) {
    if (auto level = ParseCompression(*c)) b.compression_level = *level;
    else r.Problem("backup.compression", "auto, fast, max, off, or a zstd level 1-19", "\"" + *c + "\"");
  }
  ParseS3(*bk, cfg, r);
  if (auto m = r.Int(*bk, p, "min_copies", 1, 16, false)) {
    b.min_copies = *m;
    size_t available = 1 + (secondary ? secondary->size() : 0);
    if (static_cast<size_t>(*m) > available) {
      r.Problem("backup.min_copies",
                "at most " + std::to_string(available) + " (repository + secondary_repositories)",
                std::to_string(*m));
    }
  }
}

}  // namespace

void ParseDocument(const YAML::Node& root, NodeConfig* cfg, FieldReader& r) {
  if (!root.IsMap()) {
    r.Problem("", "a YAML map with node and federation sections", Describe(root));
    return;
  }
  r.CheckKnownKeys(root, "", {"node", "federation", "signer", "follow", "peers", "logging", "backup", "monitoring", "drill"});
  ParseNode(root, cfg, r);
  ParseFollowAndPeers(root, cfg, r);
  ParseFederation(root, cfg, r);
  ParseSigner(root, cfg, r);
  ParseLogging(root, cfg, r);
  ParseBackup(root, cfg, r);
  ParseMonitoring(root, cfg, r);
  DrillSection drill;  // read again by LoadDrillSection when a drill runs
  ParseDrill(root, cfg->config_dir, r, &drill);
}

}  // namespace ailee::config::internal
