// ailee-cli keys generate killed (SIGKILL) at its steps: once its journal is
// written, once the key exists (file, or objects on a SoftHSM2 token), once
// the first backup or record is written, and at a random moment; then the
// same command again completes, and exactly one key exists, with its
// backups (or records), the half-made one removed and reported. A journal
// of a live run, of another signer, or a half-made key that has signed
// since is never removed.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "keys/generate_journal.h"
#include "keys/pkcs11.h"
#include "keys_testing.h"

namespace ailee::keys {
namespace {

using keytest::ProcResult;
using keytest::SoftHsm;
using keytest::TempDir;
using Millis = std::chrono::milliseconds;

// ailee-cli in the background, its output discarded: a run to kill.
pid_t StartCli(std::vector<std::string> args, const std::vector<std::string>& extra_env) {
  args.insert(args.begin(), keytest::CliPath());
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  env_store.insert(env_store.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp, argv;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

// SIGKILLs `pid` as soon as `now()` holds (polled every 200 us, for at most
// 30 s); false when the run ended before that.
bool KillWhen(pid_t pid, const std::function<bool()>& now) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (now()) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return WIFSIGNALED(status);
    }
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return true;
}

std::set<std::string> Names(const std::string& dir) {
  auto names = fs::ListDir(dir);
  return names.ok() ? std::set<std::string>(names->begin(), names->end()) : std::set<std::string>{};
}

// A kill point: what must exist (or a delay) before the SIGKILL.
struct KillPoint {
  std::string name;
  std::function<bool()> reached;
};

class KeysGenerateKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KEYTEST_REQUIRE_CLI();
  }
  // A killed run could not stop the gpg-agent of its private gpg home.
  void TearDown() override {
    for (const auto& name : Names(root / "tmp"))
      if (name.starts_with("ailee-gnupg-"))
        keytest::RunTool({"gpgconf", "--homedir", root / ("tmp/" + name), "--kill", "gpg-agent"});
  }
  ProcResult Cli(const std::vector<std::string>& args) { return cli.Cli(args, extra_env); }
  pid_t Start(const std::vector<std::string>& args) { return StartCli(cli.Args(args), cli.Env(extra_env)); }
  // A delay drawn from AILEE_TEST_SEED (or a random seed), printed to repeat it.
  std::function<bool()> After(int max_ms) {
    static std::mt19937_64 rng = [] {
      uint64_t seed = std::random_device{}();
      if (const char* v = std::getenv("AILEE_TEST_SEED"); v && *v) seed = std::strtoull(v, nullptr, 10);
      std::cout << "keys generate kill test seed: " << seed << " (AILEE_TEST_SEED=" << seed << " repeats it)\n";
      return std::mt19937_64(seed);
    }();
    const auto at = std::chrono::steady_clock::now() + Millis(std::uniform_int_distribution<int>(0, max_ms)(rng));
    return [at] { return std::chrono::steady_clock::now() >= at; };
  }

  // After a kill past the commit point: the rerun refuses to make another
  // key ("already exists", exit 7) and leaves `kept` byte for byte.
  void ExpectRerunRefusesAndKeeps(const std::vector<std::string>& args, const std::string& id,
                                  const std::string& kept) {
    const auto committed = fs::ReadFile(kept);
    ASSERT_TRUE(committed.ok());
    ProcResult rerun = Cli(args);
    EXPECT_EQ(rerun.exit_code, 7) << id << " rerun after a kill past the commit point: " << rerun.out << rerun.err;
    EXPECT_NE(rerun.err.find("already exists"), std::string::npos) << rerun.err;
    EXPECT_EQ(*fs::ReadFile(kept), *committed) << id << ": the rerun changed " << kept;
  }

  keytest::CliRoot cli{"kill test pass phrase"};
  const TempDir& root = cli.root;
  const std::string& pass_file = cli.pass_file;
  std::vector<std::string> extra_env;
};

