#include "repo_fixture.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "base/fs.h"

namespace ailee::it {

namespace stdfs = std::filesystem;

RepoWorld::RepoWorld(const std::string& tag)
    : scenario_(tag), repo_dir_(scenario_.dir().Join("repo")), pass_file_(scenario_.dir().Join("repo.pass")) {
  // Config validation insists on a 0600 passphrase file.
  Status st = WriteFile(pass_file_, "correct horse battery staple " + tag + "\n", 0600);
  if (!st.ok()) {
    std::fprintf(stderr, "RepoWorld: %s\n", st.ToString().c_str());
    std::abort();
  }
}

TestNode& RepoWorld::AddNode(const std::string& id, const std::string& backup_yaml) {
  // Each node is its own chain: its own copy of the key, so its own fence.
  auto own = scenario_.WithOwnKeyCopy(NodeSpec::Leader(id, 200, 10));
  if (!own.ok()) {
    std::fprintf(stderr, "RepoWorld::AddNode: %s\n", own.status().ToString().c_str());
    std::abort();
  }
  NodeSpec spec = std::move(own).value();
  spec.extra_yaml = "backup:\n  repository: " + repo_url() + "\n  passphrase_file: " + pass_file_ + "\n" + backup_yaml;
  auto n = std::make_unique<TestNode>(scenario_.AddNode(spec));
  // The harness writes a config when a node starts; these nodes never start,
  // so write it here (any free port: nothing listens).
  Status st = WriteFile(n->config_path(), RenderConfig(spec, PickFreePort(), {scenario_.signer()}, &scenario_.signer()));
  if (!st.ok()) {
    std::fprintf(stderr, "RepoWorld::AddNode: %s\n", st.ToString().c_str());
    std::abort();
  }
  nodes_.push_back(std::move(n));
  return *nodes_.back();
}

Status RepoWorld::BulkLoad(const TestNode& n, const std::string& target_size, uint64_t max_tx, uint64_t seed) {
  // Big memos and few accounts: megabytes per second of signing on a busy machine.
  std::vector<std::string> args{"-q", "load", "--mode", "bulk", "--duration", "0", "--memo-bytes", "4096",
                                "--accounts", "200", "--block-tx", "1000", "--seed", std::to_string(seed)};
  if (!target_size.empty()) args.insert(args.end(), {"--target-size", target_size});
  if (max_tx > 0) args.insert(args.end(), {"--max-tx", std::to_string(max_tx)});
  CommandResult r = Cli(n, args, Millis(300000));
  if (r.exit_code != 0) return Internal("bulk load into " + n.data_dir() + " failed: " + r.Describe());
  return Status::Ok();
}

Status RepoWorld::InitRepo() {
  if (nodes_.empty()) return FailedPrecondition("RepoWorld::InitRepo: add a node first (its config names the repository)");
  CommandResult r = Cli(*nodes_.front(), {"repo", "init", "--kdf-memory-mib", "8", "--kdf-iterations", "1"});
  if (r.exit_code != 0) return Internal("repo init failed: " + r.Describe());
  return Status::Ok();
}

CommandResult RepoWorld::Cli(const TestNode& n, const std::vector<std::string>& args, Millis timeout) const {
  return scenario_.Cli(n, args, timeout);
}

Result<nlohmann::json> RepoWorld::JsonOk(const TestNode& n, const std::vector<std::string>& args, Millis timeout) const {
  std::vector<std::string> a{"--json"};
  a.insert(a.end(), args.begin(), args.end());
  CommandResult r = Cli(n, a, timeout);
  std::string cmd;
  for (const auto& s : args) cmd += " " + s;
  if (r.exit_code != 0) return Internal("ailee-cli" + cmd + ": " + r.Describe());
  std::istringstream in(r.out);
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception& e) {
    return Internal("ailee-cli" + cmd + ": stdout is not JSON (" + e.what() + "): " + r.Describe());
  }
  return j;
}

