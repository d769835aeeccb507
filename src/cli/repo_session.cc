#include "cli/repo_session.h"

#include <iostream>

#include "keys/secret_input.h"
#include "storage/object_store.h"

namespace ailee::cli {

void AddRepoOptions(CLI::App* cmd, RepoArgs& args) {
  cmd->add_option("--repo,-r", args.repo_url, "repository URL (file:///path or a path; default: config backup.repository)")
      ->envname("AILEE_REPOSITORY");
  cmd->add_option("--passphrase-file", args.passphrase_file,
                  "file holding the repository passphrase or a key file from `repo key add --key-file`\n"
                  "(else $AILEE_REPO_PASSPHRASE, config backup.passphrase_file, or a prompt)");
}

Result<RepoSession> RepoSession::Prepare(const GlobalOptions& g, const RepoArgs& args) {
  RepoSession s;
  auto cfg = config::LoadConfig(g.config_path);
  if (cfg.ok()) {
    s.config_ = *cfg;
  } else if (g.config_given) {
    return cfg.status().WithContext("config " + g.config_path);
  }
  s.url_ = args.repo_url;
  if (s.url_.empty() && s.config_) s.url_ = s.config_->backup.repository;
  if (s.url_.empty()) return InvalidArgument("--repo: no repository given and no config with backup.repository");
  std::string file = args.passphrase_file;
  if (file.empty() && !std::getenv(kRepoPassphraseEnv) && s.config_) file = s.config_->backup.passphrase_file;
  keys::SecretSource src;
  src.file = file;
  src.env = kRepoPassphraseEnv;
  src.prompt = "Repository passphrase for " + s.url_ + ": ";
  auto pass = keys::ReadSecret(src);
  if (!pass.ok()) {
    return pass.status().WithContext("repository passphrase (set --passphrase-file, $" + std::string(kRepoPassphraseEnv) +
                                     " or backup.passphrase_file)");
  }
  s.passphrase_ = std::move(*pass);
  if (s.config_ && !s.config_->logging.audit_log.empty()) {
    auto log = audit::AuditLog::Open(s.config_->logging.audit_log);
    if (!log.ok()) return log.status().WithContext("opening the audit log (logging.audit_log)");
    s.audit_ = std::move(*log);
  } else if (!g.quiet && !g.json) {
    std::cerr << "note: no config loaded, this operation is not recorded in an audit log" << std::endl;
  }
  return s;
}

Result<RepoSession> RepoSession::Open(const GlobalOptions& g, const RepoArgs& args) {
  ASSIGN_OR_RETURN(RepoSession s, Prepare(g, args));
  ASSIGN_OR_RETURN(auto store, storage::OpenObjectStore(s.url_));
  ASSIGN_OR_RETURN(s.repo_, repo::Repository::Open(std::move(store), s.passphrase_.view()));
  return s;
}

std::string RepoSession::AuditHead() const {
  if (!audit_) return "";
  auto head = audit_->Head();
  if (!head.ok()) return "";
  return std::to_string(head->seq) + ":" + head->hash;
}

Result<crypto::SecureBytes> ReadNewPassphrase(const std::string& file) {
  keys::SecretSource src;
  src.file = file;
  src.env = kNewRepoPassphraseEnv;
  src.prompt = "New repository passphrase: ";
  src.confirm = true;
  return keys::ReadSecret(src);
}

}  // namespace ailee::cli
