// The node configuration: one YAML file (docs/config.md) read into a
// NodeConfig and validated as a whole.
//
// Validation never stops at the first problem: ValidateConfigFile returns
// every problem it finds (schema, ranges, cross-field rules and the files the
// config points to), each with a field path such as
// "federation.signers[1].public_key_file", so an operator can fix a config in
// one pass. LoadConfig runs the same checks and fails if any problem exists.
//
// Relative paths in the file resolve against the directory of the config file;
// every path in a loaded NodeConfig is absolute.
//
// Thread safety: the functions are pure apart from reading files; a NodeConfig
// is a plain value.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/asymmetric.h"

namespace ailee::config {

inline constexpr std::string_view kDefaultConfigPath = "/etc/ailee/config.yaml";
inline constexpr std::string_view kDefaultListen = "127.0.0.1:8545";
inline constexpr std::string_view kDefaultAuditLog = "/var/log/ailee/audit.log";
inline constexpr std::string_view kDefaultRepository = "file:///var/backups/ailee/repo";

// One thing wrong with a config. `field` is a dotted path with 0-based list
// indices ("" for the document itself); `expected` and `found` are short
// human phrases; `message` adds context (may be empty).
struct ConfigProblem {
  std::string field;
  std::string expected;
  std::string found;
  std::string message;

  // "<field>: expected <expected>, found <found> (<message>)".
  std::string ToString() const;
};

struct NodeSection {
  std::string id;        // [a-z0-9-]+
  std::string data_dir;  // absolute
  std::string listen = std::string(kDefaultListen);  // as written, "host:port"
  std::string listen_host = "127.0.0.1";             // without brackets for IPv6
  int listen_port = 8545;                            // 0 = pick a free port
  bool allow_public = false;                         // permits a non-loopback listen
  int64_t block_interval_ms = 1000;
  int64_t commitment_interval = 100;
  // Transactions waiting for a block; past it POST /v1/tx answers
  // RESOURCE_EXHAUSTED and clients retry after the next block.
  int64_t mempool_capacity = 200000;
  std::string admin_token_file;  // absolute; default <data_dir>/admin.token
};

// A member of the federation. Exactly one of public_key_file and
// public_key_pem is set in the YAML; after a successful load public_key_pem
// holds the PEM either way.
struct FederationSigner {
  std::string id;
  std::string public_key_file;  // absolute, or empty when given inline
  std::string public_key_pem;
  std::string fingerprint;      // lowercase hex as written, or empty
};

struct FederationSection {
  int64_t threshold = 0;
  std::vector<FederationSigner> signers;
};

struct Pkcs11KeyRef {
  std::string module;  // absolute path of the PKCS#11 module (.so)
  std::string token_label;
  std::string key_label;
  std::string pin_file;  // absolute, or empty
  // The signing fence (keys/signing_fence.h): absolute, or empty for the
  // default <config dir>/pkcs11-<token>-<key>.fence, which the shipped unit
  // cannot write (/etc/ailee is read-only for the node under ProtectSystem).
  std::string fence_file;
};

// This node's own federation key: a PEM file or a PKCS#11 reference.
struct SignerSection {
  std::string id;        // a genesis federation.signers[].id, or a signer a later epoch added
  std::string key_file;  // absolute, or empty when pkcs11 is set
  std::optional<Pkcs11KeyRef> pkcs11;
};

struct LoggingSection {
  std::string log_file;  // absolute, or empty for stderr
  std::string audit_log = std::string(kDefaultAuditLog);
  std::string level = "info";  // trace|debug|info|warn|error
};

// Prometheus metrics of the scheduled jobs (docs/metrics.md).
struct MonitoringSection {
  std::string textfile_dir;  // absolute; node_exporter's textfile collector dir; empty: no metrics
};

// Object storage (s3:// repositories and checkpoints). Nothing secret: keys
// come from the AWS environment or the credentials_file (docs/s3.md).
struct S3Section {
  std::string endpoint;          // "http://127.0.0.1:9000"; empty: AWS
  std::string region;            // empty: AWS_REGION or us-east-1
  std::optional<bool> path_style;
  std::string profile;
  std::string credentials_file;  // absolute; AWS shared-credentials format, 0600
  std::string storage_class;     // every object, e.g. STANDARD_IA
  std::map<std::string, std::string> storage_classes;  // key prefix -> class ("data/": GLACIER_IR)
  std::string object_lock_mode;  // "", GOVERNANCE, COMPLIANCE
  int64_t retention_days = 0;
  std::vector<std::string> lock_prefixes;  // empty: every object
  int64_t multipart_threshold_mib = 64;  // above the 32 MiB packs (s3_options.h says why)
  int64_t part_size_mib = 8;
  int64_t parallel_parts = 4;
  int64_t parallel_uploads = 4;  // packs a backup stores at once
  int64_t retry_max_attempts = 8;
  int64_t retry_budget_s = 60;
};

// backup.compression / --compression: "auto" (zstd level 2, tuned for
// RocksDB's LZ4 blocks), "fast" (level 1), "max" (level 9), "off", or a zstd
// level 1-19. Returns the level (0 for off), or nothing for anything else.
inline constexpr int kCompressionAuto = 2;
std::optional<int> ParseCompression(std::string_view text);

struct BackupSection {
  std::string repository = std::string(kDefaultRepository);  // URL
  std::string passphrase_file;                 // absolute, or empty
  std::vector<std::string> config_paths;       // default: the config file's directory
  std::vector<std::string> secret_paths;       // files stored passphrase-protected
  std::vector<std::string> env_files;
  std::vector<std::string> compose_files;
  std::vector<std::string> proxy_configs;
  int64_t min_copies = 1;                      // repositories that must hold each snapshot
  std::vector<std::string> secondary_repositories;  // URLs
  int compression_level = kCompressionAuto;    // zstd level of state backups; 0: off
  S3Section s3;
};

struct NodeConfig {
  std::string config_path;  // absolute path of the file this came from
  std::string config_dir;   // its directory: the base for relative paths
  NodeSection node;
  FederationSection federation;
  std::optional<SignerSection> signer;  // absent on pure followers
  std::string follow;                   // leader URL, empty unless follower
  std::vector<std::string> peers;       // URLs
  LoggingSection logging;
  BackupSection backup;
  MonitoringSection monitoring;