Result<Process> RepoWorld::Background(const TestNode& n, const std::vector<std::string>& args, const std::string& log) const {
  return scenario_.CliBackground(n, args, log);
}

// --------------------------------------------------------------- helpers

std::map<std::string, uint64_t> FilesUnder(const std::string& dir) {
  std::map<std::string, uint64_t> out;
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) return out;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    // lexically_relative: no filesystem access, so a file a live process
    // renames or deletes during the walk cannot throw (relative() would).
    if (it->is_regular_file(ec)) out[it->path().lexically_relative(dir).string()] = it->file_size(ec);
  }
  return out;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = stdfs::directory_iterator(dir, ec); !ec && it != stdfs::directory_iterator(); it.increment(ec)) {
    out.push_back(it->path().filename().string());
  }
  return out;
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return stdfs::exists(stdfs::symlink_status(path, ec));
}

std::vector<std::string> PackFiles(const std::string& repo_dir) {
  std::vector<std::pair<uint64_t, std::string>> packs;
  for (const auto& [rel, size] : FilesUnder(repo_dir + "/data")) {
    if (rel.find(".tmp") != std::string::npos) continue;  // a store's temporary name, not an object
    packs.emplace_back(size, repo_dir + "/data/" + rel);
  }
  std::sort(packs.rbegin(), packs.rend());
  std::vector<std::string> out;
  for (auto& p : packs) out.push_back(std::move(p.second));
  return out;
}

Status FlipByte(const std::string& path, uint64_t offset) {
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  if (!f) return NotFound("open " + path);
  int c = -1;
  if (std::fseek(f, static_cast<long>(offset), SEEK_SET) == 0) c = std::fgetc(f);
  if (c < 0 || std::fseek(f, static_cast<long>(offset), SEEK_SET) != 0 || std::fputc(c ^ 0xff, f) < 0) {
    std::fclose(f);
    return Internal("flip byte " + std::to_string(offset) + " of " + path);
  }
  std::fclose(f);
  return Status::Ok();
}

Status TruncateFile(const std::string& path, uint64_t size) {
  std::error_code ec;
  stdfs::resize_file(path, size, ec);
  if (ec) return Internal("truncate " + path + ": " + ec.message());
  return Status::Ok();
}

Status CopyTree(const std::string& src, const std::string& dst) {
  CommandResult r = Run({"/bin/cp", "-a", src, dst}, Millis(60000));
  if (r.exit_code != 0) return Internal("cp -a " + src + " " + dst + ": " + r.Describe());
  return Status::Ok();
}

StateProof ProveState(const RepoWorld& w, const TestNode& n, const std::string& dir) {
  StateProof p;
  p.result = w.Cli(n, {"--json", "verify-state", dir});
  if (p.result.exit_code != 0) return p;
  try {
    std::istringstream in(p.result.out);
    nlohmann::json j;
    in >> j;
    p.ok = j.value("ok", false);
    p.state_root = j.value("state_root", "");
    p.height = j.value("height", uint64_t{0});
  } catch (const std::exception&) {
    p.ok = false;
  }
  return p;
}

Result<std::string> SnapshotStateRoot(const RepoWorld& w, const TestNode& n, const std::string& snapshot_id) {
  ASSIGN_OR_RETURN(auto list, w.JsonOk(n, {"snapshots"}));
  for (const auto& s : list["snapshots"]) {
    if (s.value("id", "") == snapshot_id) return s["meta"].value("state_root", "");
  }
  return NotFound("snapshot " + snapshot_id + " not listed by `snapshots --json`: " + list.dump());
}

std::mt19937_64 KillPointRng() {
  uint64_t seed = 0;
  if (const char* v = std::getenv("AILEE_IT_SEED"); v && *v) {
    seed = std::strtoull(v, nullptr, 10);
  } else {
    seed = std::random_device{}();
  }
  std::fprintf(stderr, "[repo_fixture] kill points from AILEE_IT_SEED=%llu\n", static_cast<unsigned long long>(seed));
  return std::mt19937_64(seed);
}

}  // namespace ailee::it
