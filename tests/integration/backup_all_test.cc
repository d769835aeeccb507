// `backup all` through real ailee-cli processes on a real repository: the
// runbook's backup before maintenance (state, config, logs) tied together by
// a recovery point that restores; a part that fails leaves no recovery
// point, and the error names what is already stored.
#include <filesystem>
#include <fstream>

#include "base/fs.h"
#include "repo_fixture.h"

namespace ailee::it {
namespace {

namespace stdfs = std::filesystem;

class BackupAllIt : public ::testing::Test {
 protected:
  // A bulk-loaded stopped node whose config names a log file in its own log
  // directory, holding a live log and two rotated ones.
  void SetUp() override {
    world_ = std::make_unique<RepoWorld>("backup-all");
    node_ = &world_->AddNode("node-1");
    const std::string root = world_->scenario().dir().path();
    log_dir_ = root + "/logs";
    stdfs::create_directories(log_dir_);
    ASSERT_OK(WriteFile(log_dir_ + "/node.log", "live line\n", 0640));
    ASSERT_OK(WriteFile(log_dir_ + "/node.log.1", "rotated one\n", 0640));
    ASSERT_OK(WriteFile(log_dir_ + "/node.log.2.gz", "rotated two\n", 0640));
    ASSIGN_OR_FAIL(std::string cfg, fs::ReadFile(node_->config_path()));
    const std::string logging = "logging:\n  audit_log: audit.log\n";
    ASSERT_NE(cfg.find(logging), std::string::npos);
    cfg.replace(cfg.find(logging), logging.size(), logging + "  log_file: " + log_dir_ + "/node.log\n");
    ASSERT_OK(WriteFile(node_->config_path(), cfg, 0600));
    secrets_file_ = root + "/secrets.pass";
    ASSERT_OK(WriteFile(secrets_file_, "secrets pass phrase for the test\n", 0600));
    ASSERT_OK(world_->BulkLoad(*node_, "", 3000));
    ASSERT_OK(world_->InitRepo());
  }

  Result<nlohmann::json> Snapshots() { return world_->JsonOk(*node_, {"snapshots"}); }

