#include "keys/generate.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "base/fs.h"
#include "base/hex.h"
#include "keys/backup.h"
#include "keys/created_files.h"
#include "keys/generate_journal.h"
#include "keys/retirement.h"
#include "keys/signing_fence.h"

namespace ailee::keys {
namespace {

// Before anything is generated: no entry of any kind (file, symlink, even a
// dangling one, FIFO) at a path this call would create.
Status CheckFree(const std::string& path, const std::string& what) {
  struct stat sb {};
  if (::lstat(path.c_str(), &sb) != 0) return Status::Ok();
  std::string kind = S_ISLNK(sb.st_mode) ? "a symbolic link" : S_ISFIFO(sb.st_mode) ? "a FIFO"
                     : S_ISREG(sb.st_mode) ? "a file" : "something";
  return AlreadyExists(what + " " + path + " already exists (" + kind +
                       "); refusing to overwrite it or write through it. If an earlier `keys generate` was "
                       "interrupted, back that key up with `keys backup` or remove it, then rerun");
}

Status CheckCommon(const GenerateRequest& req) {
  RETURN_IF_ERROR(ValidateSignerId(req.signer_id));
  if (req.out_dirs.empty()) return InvalidArgument("at least one --out directory is required: a new key is backed up at once");
  for (const auto& dir : req.out_dirs) RETURN_IF_ERROR(CheckLocalPath(dir, "--out"));
  return Status::Ok();
}

// After an interrupted run's outputs are cleared: the paths this run writes.
Status CheckPublicKeyOutFree(const GenerateRequest& req) {
  if (req.public_key_out.empty()) return Status::Ok();
  return CheckFree(req.public_key_out, "--public-key-out");
}

Status TestNewKey(Signer& signer, GenerateResult& result) {
  // The federation key of a new signer is the key itself until the change
  // that adds it: test-signer proves the key signs, the change proves the rest.
  auto test = TestSigner(signer, signer.public_key());
  if (!test.ok()) return test.status().WithContext("test-signer on the new key");
  result.test = std::move(test).value();
  result.location = signer.Describe();
  result.identity.fingerprint = signer.public_key().FingerprintHex();
  result.identity.type = signer.public_key().type();
  result.public_key_pem = signer.public_key().Pem();
  return Status::Ok();
}

nlohmann::json TokenRecord(const GenerateRequest& req, const GenerateResult& r) {
  const TokenTarget& t = *req.token;
  return {{"format", "ailee-signer-token-key"},
          {"format_version", 1},
          {"signer_id", req.signer_id},
          {"fingerprint_sha256_spki", r.identity.fingerprint},
          {"key_type", std::string(crypto::KeyTypeName(r.identity.type))},
          {"created", FormatUtc(req.clock->NowSeconds())},
          {"created_unix", req.clock->NowSeconds()},
          {"tool_version", std::string(kToolVersion)},
          {"public_key_pem", r.public_key_pem},
          {"pkcs11", {{"module", t.module_path}, {"token", t.token_label}, {"label", t.key.label}, {"id", HexEncode(t.key.id)}}},
          {"fence_file", t.fence_path},
          {"private_key",
           "generated on the token (sensitive, never extractable): no backup of it exists or can exist. If the "
           "token is lost, the federation replaces this signer by a rotation (docs/emergency.md)"}};
}

// A key a rerun may not remove: the federation's (or one it signed with).
Status CheckNotInFederation(const GenerateRequest& req, const std::string& fingerprint, const std::string& where) {
  if (!req.federation) return Status::Ok();
  for (const auto& [id, key] : *req.federation) {
    if (key.FingerprintHex() == fingerprint)
      return FailedPrecondition("the key at " + where + " left by an interrupted `keys generate` is " + id +
                                "'s key in the federation: it is in use, so it is not removed; back it up with "
                                "`ailee-cli keys backup` and remove the journal by hand");
  }
  return Status::Ok();
}

Status SignedSince(const std::string& where, const std::string& fence) {
  return FailedPrecondition("the key at " + where + " left by an interrupted `keys generate` has signed since (its "
                            "fence " + fence + " is newer than the journal): it is in use, so it is not removed; "
                            "back it up with `ailee-cli keys backup` and remove the journal by hand");
}

// The rerun's side of generate_journal.h for a key file: the interrupted
// run's key (never printed, never signed) and its outputs go.
Result<ReplacedKey> ClearInterruptedKeyFile(const GenerateRequest& req, const GenerateJournal& journal,
                                            const std::string& journal_path) {
  RETURN_IF_ERROR(CheckInterrupted(journal, journal_path, req.signer_id));
  const std::string fence = FencePathForKeyFile(req.key_file);
  if (fs::Exists(fence) || fs::Exists(RetiredMarkerPathForFence(fence))) return SignedSince(req.key_file, fence);
  ReplacedKey replaced;
  replaced.journal = journal_path;
  if (fs::Exists(req.key_file)) {
    auto key = FileSigner::Open(req.key_file);
    if (!ChangedSince(journal, req.key_file) || !key.ok())
      return FailedPrecondition(req.key_file + " is not the key the interrupted `keys generate` (" + journal_path +
                                ") wrote; look at both and remove them by hand");
    replaced.fingerprint = (*key)->public_key().FingerprintHex();
    RETURN_IF_ERROR(CheckNotInFederation(req, replaced.fingerprint, req.key_file));
  }
  ASSIGN_OR_RETURN(replaced.removed, RemoveInterruptedOutputs(journal, req.key_file));
  if (!replaced.fingerprint.empty()) {
    if (::unlink(req.key_file.c_str()) != 0) return ErrnoStatus("unlink", req.key_file, errno);
    replaced.removed.push_back(req.key_file);
  }
  RETURN_IF_ERROR(fs::FsyncDir(fs::Dirname(req.key_file)));
  RETURN_IF_ERROR(RemoveGenerateJournal(journal_path));
  return replaced;
}

// The same for a key on a token: its objects (exactly its label and id,
// which were free when the journal was written) are destroyed.
Result<ReplacedKey> ClearInterruptedTokenKey(const GenerateRequest& req, Pkcs11Token& token,
                                             const GenerateJournal& journal, const std::string& journal_path,
                                             const std::string& where) {
  RETURN_IF_ERROR(CheckInterrupted(journal, journal_path, req.signer_id));
  if (journal.key != where)
    return FailedPrecondition(journal_path + " is the journal of a `keys generate` of the key " + journal.key +
                              ", not " + where + "; rerun it with that token and label");
  if (ChangedSince(journal, req.token->fence_path)) return SignedSince(where, req.token->fence_path);
  ReplacedKey replaced;
  replaced.journal = journal_path;
  if (auto pub = token.PublicKey(req.token->key); pub.ok()) {
    replaced.fingerprint = pub->FingerprintHex();
    RETURN_IF_ERROR(CheckNotInFederation(req, replaced.fingerprint, where));
  }
  ASSIGN_OR_RETURN(replaced.removed, RemoveInterruptedOutputs(journal, ""));
  ASSIGN_OR_RETURN(size_t objects, token.DestroyKeyObjects(req.token->key));
  if (objects > 0) replaced.removed.push_back(where + " (" + std::to_string(objects) + " key objects)");
  RETURN_IF_ERROR(RemoveGenerateJournal(journal_path));
  return replaced;
}

// "label 'L' [id 0a] on pkcs11:<module>#token=<T>": which token key a journal is about.
std::string TokenKeyWhere(const TokenTarget& t) {
  return "label '" + t.key.label + "'" + (t.key.id.empty() ? "" : " id " + HexEncode(t.key.id)) + " on pkcs11:" +
         t.module_path + "#token=" + t.token_label;
}

}  // namespace

Result<crypto::KeyType> FederationKeyType(const FederationKeys& keys) {
  std::set<crypto::KeyType> types;
  for (const auto& [id, key] : keys) types.insert(key.type());
  if (types.empty()) return crypto::KeyType::kEd25519;
  if (types.size() > 1) return InvalidArgument("the federation's signers use several key types: give --key-type");
  return *types.begin();
}

std::string TokenKeyRecordFileName(std::string_view signer_id) { return std::string(signer_id) + ".pkcs11.json"; }

Result<GenerateResult> GenerateKeyFile(const GenerateRequest& req, const crypto::SecureBytes& passphrase) {
  RETURN_IF_ERROR(CheckCommon(req));
  if (req.key_file.empty() || req.token) return InvalidArgument("GenerateKeyFile needs a key file and no token");
  const std::string journal_path = GenerateJournalPath(req.key_file);
  // Temporary files of killed runs (no secret in a journal's; a key's is
  // only ever written while its journal exists, and cleared with it).
  fs::RemoveAbandoned(fs::Dirname(journal_path), fs::Basename(journal_path) + ".tmp.");
  std::optional<ReplacedKey> replaced;
  ASSIGN_OR_RETURN(std::optional<GenerateJournal> interrupted, ReadGenerateJournal(journal_path));
  if (interrupted) {
    ASSIGN_OR_RETURN(replaced, ClearInterruptedKeyFile(req, *interrupted, journal_path));
  }
  RETURN_IF_ERROR(CheckPublicKeyOutFree(req));
  RETURN_IF_ERROR(CheckFree(req.key_file, "key file"));
  // Another key's fence or retired marker at the new key's fence path would
  // become this key's: a reused path of a moved-away key.
  const std::string fence = FencePathForKeyFile(req.key_file);
  RETURN_IF_ERROR(CheckFree(fence, "signing fence (of another key)"));
  RETURN_IF_ERROR(CheckFree(RetiredMarkerPathForFence(fence), "retired marker (of another key)"));

  RETURN_IF_ERROR(WriteGenerateJournal(
      journal_path, NewGenerateJournal(req.signer_id, req.key_file, req.out_dirs,
                                       req.shares ? req.shares_dir : std::string(), req.public_key_out)));
  auto made = [&]() -> Result<GenerateResult> {
    ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(req.type));
    ASSIGN_OR_RETURN(crypto::SecureBytes pem, key.ToPem());
    CreatedFiles created;
    RETURN_IF_ERROR(created.Write(req.key_file, pem.view(), 0400));
    GenerateResult result;
    result.identity.signer_id = req.signer_id;
    ASSIGN_OR_RETURN(auto signer, FileSigner::Open(req.key_file));
    RETURN_IF_ERROR(TestNewKey(*signer, result));
    if (!req.public_key_out.empty()) RETURN_IF_ERROR(created.Write(req.public_key_out, result.public_key_pem, 0644));

    BackupRequest backup;
    backup.signer_id = req.signer_id;
    backup.key_path = req.key_file;
    backup.out_dirs = req.out_dirs;
    backup.shares = req.shares;
    backup.shares_dir = req.shares_dir;
    backup.clock = req.clock;
    auto done = BackupKey(backup, passphrase);  // removes what it created when it fails
    if (!done.ok()) return done.status().WithContext("backing up the new key (it was removed again)");
    result.backup_files = done->backup_files;
    result.share_files = done->share_files;
    result.fence_files = done->fence_files;
    // The commit point: without its journal the key is complete.
    RETURN_IF_ERROR(RemoveGenerateJournal(journal_path));
    created.Commit();
    return result;
  }();
  if (!made.ok()) {
    // Everything it made is gone again; so goes the journal.
    (void)RemoveGenerateJournal(journal_path);
    return made.status();
  }
  made->replaced = std::move(replaced);
  return made;
}