  // The federation entry with this id, or nullptr.
  const FederationSigner* FindFederationSigner(std::string_view id) const;
  bool is_follower() const { return !follow.empty(); }
};

// A config parsed from YAML text plus every problem found. `config` holds
// whatever could be read (defaults elsewhere) even when problems exist.
struct ConfigAnalysis {
  NodeConfig config;
  std::vector<ConfigProblem> problems;
};

// Parses and checks `yaml_text` as if it were the file `config_path` (which
// need not exist; it anchors relative paths). Referenced key files are read.
ConfigAnalysis AnalyzeConfig(std::string_view yaml_text, const std::string& config_path);

// Every problem in the config file at `path` (an unreadable file is one
// problem with field ""). Empty means the config is valid.
std::vector<ConfigProblem> ValidateConfigFile(const std::string& path);

// Loads and validates `path`. Fails with kNotFound when the file is missing
// and kInvalidArgument, listing every problem one per line, when invalid.
Result<NodeConfig> LoadConfig(const std::string& path);

// All problems as "field: expected x, found y" lines joined with '\n'.
std::string FormatProblems(const std::vector<ConfigProblem>& problems);

// One line for operators: "node node-1, listen 127.0.0.1:8545, ...".
std::string Summary(const NodeConfig& config);

// The federation's public keys by signer id (re-read from the files).
Result<std::map<std::string, crypto::PublicKey>> FederationKeys(const NodeConfig& config);

// Loads this node's signer private key from signer.key_file and checks it is
// the key the genesis federation lists for signer.id (another id: the node
// checks it against the chain's epochs). kFailedPrecondition when the config
// has no signer or the signer is PKCS#11 (the keys layer handles it).
// The PEM text is held only in secure memory and never logged.
Result<crypto::PrivateKey> LoadSignerKey(const NodeConfig& config);

}  // namespace ailee::config