  std::unique_ptr<RepoWorld> world_;
  TestNode* node_ = nullptr;
  std::string log_dir_;
  std::string secrets_file_;
};

TEST_F(BackupAllIt, StateConfigAndLogsAreTiedInARecoveryPointThatRestoresAndNothingIsRemoved) {
  ASSIGN_OR_FAIL(auto all, world_->JsonOk(*node_, {"backup", "all", "--offline", "--note", "before upgrade to 1.4", "--tag",
                                                   "maintenance", "--secrets-passphrase-file", secrets_file_}));
  const std::string point = all["recovery_point"];
  ASSERT_EQ(point.size(), 64u) << all.dump();
  EXPECT_GT(all["height"].get<uint64_t>(), 0u);
  EXPECT_EQ(all["logs_archived"], 2) << all.dump();
  EXPECT_GE(all["config_secrets_encrypted"].get<int>(), 1) << all.dump();  // the repository passphrase file

  // Four snapshots, all tagged; the recovery point names the other three.
  ASSIGN_OR_FAIL(auto list, Snapshots());
  std::map<std::string, nlohmann::json> by_kind;
  for (const auto& s : list["snapshots"]) {
    by_kind[s["kind"]] = s;
    EXPECT_NE(s["tags"].dump().find("maintenance"), std::string::npos) << s.dump();
  }
  ASSERT_EQ(by_kind.size(), 4u) << list.dump();
  const auto& meta = by_kind["recovery-point"]["meta"];
  EXPECT_EQ(meta["state_snapshot"], all["state_snapshot"]);
  EXPECT_EQ(meta["config_snapshot"], all["config_snapshot"]);
  EXPECT_EQ(meta["logs_snapshot"], all["logs_snapshot"]);
  EXPECT_EQ(meta["note"], "before upgrade to 1.4");
  EXPECT_EQ(meta["state_root"], all["state_root"]);
  EXPECT_EQ(by_kind["state"]["id"], all["state_snapshot"]);

  // A backup before maintenance removes nothing: the rotated logs stay.
  EXPECT_TRUE(Exists(log_dir_ + "/node.log.1"));
  EXPECT_TRUE(Exists(log_dir_ + "/node.log.2.gz"));

  // The recovery point restores as its state: same height and state root.
  const std::string target = world_->scenario().dir().path() + "/restored";
  ASSIGN_OR_FAIL(auto restored, world_->JsonOk(*node_, {"restore", point.substr(0, 12), "--target", target}));
  EXPECT_EQ(restored["snapshot"], all["state_snapshot"]) << restored.dump();
  EXPECT_EQ(restored["height"], all["height"]);
  EXPECT_EQ(restored["state_root"], all["state_root"]);
  EXPECT_TRUE(restored["verified"].get<bool>());

  // verify --read-data accepts a repository holding a recovery point.
  CommandResult v = world_->Cli(*node_, {"verify", "--read-data"});
  EXPECT_EQ(v.exit_code, 0) << v.Describe();
}

TEST_F(BackupAllIt, AFailingPartWritesNoRecoveryPointAndNamesWhatIsStored) {
  // A passphrase file named but missing is an error before anything is stored.
  CommandResult missing = world_->Cli(*node_, {"backup", "all", "--offline", "--secrets-passphrase-file",
                                               world_->scenario().dir().path() + "/no-such-file"});
  EXPECT_EQ(missing.exit_code, 4) << missing.Describe();
  ASSIGN_OR_FAIL(auto none, Snapshots());
  EXPECT_TRUE(none["snapshots"].empty()) << none.dump();

  // The config part cannot encrypt the secrets: no passphrase file, no
  // $AILEE_SECRETS_PASSPHRASE, no terminal. The state is stored by then.
  CommandResult r = world_->Cli(*node_, {"backup", "all", "--offline"});
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find("part 2 of 3 (config)"), std::string::npos) << r.Describe();
  EXPECT_NE(r.err.find("no recovery point was written"), std::string::npos) << r.Describe();
  ASSIGN_OR_FAIL(auto list, Snapshots());
  std::string state_id;
  for (const auto& s : list["snapshots"]) {
    EXPECT_NE(s["kind"], "recovery-point") << list.dump();
    if (s["kind"] == "state") state_id = s["id"];
  }
  ASSERT_FALSE(state_id.empty()) << list.dump();
  EXPECT_NE(r.err.find("state snapshot " + state_id.substr(0, 12)), std::string::npos) << r.Describe();
}

TEST_F(BackupAllIt, ACrLfPassphraseFileIsRefusedBeforeAnythingIsStored) {
  const std::string crlf = world_->scenario().dir().path() + "/secrets-crlf.pass";
  ASSERT_OK(WriteFile(crlf, "secrets pass phrase for the test\r\n", 0600));  // saved by a Windows editor
  CommandResult r = world_->Cli(*node_, {"backup", "all", "--offline", "--secrets-passphrase-file", crlf});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_NE(r.err.find("CR"), std::string::npos) << r.Describe();
  ASSIGN_OR_FAIL(auto list, Snapshots());
  EXPECT_TRUE(list["snapshots"].empty()) << list.dump();
}

// An operator on a Latin-1 terminal types `--note "Wartung für 1.4"`: the
// bytes are not UTF-8, which the snapshot format (JSON) cannot hold. The
// job refuses before any part is stored instead of dying halfway through.
TEST_F(BackupAllIt, ANoteOrTagThatIsNotUtf8IsRefusedBeforeAnythingIsStored) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--note", "Wartung f\xfcr 1.4"}, {"--tag", "f\xfcr"}}) {
    std::vector<std::string> cmd = {"backup", "all", "--offline", "--secrets-passphrase-file", secrets_file_};
    cmd.insert(cmd.end(), args.begin(), args.end());
    CommandResult r = world_->Cli(*node_, cmd);
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
    EXPECT_NE(r.err.find("UTF-8"), std::string::npos) << r.Describe();
    ASSIGN_OR_FAIL(auto list, Snapshots());
    EXPECT_TRUE(list["snapshots"].empty()) << list.dump();
  }
}