TEST_F(KeysGenerateKillTest, KilledAtEachStepOfAFileKeyThenTheRerunMakesExactlyOneKeyWithItsBackups) {
  int half_made = 0;
  for (int i = 0; i < 5; ++i) {
    const std::string id = "signer-1" + std::to_string(i);
    const std::string key = root / ("keys/" + id + ".key");
    const std::string b1 = root / ("b1-" + id), b2 = root / ("b2-" + id), sh = root / ("sh-" + id);
    const std::string pub = root / (id + ".pub");
    const bool shares = i % 2 == 1;  // a random passphrase split into shares
    std::vector<std::string> args = {"keys", "generate", "--id", id, "--key-file", key, "--out", b1, "--out", b2,
                                     "--public-key-out", pub};
    if (shares) {
      args.insert(args.end(), {"--shares", "2/3", "--shares-out", sh});
    } else {
      args.insert(args.end(), {"--passphrase-file", pass_file});
    }
    const std::vector<KillPoint> points = {
        {"journal written", [&] { return fs::Exists(GenerateJournalPath(key)); }},
        {"key file written", [&] { return fs::Exists(key); }},
        {"first backup written", [&] { return fs::Exists(b1 + "/" + id + ".key.gpg"); }},
        {"second backup's metadata written", [&] { return fs::Exists(b2 + "/" + id + ".key.json"); }},
        {"a random moment", After(400)},
    };
    const KillPoint& point = points[static_cast<size_t>(i)];
    pid_t pid = Start(args);
    ASSERT_GT(pid, 0);
    const bool killed = KillWhen(pid, point.reached);
    const bool left_half = killed && fs::Exists(key) && fs::Exists(GenerateJournalPath(key));
    half_made += left_half ? 1 : 0;
    std::cout << id << ": " << (killed ? "killed at " + point.name : "finished before " + point.name)
              << (left_half ? ", leaving a key with its journal" : "") << "\n";
    std::string half_fp;
    if (left_half) {
      auto half = crypto::PrivateKey::FromPem(crypto::SecureBytes(*fs::ReadFile(key)));
      ASSERT_TRUE(half.ok());
      half_fp = half->public_key().FingerprintHex();
    }
    if (!killed) continue;  // done: nothing to repair
    // The kill can land after the commit point (the journal removed), while
    // the run was only ending: the key is complete, so a rerun must refuse to
    // make another one and leave it as it is.
    if (!fs::Exists(GenerateJournalPath(key)) && fs::Exists(key)) {
      ExpectRerunRefusesAndKeeps(args, id, key);
      continue;
    }

    args.insert(args.begin(), "--json");
    ProcResult rerun = Cli(args);
    ASSERT_EQ(rerun.exit_code, 0) << id << " after a kill at " << point.name << ": " << rerun.out << rerun.err;
    auto j = nlohmann::json::parse(rerun.out);
    const std::string fp = j["fingerprint"];
    auto made = crypto::PrivateKey::FromPem(crypto::SecureBytes(*fs::ReadFile(key)));
    ASSERT_TRUE(made.ok());
    EXPECT_EQ(made->public_key().FingerprintHex(), fp);
    EXPECT_EQ(*fs::ReadFile(pub), made->public_key().Pem());
    if (left_half) {
      ASSERT_TRUE(j.contains("replaced_interrupted_key")) << j.dump(2);
      EXPECT_EQ(j["replaced_interrupted_key"]["fingerprint"], half_fp);
      EXPECT_NE(half_fp, fp);
    }
    // Exactly one key: the key file and nothing else of it (no journal, no
    // temporary plaintext copy); exactly its backups, its shares.
    std::set<std::string> of_key;
    for (const auto& n : Names(root / "keys"))
      if (n.starts_with(id + ".")) of_key.insert(n);
    EXPECT_EQ(of_key, std::set<std::string>{id + ".key"});
    for (const auto& dir : {b1, b2})
      EXPECT_EQ(Names(dir), (std::set<std::string>{id + ".key.gpg", id + ".key.json"})) << dir;
    if (shares) {
      EXPECT_EQ(Names(sh).size(), 3u);
      auto names = *fs::ListDir(sh);
      ProcResult v = Cli({"keys", "verify", "--id", id, "--no-federation-check", b2, "--shares",
                          sh + "/" + names[0], sh + "/" + names[1]});
      EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    } else {
      auto dec = keytest::GpgDecrypt(b1 + "/" + id + ".key.gpg", "kill test pass phrase");
      ASSERT_EQ(dec.exit_code, 0) << dec.err;
      EXPECT_EQ(dec.out, *fs::ReadFile(key));
    }
  }
  EXPECT_GT(half_made, 0) << "no kill left a key without its backups: the kills all came too late";
  auto audit = fs::ReadFile(root / "audit.log");
  ASSERT_TRUE(audit.ok());
  EXPECT_NE(audit->find("replaced_interrupted_key"), std::string::npos);
}

