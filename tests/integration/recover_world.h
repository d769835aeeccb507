// Shared by the recover-node scenario tests (recover_node_*_test.cc, one
// binary): a leader and its follower backed up to one local repository, and
// what the tests need around nodes that recover-node spawned (not our children).
#pragma once

#include <signal.h>

#include <filesystem>
#include <fstream>

#include "repo_fixture.h"

namespace ailee::it {

namespace stdfs = std::filesystem;

inline constexpr Millis kRecoverTimeout{180000};

// The node recover-node spawned is not our child: ended by its pid.
inline void StopSpawned(int pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  WaitUntil([&] {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    auto p = line.rfind(')');
    return line.empty() || (p != std::string::npos && p + 2 < line.size() && line[p + 2] == 'Z');
  }, Millis(15000));
  ::kill(pid, SIGKILL);
}

// Stops it on every path out of the test.
struct Spawned {
  int pid = 0;
  ~Spawned() { StopSpawned(pid); }
};

// The ailee-node processes running with `config_path` (started by a
// recover-node that was killed before it could report the pid).
inline std::vector<int> NodesWithConfig(const std::string& config_path) {
  std::vector<int> pids;
  for (const auto& e : stdfs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find("ailee-node") != std::string::npos && cmd.find(config_path) != std::string::npos)
      pids.push_back(std::stoi(name));
  }
  return pids;
}

// A file's whole text ("" when unreadable).
inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline std::string BlockRoot(const std::string& url, uint64_t h) {
  auto b = node::NodeClient(url, "", 5000).GetJson("/v1/blocks/" + std::to_string(h));
  return b.ok() ? (*b)["header"]["state_root"].get<std::string>() : "";
}

// A leader and its follower, both backed up to one local repository.
// `leader_signer_yaml`, when given, replaces the leader's signer section
// (e.g. a PKCS#11 signer): its key must be where that section says before
// Build starts the leader.
struct RecoverWorld {
  Scenario s{"recover-node"};
  std::string repo_dir = s.dir().Join("repo");
  std::string pass_file = s.dir().Join("repo.pass");
  std::string secrets_file = s.dir().Join("secrets.pass");
  std::string audit = s.dir().Join("operator-audit.log");
  std::unique_ptr<TestNode> leader, follower;

  // Files beside the leader's config also in its config backup (e.g. a PIN file).
  std::vector<std::string> leader_config_files;

  std::string BackupYaml(const std::string& id) const {
    std::string paths = s.dir().Join(id + "/config.yaml");
    if (id == "leader")
      for (const auto& f : leader_config_files) paths += ", " + s.dir().Join(id + "/" + f);
    return "backup:\n  repository: file://" + repo_dir + "\n  passphrase_file: " + pass_file +
           "\n  config_paths: [" + paths + "]\n";
  }
  void Build(const std::string& leader_signer_yaml = "") {
    ASSERT_OK(WriteFile(pass_file, "recover node repository passphrase\n", 0600));
    ASSERT_OK(WriteFile(secrets_file, "recover node secrets passphrase\n", 0600));
    NodeSpec l = NodeSpec::Leader("leader");
    l.extra_yaml = BackupYaml("leader");
    if (!leader_signer_yaml.empty()) {
      l.leader = false;  // no key-file signer section; without `follow` it still leads
      l.extra_yaml += leader_signer_yaml;
    }
    leader = std::make_unique<TestNode>(s.AddNode(l));
    ASSERT_OK(leader->Start());
    NodeSpec f = NodeSpec::Follower("follower", leader->url());
    f.extra_yaml = BackupYaml("follower");
    follower = std::make_unique<TestNode>(s.AddNode(f));
    ASSERT_OK(follower->Start());
    // The leader's peers name its follower: what it catches up from.
    l.extra_yaml += "peers: [" + follower->url() + "]\n";
    leader->Terminate();
    ASSERT_OK(leader->Reconfigure(l));
    ASSERT_OK(leader->Start());
    CommandResult init = s.Cli(*follower, {"repo", "init", "--kdf-memory-mib", "8", "--kdf-iterations", "1"});
    ASSERT_EQ(init.exit_code, 0) << init;
    // `load` signs its peg-ins with the federation key from a key file,
    // which a PKCS#11 leader's config does not name: it gets a config that does.
    std::string load_config = leader->config_path();
    if (!leader_signer_yaml.empty()) {
      load_config = s.dir().Join("loader.yaml");
      ASSERT_OK(WriteFile(load_config, RenderConfig(NodeSpec::Leader("leader"), leader->port(), {s.signer()}, &s.signer())));
    }
    CommandResult load =
        s.CliRaw({"--config", load_config, "-q", "load", "--accounts", "50", "--rate", "300", "--duration", "2"});
    ASSERT_EQ(load.exit_code, 0) << load;
  }
  // The follower's config and state backed up, then the follower killed:
  // what the kill tests recover, with FollowerRecoverArgs().
  void BackUpAndKillFollower() {
    ASSERT_EQ(s.Cli(*follower, {"backup", "config", "--secrets-passphrase-file", secrets_file}).exit_code, 0);
    ASSERT_EQ(s.Cli(*follower, {"backup", "state"}).exit_code, 0);
    follower->Kill();
  }
  std::vector<std::string> FollowerRecoverArgs() const {
    return {"--repo", "file://" + repo_dir, "--secrets-passphrase-file", secrets_file, "--start", "--yes"};
  }
  CommandResult Recover(const TestNode& n, std::vector<std::string> args) const {
    std::vector<std::string> a = {"--audit-log", audit, "--json", "recover-node", "--node", n.spec().id,
                                  "--passphrase-file", pass_file, "--node-binary", NodeBinary(), "--wait", "60"};
    a.insert(a.end(), args.begin(), args.end());
    return s.Cli(n, a, kRecoverTimeout);
  }
};

}  // namespace ailee::it
