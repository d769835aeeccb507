// The journal of a `keys generate` in progress: how a rerun tells the
// half-made key of an interrupted (killed) run from a key that is in use.
//
// Before the new key exists, GenerateKeyFile/GenerateTokenKey write
// "<where the key goes>.generating" (the key file, or a token key's fence
// path): who is generating (owner tag, scratch.h), for which signer, since
// when, and where its outputs go. The journal is removed only once the key,
// its backups (or token records), shares and public key are all written and
// read back: a run that reports success has no journal, and a key with a
// journal whose owner is gone never reached its operator (its public key
// was neither printed nor written, so no federation change can hold it).
//
// The rerun with the same --id and target (FindInterruptedRun) then removes
// that half-made key and what the run wrote of its outputs: only the names
// `keys generate` writes for that signer, no older than the journal, and
// temporary files carrying the dead run's owner tag. Then it generates anew;
// the caller audits the replacement. A journal of a live run, of another
// signer, or a key that signed since (a fence newer than the journal) or is
// in the federation is refused: nothing is removed.
//
// Crash safety: the journal is written exclusively and fsynced before the
// key exists and removed (with a directory fsync) as the last step, so kill
// -9 at any moment leaves either no key, a key with a journal (removed by the
// rerun), or a complete key without one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace ailee::keys {

struct GenerateJournal {
  std::string signer_id;
  std::string key;        // the key file, or the token key's description
  std::string owner;      // fs::OwnerTag() of the generating process
  std::string space;      // fs::ProcessSpaceId() where `owner` means something
  // The journal file's own mtime (filled by ReadGenerateJournal): on the
  // filesystem's clock, as the mtimes it is compared with.
  int64_t started_unix_ns = 0;
  std::vector<std::string> out_dirs;
  std::string shares_dir;
  std::string public_key_out;
};

// "<key_location>.generating".
std::string GenerateJournalPath(const std::string& key_location);

// A journal for this process, now.
GenerateJournal NewGenerateJournal(std::string signer_id, std::string key, std::vector<std::string> out_dirs,
                                   std::string shares_dir, std::string public_key_out);
// Exclusive (AlreadyExists when one is there), fsynced.
Status WriteGenerateJournal(const std::string& path, const GenerateJournal& journal);
// Nothing when there is none; DataLoss when it does not parse.
Result<std::optional<GenerateJournal>> ReadGenerateJournal(const std::string& path);
// Unlink and directory fsync; Ok when already gone.
Status RemoveGenerateJournal(const std::string& path);

// Whether `journal` is an interrupted run that this rerun of `signer_id`
// may clear: Ok; Unavailable while its owner runs (or cannot be judged
// here); FailedPrecondition for another signer's journal.
Status CheckInterrupted(const GenerateJournal& journal, const std::string& journal_path, const std::string& signer_id);

// True when `path` exists (lstat) and was modified at or after the
// journal's start: written by the run, or (for a fence) signed since.
bool ChangedSince(const GenerateJournal& journal, const std::string& path);

// Removes what the interrupted run wrote of its outputs: the names `keys
// generate` writes for its signer in its out dirs, shares dir and public
// key path when not older than the journal, and temporary files of the dead
// owner beside them and beside `key_file` (empty for a token key). Returns
// the removed paths.
Result<std::vector<std::string>> RemoveInterruptedOutputs(const GenerateJournal& journal, const std::string& key_file);

}  // namespace ailee::keys