TEST_F(KeysGenerateKillTest, KilledAtEachStepOfATokenKeyThenTheRerunMakesExactlyOneKeyWithItsRecord) {
  if (!SoftHsm::Available()) GTEST_FAIL() << "softhsm2 absent: run scripts/install-deps.sh";
  SoftHsm hsm;
  ASSERT_EQ(hsm.InitToken("kill").exit_code, 0);
  extra_env.push_back("AILEE_PKCS11_PIN=1234");
  extra_env.push_back(std::string("SOFTHSM2_CONF=") + std::getenv("SOFTHSM2_CONF"));
  // SoftHSM2's file store: one *.object file per object on the token.
  auto objects = [&] {
    size_t n = 0;
    for (const auto& f : keytest::FilesBelow(hsm.tokens_dir())) n += f.ends_with(".object") ? 1 : 0;
    return n;
  };
  const size_t at_start = objects();
  int half_made = 0;
  for (int i = 0; i < 4; ++i) {
    const std::string id = "signer-2" + std::to_string(i), label = "ailee-" + id;
    const std::string out = root / ("pub-" + id);
    const std::string record = out + "/" + id + ".pkcs11.json";
    std::vector<std::string> args = {"keys", "generate", "--id", id, "--out", out, "--pkcs11", "--module",
                                     SoftHsm::kModule, "--token-label", "kill"};
    const size_t before = objects();
    const std::vector<KillPoint> points = {
        {"journal written", [&] { return fs::Exists(GenerateJournalPath(record)); }},
        {"key pair generated", [&] { return objects() > before; }},
        {"record written", [&] { return fs::Exists(record); }},
        {"a random moment", After(300)},
    };
    const KillPoint& point = points[static_cast<size_t>(i)];
    pid_t pid = Start(args);
    ASSERT_GT(pid, 0);
    const bool killed = KillWhen(pid, point.reached);
    const bool left_half = killed && objects() > before && fs::Exists(GenerateJournalPath(record));
    half_made += left_half ? 1 : 0;
    std::cout << id << ": " << (killed ? "killed at " + point.name : "finished before " + point.name)
              << (left_half ? ", leaving a key on the token with its journal" : "") << "\n";
    if (!killed) continue;
    // Killed past the commit point (the journal removed) while the run was
    // only ending: the key and its record are complete, and a rerun must
    // refuse to make another one and leave both as they are.
    if (!fs::Exists(GenerateJournalPath(record)) && fs::Exists(record)) {
      ExpectRerunRefusesAndKeeps(args, id, record);
      continue;
    }

    args.insert(args.begin(), "--json");
    ProcResult rerun = Cli(args);
    ASSERT_EQ(rerun.exit_code, 0) << id << " after a kill at " << point.name << ": " << rerun.out << rerun.err;
    auto j = nlohmann::json::parse(rerun.out);
    if (left_half) {
      EXPECT_TRUE(j.contains("replaced_interrupted_key")) << j.dump(2);
    }
    // Exactly one key pair under the label (PublicKey refuses several), the
    // one the rerun reported, and exactly its record.
    auto token = Pkcs11Token::Open(SoftHsm::kModule, "kill", crypto::SecureBytes(std::string_view("1234")));
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    auto pub = (*token)->PublicKey({label, ""});
    ASSERT_TRUE(pub.ok()) << pub.status().ToString();
    EXPECT_EQ(pub->FingerprintHex(), j["fingerprint"]);
    auto flags = (*token)->PrivateKeyFlags({label, ""});
    ASSERT_TRUE(flags.ok()) << flags.status().ToString();
    EXPECT_EQ(Names(out), std::set<std::string>{id + ".pkcs11.json"});
    auto rec = nlohmann::json::parse(*fs::ReadFile(record));
    EXPECT_EQ(rec["fingerprint_sha256_spki"], j["fingerprint"]);
  }
  // Nothing else on the token (PKCS#11's view: SoftHSM2 may keep a file of
  // an object a killed process was creating, which no session sees).
  auto token = Pkcs11Token::Open(SoftHsm::kModule, "kill", crypto::SecureBytes(std::string_view("1234")));
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto labels = (*token)->KeyLabels();
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(*labels, (std::vector<std::string>{"ailee-signer-20", "ailee-signer-21", "ailee-signer-22",
                                               "ailee-signer-23"}));
  std::cout << "SoftHSM2 object files: " << objects() - at_start << " for 4 key pairs\n";
  EXPECT_GT(half_made, 0) << "no kill left a key on the token without its record";
}

