#include "cli/repo_session.h"

#include <iostream>

#include "audit/head_store.h"
#include "base/clock.h"
#include "base/hint.h"
#include "keys/secret_input.h"
#include "ops/object_stores.h"
#include "repo/ids.h"
#include "storage/object_store.h"

namespace ailee::cli {

void AddRepoOptions(CLI::App* cmd, RepoArgs& args) {
  cmd->add_option("--repo,-r", args.repo_url, "repository URL (file:///path or a path; default: config backup.repository)")
      ->envname("AILEE_REPOSITORY");
  cmd->add_option("--passphrase-file", args.passphrase_file,
                  "file holding the repository passphrase or a key file from `repo key add --key-file`\n"
                  "(else $AILEE_REPO_PASSPHRASE, config backup.passphrase_file, or a prompt)");
}

Result<RepoSession> RepoSession::Resolve(const GlobalOptions& g, const Result<config::NodeConfig>& cfg,
                                         const RepoArgs& args) {
  RepoSession s;
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
  s.passphrase_source_ = !file.empty() ? "the file " + file : std::getenv(kRepoPassphraseEnv) ? "$" + std::string(kRepoPassphraseEnv) : "the prompt";
  return s;
}

Result<RepoSession> RepoSession::Prepare(Session& session, const RepoArgs& args) {
  ASSIGN_OR_RETURN(RepoSession s, Resolve(session.global(), session.config(), args));
  ASSIGN_OR_RETURN(s.audit_, session.audit_log());
  return s;
}

namespace {

// A repository that does not exist: whether a copy does, and what to do.
// `repo init` after losing the primary makes a repository with a new id,
// which every copy then refuses.
Status MissingRepository(const std::string& url, const std::optional<config::NodeConfig>& cfg) {
  Status st = NotFound("no repository at " + url);
  std::vector<std::string> secondaries;
  if (cfg) secondaries = cfg->backup.secondary_repositories;
  if (secondaries.empty()) {
    return WithHint(st, "for a new installation create it with `ailee-cli repo init`; otherwise check --repo / "
                       "backup.repository (" + url + ")");
  }
  std::string found;
  for (const auto& u : secondaries) {
    auto store = storage::OpenObjectStore(u);
    if (!store.ok()) continue;
    auto exists = (*store)->Exists(repo::ConfigKey());
    if (exists.ok() && *exists) {
      found = u;
      break;
    }
  }
  std::string copy = found.empty() ? "a copy (backup.secondary_repositories; none of them holds one right now)"
                                   : "the copy at " + found;
  std::string from = found.empty() ? "COPY_URL" : found;
  return WithHint(st, "do not initialize a new repository here (it would get a new id, which the copies refuse); restore from " +
                     copy + " with `ailee-cli restore --repo " + from + " ...`, or rebuild the primary from it with "
                     "`ailee-cli copy --repo " + from + " --to " + url + "`");
}

}  // namespace

Result<RepoSession> RepoSession::Open(Session& session, const RepoArgs& args) {
  ASSIGN_OR_RETURN(RepoSession s, Prepare(session, args));
  RETURN_IF_ERROR(s.OpenRepository());
  return s;
}

Status RepoSession::OpenRepository() {
  RETURN_IF_ERROR(ops::CheckRepositoryUser(url_));
  ASSIGN_OR_RETURN(auto store, storage::OpenObjectStore(url_));
  auto opened = repo::Repository::Open(store, passphrase_.view());
  if (!opened.ok()) {
    const Status& st = opened.status();
    if (st.code() == StatusCode::kNotFound) {
      auto exists = store->Exists(repo::ConfigKey());
      if (exists.ok() && !*exists) return MissingRepository(url_, config_);
    }
    if (st.code() == StatusCode::kPermissionDenied && HintOf(st).empty()) {
      return WithHint(st, "the passphrase came from " + passphrase_source_ + "; check it (--passphrase-file, $" +
                         std::string(kRepoPassphraseEnv) + " or backup.passphrase_file), or use another key slot's");
    }
    return st;
  }
  repo_ = std::move(opened).value();
  RecordAuditHeads();
  return Status::Ok();
}

Result<std::string> RepoSession::InitRepository(const repo::InitOptions& options) {
  RETURN_IF_ERROR(ops::CheckRepositoryUser(url_));
  ASSIGN_OR_RETURN(auto store, storage::OpenObjectStore(url_));
  ASSIGN_OR_RETURN(repo_, repo::Repository::Init(store, passphrase_.view(), options));
  RecordAuditHeads();  // repo.init's own line is the first head the new repository records
  return repo_->config().id;
}

void RepoSession::RecordAuditHeads() {
  if (!audit_ || !repo_) return;
  // After every line this session appends, the repository learns the new
  // head, so `audit verify` catches a truncated tail (audit/head_store.h).
  auto store = repo_->shared_store();
  auto key = std::make_shared<const crypto::SecureBytes>(repo_->master_key().data_key);
  const std::string path = audit_->path();
  const std::string url = url_;
  const std::string host = audit::Origin::Current().host;
  audit_->SetAppendObserver([store, key, path, url, host](const audit::AuditHead& head) {
    audit::RecordedAuditHead r{host, path, head, Clock::Real().NowMillis()};
    Status st = audit::RecordAuditHead(*store, *key, r);
    if (!st.ok()) {
      std::cerr << "warning: the audit log head (line " << head.seq << ") was not recorded in " << url << ": "
                << st.message() << "; `ailee-cli audit verify` compares with the last head recorded there"
                << std::endl;
    }
  });
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
