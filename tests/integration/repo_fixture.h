// Fixture for the backup-repository scenario tests (repo_*_test.cc): one
// temporary world with stopped leader nodes whose data dirs are filled by
// the bulk load generator (the node's own block code), and one encrypted
// repository on local disk that every node's config points at.
//
//   RepoWorld w("repo-rt");
//   TestNode& n = w.AddNode("node-1");          // config written, node not started
//   ASSERT_OK(w.BulkLoad(n, "24MiB"));
//   ASSERT_OK(w.InitRepo());                     // cheap KDF (test option, not a backdoor)
//   ASSIGN_OR_FAIL(auto snap, w.JsonOk(n, {"backup", "state", "--offline"}));
//
// The passphrase lives in a 0600 file named by the config (backup.passphrase_file),
// never on the command line. Nothing here starts ailee-node: bulk loading
// needs a stopped node, and the backups run offline on its data dir.
#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "harness_gtest.h"

namespace ailee::it {

inline constexpr Millis kRepoCliTimeout{120000};

class RepoWorld {
 public:
  explicit RepoWorld(const std::string& tag);

  Scenario& scenario() { return scenario_; }
  const std::string& repo_dir() const { return repo_dir_; }
  std::string repo_url() const { return repo_url_.empty() ? "file://" + repo_dir_ : repo_url_; }
  // Another primary repository (e.g. s3://bucket/repo) for nodes added later.
  void UseRepository(std::string url) { repo_url_ = std::move(url); }
  const std::string& pass_file() const { return pass_file_; }

  // A leader node whose config names the world's repository and passphrase
  // file, signing with its own copy of the federation key (so its own
  // signing fence: the world's nodes are independent chains). Its config is
  // written now; the node is never started here.
  // `backup_yaml` adds lines to its backup section (each indented by two
  // spaces, e.g. "  min_copies: 2\n").
  TestNode& AddNode(const std::string& id, const std::string& backup_yaml = "");
  TestNode& node(size_t i = 0) { return *nodes_.at(i); }

  // `load --mode bulk` on the node's (stopped) data dir: until the database
  // reaches `target_size` (e.g. "24MiB"), or for `max_tx` transfers when
  // target_size is empty. Same seed = same accounts, so a second load churns.
  Status BulkLoad(const TestNode& n, const std::string& target_size, uint64_t max_tx = 0, uint64_t seed = 1);

  // `repo init` with a cheap KDF (8 MiB, 1 pass).
  Status InitRepo();

  // ailee-cli --config <node> args...
  CommandResult Cli(const TestNode& n, const std::vector<std::string>& args, Millis timeout = kRepoCliTimeout) const;
  // ailee-cli --config <node> --json args...; the first JSON document when
  // the command exits 0, else an error carrying the whole CommandResult.
  Result<nlohmann::json> JsonOk(const TestNode& n, const std::vector<std::string>& args,
                                Millis timeout = kRepoCliTimeout) const;
  // ailee-cli in the background (for SIGKILL/SIGSTOP scenarios).
  Result<Process> Background(const TestNode& n, const std::vector<std::string>& args, const std::string& log) const;

 private:
  Scenario scenario_;
  std::string repo_dir_;
  std::string repo_url_;
  std::string pass_file_;
  std::vector<std::unique_ptr<TestNode>> nodes_;
};

// --------------------------------------------------------------- helpers

// Regular files under `dir`, relative path -> size. Empty when `dir` is absent.
std::map<std::string, uint64_t> FilesUnder(const std::string& dir);
// Names directly in `dir` (empty when absent or empty).
std::vector<std::string> Entries(const std::string& dir);
bool Exists(const std::string& path);
// The repository's pack files (data/xx/<id>), absolute paths, largest first.
std::vector<std::string> PackFiles(const std::string& repo_dir);
// Flips every bit of the byte at `offset` in place.
Status FlipByte(const std::string& path, uint64_t offset);
Status TruncateFile(const std::string& path, uint64_t size);
// cp -a src dst (dst must not exist).
Status CopyTree(const std::string& src, const std::string& dst);

// `verify-state DIR` with --json: exit code and the recomputed state root.
struct StateProof {
  CommandResult result;
  bool ok = false;
  std::string state_root;
  uint64_t height = 0;
};
StateProof ProveState(const RepoWorld& w, const TestNode& n, const std::string& dir);

// The snapshot's recorded state root (meta.state_root), from `snapshots --json`.
Result<std::string> SnapshotStateRoot(const RepoWorld& w, const TestNode& n, const std::string& snapshot_id);

// A random generator for kill points; the seed comes from AILEE_IT_SEED or
// is random, and is printed so that a failing run can be repeated.
std::mt19937_64 KillPointRng();

}  // namespace ailee::it
