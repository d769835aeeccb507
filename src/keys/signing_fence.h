// SigningFence: the highest block this signer has signed, kept beside the key
// so that restoring, replacing or rolling back a node's data dir cannot make
// the signer sign a height twice (like Tendermint's priv_validator_state).
//
// Where it lives (FencePathFor): `<key_file>.fence` for a PEM key file;
// `<config dir>/pkcs11-<token label>-<key label>.fence` for a PKCS#11 key
// (the token holds no state we could write, so the fence sits with the node
// configuration that names the token). Never inside the data dir. A lock file
// `<fence>.lock` is held (flock) while a SigningFence is open: two processes
// signing with one key file is refused.
//
// File format (text, LF line ends, 0600, docs/keys.md):
//   ailee-signing-fence 1
//   height <decimal>
//   block_hash <64 hex>
//   pending_block <hex of the encoded signed block, or empty>
//   checksum <sha256 hex of the lines above, each with its '\n'>
// Anything else (CRLF, a missing or extra line, a bad checksum, a truncated
// file, a symlink in its place) is an error: the fence is never guessed, and a
// node whose fence cannot be read does not sign (fail closed).
//
// Rule: Sign at height H with header hash X is allowed when H > fence height,
// or when H == fence height and X == fence hash (the same block again: a
// retry, or re-signing the anchor commitment of the block just fenced).
//
// Crash safety: Advance writes a temporary file, fsyncs it, renames it over
// the fence and fsyncs the directory (fs::WriteFileAtomic): after kill -9 the
// fence is the old one or the new one. The node calls Advance after signing
// and BEFORE committing the block, with the block's bytes as pending_block:
// a crash between the two leaves a fence one above the data dir's tip, and
// the node applies the pending block (verified like any block) on restart
// instead of signing a different block at that height.
//
// Cost (measured 2026-12-02, 2 shared cores at load average 13-15, leader at
// 200 ms blocks under `ailee-cli load --mode http` at full rate): Advance adds
// about 20 ms to a block's production (median block time 62 ms vs 40 ms with
// the write skipped; blocks of ~200 transactions, fence ~130-250 KB of hex),
// and no tx/s difference above the run-to-run noise (medians of 3 interleaved
// runs: 883 vs 934 and 1126 vs 1041 tx/s). Cheaper variants, if it ever
// matters: the block as binary instead of hex (half the bytes and hashing).
//
// Retired keys (retirement.h): a marker `<fence>.retired` beside the fence
// makes Open refuse, and Advance refuse from then on (a key retired while a
// leader runs stops it at its next block). CheckNotRetired is that check.
//
// Thread safety: one SigningFence per process and key; methods are not
// synchronized (the node's leader thread is the only signer).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/hash.h"

namespace ailee::keys {

struct FenceState {
  uint64_t height = 0;             // 0: this signer has never signed a block
  crypto::Hash256 block_hash{};    // zeros at height 0
  std::string pending_block;       // bytes of the block at `height` (opaque here), may be empty
};

// `<key_file>.fence`.
std::string FencePathForKeyFile(const std::string& key_file);
// `configured` (signer.pkcs11.fence_file) when set, else
// `<config_dir>/pkcs11-<token>-<key>.fence`, labels reduced to [A-Za-z0-9_.-].
std::string FencePathForPkcs11(const std::string& config_dir, const std::string& token_label,
                               const std::string& key_label, const std::string& configured = "");

// Ok unless a retired marker sits beside `fence_path` (or cannot be read:
// fail closed): then kFailedPrecondition naming when, by whom and why.
Status CheckNotRetired(const std::string& fence_path);

// Parses and checks a fence file's text (exposed for tests and key restore).
Result<FenceState> ParseFence(std::string_view text, const std::string& path);
std::string SerializeFence(const FenceState& state);

// Reads the fence at `path` without locking: kNotFound when absent, an error
// for a symlink, a non-regular file or bad contents.
Result<FenceState> ReadFenceFile(const std::string& path);

// Writes `state` to `path` unless a fence there is already higher (or equal
// with another hash): then kFailedPrecondition and the file is untouched.
// For `keys restore`: never lowers a fence.
Status RaiseFenceFile(const std::string& path, const FenceState& state);

class SigningFence {
 public:
  // Takes the lock and reads the fence; a missing file means no history
  // (height 0), anything unreadable is an error naming the file and the
  // recovery (docs/keys.md "When the fence is lost").
  static Result<std::unique_ptr<SigningFence>> Open(const std::string& path);
  ~SigningFence();
  SigningFence(const SigningFence&) = delete;
  SigningFence& operator=(const SigningFence&) = delete;

  const std::string& path() const { return path_; }
  const FenceState& state() const { return state_; }
  // True once this signer has signed (and fenced) any block.
  bool has_history() const { return state_.height > 0; }

  // Ok when signing `height` with header hash `hash` keeps the rule above;
  // kFailedPrecondition naming both blocks otherwise.
  Status CheckSign(uint64_t height, const crypto::Hash256& hash) const;
  // `sign` restricted to the block at `height`: the first message must be
  // that block's header hash and is signed only when CheckSign allows it;
  // later messages (its anchor commitment) commit to that same block. What a
  // leader and the bulk loader pass to state::StateDb::ProduceBlock. The
  // result refers to this fence: use it while the fence is open.
  using SignFn = std::function<Result<std::string>(std::string_view message)>;
  SignFn Guard(uint64_t height, SignFn sign) const;
  // Durably raises the fence to (height, hash) with the block's bytes. Refuses
  // (kFailedPrecondition) what CheckSign refuses; the file is unchanged then.
  // Also refuses when this process no longer provably holds the key: the
  // lock file was deleted or replaced (a second process could then lock a
  // new one), or the fence file was raised by someone else.
  Status Advance(uint64_t height, const crypto::Hash256& hash, std::string_view pending_block);

 private:
  Status CheckStillHeld() const;
  SigningFence(std::string path, int lock_fd, FenceState state)
      : path_(std::move(path)), lock_fd_(lock_fd), state_(std::move(state)) {}
  std::string path_;
  int lock_fd_ = -1;
  FenceState state_;
};

}  // namespace ailee::keys