Result<GenerateResult> GenerateTokenKey(const GenerateRequest& req, const crypto::SecureBytes& pin) {
  RETURN_IF_ERROR(CheckCommon(req));
  if (!req.token || !req.key_file.empty()) return InvalidArgument("GenerateTokenKey needs a token and no key file");
  if (req.shares)
    return InvalidArgument("--shares does not apply to a key generated on a PKCS#11 token: it cannot be exported, so "
                           "there is no encrypted backup whose passphrase could be split");
  const TokenTarget& t = *req.token;
  if (t.key.label.empty()) return InvalidArgument("a PKCS#11 key label is required");
  for (const auto& dir : req.out_dirs) {
    if (fs::Exists(dir) && !fs::IsDirectory(dir)) return InvalidArgument("--out " + dir + " is not a directory");
  }

  ASSIGN_OR_RETURN(auto token, Pkcs11Token::Open(t.module_path, t.token_label, pin));
  // The journal lives beside the first record: the one place this key's
  // outputs have that is surely writable.
  const std::string where = TokenKeyWhere(t);
  const std::string journal_path =
      GenerateJournalPath(fs::JoinPath(req.out_dirs.front(), TokenKeyRecordFileName(req.signer_id)));
  fs::RemoveAbandoned(fs::Dirname(journal_path), fs::Basename(journal_path) + ".tmp.");
  std::optional<ReplacedKey> replaced;
  ASSIGN_OR_RETURN(std::optional<GenerateJournal> interrupted, ReadGenerateJournal(journal_path));
  if (interrupted) {
    ASSIGN_OR_RETURN(replaced, ClearInterruptedTokenKey(req, *token, *interrupted, journal_path, where));
  }
  for (const auto& dir : req.out_dirs)
    RETURN_IF_ERROR(CheckFree(fs::JoinPath(dir, TokenKeyRecordFileName(req.signer_id)), "record"));
  RETURN_IF_ERROR(CheckPublicKeyOutFree(req));
  // The label is free before the journal names it, so a rerun destroys
  // only objects this run made.
  ASSIGN_OR_RETURN(std::vector<std::string> labels, token->KeyLabels());
  if (std::find(labels.begin(), labels.end(), t.key.label) != labels.end())
    return AlreadyExists("the token already holds a key under " + where +
                         "; refusing to generate another one there (choose another --key-label, or retire the old "
                         "key first: `ailee-cli keys retire`)");
  if (!fs::Exists(req.out_dirs.front())) RETURN_IF_ERROR(fs::MakeDirs(req.out_dirs.front(), 0700));
  RETURN_IF_ERROR(WriteGenerateJournal(journal_path, NewGenerateJournal(req.signer_id, where, req.out_dirs, "",
                                                                        req.public_key_out)));
  auto pub = token->GenerateKeyPair(req.type, t.key);
  if (!pub.ok()) {
    (void)RemoveGenerateJournal(journal_path);
    return pub.status();
  }
  // From here a failure destroys the new pair again: a key without its
  // records and test is not left behind.
  GenerateResult result;
  result.identity.signer_id = req.signer_id;
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(auto signer, Pkcs11Signer::Open({t.module_path, t.token_label, t.key}, pin));
    RETURN_IF_ERROR(TestNewKey(*signer, result));
    if (result.identity.fingerprint != pub->FingerprintHex())
      return Internal("the token returned two different public keys for " + t.key.label);
    ASSIGN_OR_RETURN(Pkcs11KeyFlags flags, token->PrivateKeyFlags(t.key));
    if (!flags.sensitive || flags.extractable)
      return FailedPrecondition("the token made the new private key exportable (CKA_SENSITIVE false or "
                                "CKA_EXTRACTABLE true); refusing to use it");
    result.token_flags = flags;
    return Status::Ok();
  }();
  CreatedFiles created;
  std::optional<std::string> fence_text;
  if (st.ok()) {
    auto fence = ReadFenceFile(t.fence_path);
    if (fence.ok()) fence_text = SerializeFence(*fence);
    else if (fence.status().code() != StatusCode::kNotFound) st = fence.status().WithContext("the new key's fence");
  }
  std::string record = TokenRecord(req, result).dump(2) + "\n";
  for (const auto& dir : req.out_dirs) {
    if (!st.ok()) break;
    if (!fs::Exists(dir)) st = fs::MakeDirs(dir, 0700);
    std::string path = fs::JoinPath(dir, TokenKeyRecordFileName(req.signer_id));
    if (st.ok()) st = created.Write(path, record, 0644);
    if (st.ok()) result.public_records.push_back(path);
    if (st.ok() && fence_text) {
      std::string fence_copy = fs::JoinPath(dir, FenceBackupFileName(req.signer_id));
      st = created.Write(fence_copy, *fence_text, 0600);
      if (st.ok()) result.fence_files.push_back(fence_copy);
    }
  }
  if (st.ok() && !req.public_key_out.empty()) st = created.Write(req.public_key_out, result.public_key_pem, 0644);
  // The commit point: without its journal the key is complete.
  if (st.ok()) st = RemoveGenerateJournal(journal_path);
  if (!st.ok()) {
    Status undo = token->DestroyKeyObjects(t.key).status();
    // Only once the pair is gone: a journal still names a pair left behind.
    if (undo.ok()) (void)RemoveGenerateJournal(journal_path);
    return st.WithContext(undo.ok() ? "the new key pair was destroyed again"
                                    : "destroying the new key pair failed too (" + undo.message() +
                                          "): remove label '" + t.key.label + "' from the token by hand");
  }
  created.Commit();
  result.replaced = std::move(replaced);
  return result;
}

}  // namespace ailee::keys
