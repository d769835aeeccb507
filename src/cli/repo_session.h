// What every repository command needs: the repository URL, its passphrase
// (file, environment or prompt; never the command line), the open
// repository, and the audit log.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "base/status.h"
#include "cli/command.h"
#include "cli/session.h"
#include "config/config.h"
#include "crypto/secure.h"
#include "repo/repository.h"

namespace ailee::cli {

inline constexpr const char* kRepoPassphraseEnv = "AILEE_REPO_PASSPHRASE";
inline constexpr const char* kNewRepoPassphraseEnv = "AILEE_NEW_REPO_PASSPHRASE";

struct RepoArgs {
  std::string repo_url;         // --repo; default: config backup.repository
  std::string passphrase_file;  // --passphrase-file; default: config backup.passphrase_file
};

// Adds --repo and --passphrase-file to a subcommand.
void AddRepoOptions(CLI::App* cmd, RepoArgs& args);

class RepoSession {
 public:
  // Resolves URL and passphrase, opens the repository and takes the run's
  // audit log from the session (Session::audit_log). A missing repository
  // and a wrong passphrase come with their hint.
  static Result<RepoSession> Open(Session& session, const RepoArgs& args);
  // For `repo init`: resolves everything but does not open.
  static Result<RepoSession> Prepare(Session& session, const RepoArgs& args);

  // `repo init`: creates the repository at url() with the passphrase,
  // records audit heads in it from then on (RecordAuditHeads); its id.
  Result<std::string> InitRepository(const repo::InitOptions& options);

  const std::string& url() const { return url_; }
  repo::Repository& repo() { return *repo_; }
  std::unique_ptr<repo::Repository>& repo_ptr() { return repo_; }
  audit::AuditLog* audit() { return audit_; }
  const std::optional<config::NodeConfig>& config() const { return config_; }
  const crypto::SecureBytes& passphrase() const { return passphrase_; }
  // "seq:hash" of the audit log, or "" without one.
  std::string AuditHead() const;
  // From now on, every line appended to audit() records the new head in the
  // repository (audit/head_store.h); Open does this. A head that cannot be
  // recorded is a warning on stderr, not a failure.
  void RecordAuditHeads();

 private:
  std::string url_;
  crypto::SecureBytes passphrase_;
  std::unique_ptr<repo::Repository> repo_;
  audit::AuditLog* audit_ = nullptr;  // the session's
  std::optional<config::NodeConfig> config_;
  std::string passphrase_source_;  // for messages: "the file F", "$AILEE_REPO_PASSPHRASE", "the prompt"

  // Resolves URL and passphrase from the arguments and the config.
  static Result<RepoSession> Resolve(const GlobalOptions& g, const Result<config::NodeConfig>& cfg,
                                     const RepoArgs& args);
  Status OpenRepository();
};

// A new passphrase (repo init, key add): AILEE_NEW_REPO_PASSPHRASE, the
// given file, or a prompt asked twice.
Result<crypto::SecureBytes> ReadNewPassphrase(const std::string& file);

}  // namespace ailee::cli