// The same bytes through a single job: `backup state --tag` (repo::SaveSnapshot).
TEST_F(BackupAllIt, ABackupStateTagThatIsNotUtf8IsAnErrorNotAnAbort) {
  CommandResult r = world_->Cli(*node_, {"backup", "state", "--offline", "--tag", "f\xfcr"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_NE(r.err.find("UTF-8"), std::string::npos) << r.Describe();
  ASSIGN_OR_FAIL(auto list, Snapshots());
  EXPECT_TRUE(list["snapshots"].empty()) << list.dump();
}

// --json for a scheduler: an error naming a path that is not UTF-8 is still
// a JSON document and the documented exit code, not an abort (134).
TEST_F(BackupAllIt, AJsonErrorNamingAPathThatIsNotUtf8IsStillAJsonDocument) {
  const std::string odd = world_->scenario().dir().path() + "/secrets-f\xfcr.pass";  // absent
  CommandResult r = world_->Cli(*node_, {"--json", "backup", "all", "--offline", "--secrets-passphrase-file", odd});
  EXPECT_EQ(r.exit_code, 4) << r.Describe();
  auto doc = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(doc.is_object()) << r.Describe();
  EXPECT_TRUE(doc.contains("error")) << doc.dump();
}

TEST_F(BackupAllIt, ARecoveryPointWhoseStateSnapshotIsGoneIsRefusedNamingIt) {
  ASSIGN_OR_FAIL(auto all, world_->JsonOk(*node_, {"backup", "all", "--offline", "--secrets-passphrase-file", secrets_file_}));
  const std::string state_id = all["state_snapshot"];
  // Remove the state snapshot's document behind the repository's back (as
  // a forget would, without touching the recovery point).
  size_t removed = 0;
  for (const auto& e : stdfs::recursive_directory_iterator(world_->repo_dir())) {
    if (e.path().filename().string() == state_id) removed += stdfs::remove(e.path());
  }
  ASSERT_EQ(removed, 1u);
  const std::string target = world_->scenario().dir().path() + "/restored";
  CommandResult r = world_->Cli(*node_, {"restore", all["recovery_point"].get<std::string>(), "--target", target});
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find(state_id.substr(0, 12)), std::string::npos) << r.Describe();
  EXPECT_NE(r.err.find("recovery point"), std::string::npos) << r.Describe();
  EXPECT_FALSE(Exists(target));
}

}  // namespace
}  // namespace ailee::it

namespace ailee::it {
namespace {

// Retention is per kind: a state policy never forgets logs (kept 7 years),
// config snapshots or recovery points, and forget without --kind is refused.
TEST_F(BackupAllIt, ForgetIsPerKindAndRefusedWithoutOne) {
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(world_->Cli(*node_, {"backup", "all", "--offline", "--secrets-passphrase-file", secrets_file_}).exit_code, 0);
  }
  auto count = [&]() -> std::map<std::string, int> {
    std::map<std::string, int> by_kind;
    auto list = Snapshots();
    if (list.ok()) {
      for (const auto& s : (*list)["snapshots"]) by_kind[s["kind"].get<std::string>()]++;
    }
    return by_kind;
  };
  const auto before = count();
  ASSERT_EQ(before.at("state"), 2) << ::testing::PrintToString(before);

  CommandResult no_kind = world_->Cli(*node_, {"forget", "--keep-last", "1"});
  EXPECT_EQ(no_kind.exit_code, 2) << no_kind.Describe();
  EXPECT_NE(no_kind.err.find("--kind"), std::string::npos) << no_kind.Describe();
  EXPECT_EQ(count(), before);

  CommandResult state_only = world_->Cli(*node_, {"forget", "--kind", "state", "--keep-last", "1"});
  EXPECT_EQ(state_only.exit_code, 0) << state_only.Describe();
  auto after = before;
  after["state"] = 1;
  EXPECT_EQ(count(), after) << "only state snapshots are judged by a state policy";
}

}  // namespace
}  // namespace ailee::it

namespace ailee::it {
namespace {

// Without a block archive, a height a snapshot holds exactly is restorable
// (no replay needed); one block further is outside the window (exit 4).
TEST_F(BackupAllIt, ToHeightOfASnapshotNeedsNoArchiveAndOneBlockMoreIsOutsideTheWindow) {
  ASSIGN_OR_FAIL(auto all, world_->JsonOk(*node_, {"backup", "state", "--offline"}));
  const uint64_t h = all["height"].get<uint64_t>();
  const std::string target = world_->scenario().dir().path() + "/at-height";
  ASSIGN_OR_FAIL(auto restored, world_->JsonOk(*node_, {"restore", "--to-height", std::to_string(h), "--target", target}));
  EXPECT_EQ(restored["height"], h) << restored.dump();
  EXPECT_EQ(restored["blocks_replayed"], 0) << restored.dump();
  CommandResult beyond = world_->Cli(*node_, {"restore", "--to-height", std::to_string(h + 1), "--target",
                                              world_->scenario().dir().path() + "/beyond"});
  EXPECT_EQ(beyond.exit_code, 4) << beyond.Describe();
  EXPECT_NE(beyond.err.find("beyond the block archive"), std::string::npos) << beyond.Describe();
}

}  // namespace
}  // namespace ailee::it