TEST_F(KeysGenerateKillTest, ALiveRunsJournalAnotherSignersOrAKeyThatSignedSinceIsNeverRemoved) {
  const std::string id = "signer-30";
  const std::string key = root / "keys/signer-30.key";
  std::vector<std::string> args = {"keys", "generate", "--id", id, "--key-file", key, "--out", root / "b30",
                                   "--passphrase-file", pass_file};
  // Half-made by a real kill once the key exists.
  pid_t pid = Start(args);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(KillWhen(pid, [&] { return fs::Exists(key); }));
  if (!fs::Exists(GenerateJournalPath(key))) GTEST_SKIP() << "the run completed before the kill";
  const std::string half = *fs::ReadFile(key);

  // Another signer's rerun at that path: refused, nothing removed.
  ProcResult other = Cli({"keys", "generate", "--id", "signer-31", "--key-file", key, "--out", root / "b31",
                          "--passphrase-file", pass_file});
  EXPECT_EQ(other.exit_code, 1) << other.out << other.err;
  EXPECT_NE(other.err.find("rerun it with --id signer-30"), std::string::npos) << other.err;

  // The half-made key signed since (a node ran it: its fence appeared): kept.
  ASSERT_TRUE(fs::WriteFileAtomic(key + ".fence", "fence\n", 0600).ok());
  ProcResult signed_since = Cli(args);
  EXPECT_EQ(signed_since.exit_code, 1) << signed_since.out << signed_since.err;
  EXPECT_NE(signed_since.err.find("has signed since"), std::string::npos) << signed_since.err;
  EXPECT_EQ(*fs::ReadFile(key), half);
  ASSERT_EQ(::unlink((key + ".fence").c_str()), 0);

  // A journal whose owner runs (this test process): another run in progress.
  const std::string journal = GenerateJournalPath(key);
  ASSERT_EQ(::unlink(journal.c_str()), 0);
  ASSERT_TRUE(WriteGenerateJournal(journal, NewGenerateJournal(id, key, {root / "b30"}, "", "")).ok());
  ProcResult live = Cli(args);
  EXPECT_EQ(live.exit_code, 6) << live.out << live.err;
  EXPECT_NE(live.err.find("is making this key now"), std::string::npos) << live.err;
  EXPECT_EQ(*fs::ReadFile(key), half);
  EXPECT_TRUE(fs::Exists(journal));
}

}  // namespace
}  // namespace ailee::keys
