#include "harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <thread>

#include "base/fs.h"
#include "base/hex.h"
#include "drain.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "state/block.h"
#include "state/transaction.h"

#ifndef AILEE_BINARY_DIR
#error "AILEE_BINARY_DIR must be defined by the build (ailee_test does it)"
#endif

namespace ailee::it {
namespace {

using Clock = std::chrono::steady_clock;

// argv as the char* array execv wants, built before fork (the child may only
// make async-signal-safe calls).
struct Argv {
  explicit Argv(const std::vector<std::string>& args) : storage(args) {
    for (auto& a : storage) ptrs.push_back(a.data());
    ptrs.push_back(nullptr);
  }
  std::vector<std::string> storage;
  std::vector<char*> ptrs;
};

// In the child between fork and exec: die with the parent, wire fds 0/1/2,
// close everything else, exec. Only async-signal-safe calls.
[[noreturn]] void ExecChild(const Argv& argv, pid_t parent, int out_fd, int err_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);  // the parent already died
  // The test binary may block signals; the node sets its own mask.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, 0);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  close_range(3, ~0U, 0);
  execv(argv.ptrs[0], argv.ptrs.data());
  _exit(127);
}

std::string TempParent() {
  for (const char* var : {"AILEE_TEST_TMPDIR", "TMPDIR"}) {
    const char* v = std::getenv(var);
    if (v && *v) return v;
  }
  return "/tmp";
}

}  // namespace

std::string NodeBinary() {
  const char* v = std::getenv("AILEE_NODE_BIN");
  return v && *v ? v : std::string(AILEE_BINARY_DIR) + "/src/node/ailee-node";
}

std::string CliBinary() {
  const char* v = std::getenv("AILEE_CLI_BIN");
  return v && *v ? v : std::string(AILEE_BINARY_DIR) + "/src/cli/ailee-cli";
}

// ------------------------------------------------------------------ files

TempDir::TempDir(const std::string& tag) {
  std::string tmpl = TempParent() + "/ailee-it-" + tag + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "mkdtemp %s: %s\n", tmpl.c_str(), std::strerror(errno));
    std::abort();
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  const char* keep = std::getenv("AILEE_KEEP_TEST_DIRS");
  if (keep && *keep && std::string(keep) != "0") {
    std::fprintf(stderr, "[harness] kept %s\n", path_.c_str());
    return;
  }
  (void)fs::RemoveAll(path_);
}

std::string TempDir::Join(const std::string& rel) const { return fs::JoinPath(path_, rel); }

Status WriteFile(const std::string& path, const std::string& data, unsigned mode) {
  RETURN_IF_ERROR(fs::MakeDirs(fs::Dirname(path)));
  return fs::WriteFileAtomic(path, data, mode);
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  auto text = fs::ReadFile(path);
  if (!text.ok()) return "";
  return text->size() <= max_bytes ? *text : "..." + text->substr(text->size() - max_bytes);
}

int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool WaitUntil(const std::function<bool()>& pred, Millis timeout, Millis every) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

// -------------------------------------------------------------- processes

std::string CommandResult::Describe() const {
  std::string s = "exit code " + std::to_string(exit_code) + (timed_out ? " (timed out, killed)" : "");
  s += "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
  return s;
}

std::ostream& operator<<(std::ostream& os, const CommandResult& r) { return os << r.Describe(); }

CommandResult Run(const std::vector<std::string>& args, Millis timeout) {
  CommandResult r;
  int out_pipe[2], err_pipe[2];
  if (!ailee::testing::OpenOutputPipes(out_pipe, err_pipe, &r.err)) return r;
  Argv argv(args);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecChild(argv, parent, out_pipe[1], err_pipe[1]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    r.err = std::string("fork: ") + std::strerror(errno);
    close(out_pipe[0]);
    close(err_pipe[0]);
    return r;
  }

  ailee::testing::Drained d = ailee::testing::DrainAndReap(pid, out_pipe[0], err_pipe[0], timeout);
  r.out = std::move(d.out);
  r.err = std::move(d.err);
  r.timed_out = d.timed_out;
  r.exit_code = ailee::testing::ExitCodeFromWaitStatus(d.wait_status);
  return r;
}

Result<Process> Process::Spawn(const std::vector<std::string>& args, const std::string& log_path) {
  if (args.empty()) return InvalidArgument("Process::Spawn: empty argv");
  if (access(args[0].c_str(), X_OK) != 0) return NotFound(args[0] + " is not an executable (is it built?)");
  RETURN_IF_ERROR(fs::MakeDirs(fs::Dirname(log_path)));
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return ErrnoStatus("open", log_path, errno);
  Argv argv(args);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecChild(argv, parent, log, log);
  close(log);
  if (pid < 0) return ErrnoStatus("fork", args[0], errno);
  Process p;
  p.pid_ = pid;
  return p;
}

Process::~Process() {
  if (pid_ > 0 && !exit_code_) Kill();
}

Process::Process(Process&& other) noexcept : pid_(other.pid_), exit_code_(other.exit_code_) {
  other.pid_ = -1;
  other.exit_code_.reset();
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !exit_code_) Kill();
    pid_ = other.pid_;
    exit_code_ = other.exit_code_;
    other.pid_ = -1;
    other.exit_code_.reset();
  }
  return *this;
}

bool Process::Running() {
  if (pid_ <= 0 || exit_code_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = ailee::testing::ExitCodeFromWaitStatus(status);
    return false;
  }
  return r == 0;
}

namespace {

// True once every thread of `pid` is in the stopped state ('T' in
// /proc/PID/task/TID/stat). kill(SIGSTOP) returns before a thread running
// on another core has stopped, and such a thread can still answer a request.
bool AllThreadsStopped(pid_t pid) {
  const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  bool any = false;
  for (const auto& entry : std::filesystem::directory_iterator(task_dir, ec)) {
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) return false;
    const char state = stat[close + 2];
    if (state != 'T' && state != 't') return false;
    any = true;
  }
  return any && !ec;
}

}  // namespace

void Process::Signal(int sig) {
  if (pid_ <= 0 || exit_code_) return;
  kill(pid_, sig);
  if (sig == SIGSTOP) WaitUntil([&] { return AllThreadsStopped(pid_) || !Running(); }, Millis(5000), Millis(1));
}

std::optional<int> Process::Wait(Millis timeout) {
  WaitUntil([&] { return !Running(); }, timeout, Millis(10));
  return exit_code_;
}

int Process::Stop(Millis timeout) {
  if (pid_ <= 0) return -1;
  Signal(SIGTERM);
  if (auto code = Wait(timeout)) return *code;
  return Kill();
}

int Process::Kill() {
  if (pid_ <= 0) return -1;
  if (exit_code_) return *exit_code_;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_code_ = ailee::testing::ExitCodeFromWaitStatus(status);
  return *exit_code_;
}

// ------------------------------------------------------ federation and config

Result<SignerKey> MakeSignerKey(const std::string& dir, const std::string& id) {
  ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  ASSIGN_OR_RETURN(crypto::SecureBytes pem, key.ToPem());
  SignerKey s{id, fs::JoinPath(dir, id + ".key"), fs::JoinPath(dir, id + ".pub"), std::move(key)};
  RETURN_IF_ERROR(WriteFile(s.key_file, std::string(pem.view()), 0600));
  RETURN_IF_ERROR(WriteFile(s.pub_file, s.key.public_key().Pem(), 0644));
  return s;
}

NodeSpec NodeSpec::Leader(std::string id, int64_t block_interval_ms, int64_t commitment_interval) {
  NodeSpec s;
  s.id = std::move(id);
  s.block_interval_ms = block_interval_ms;
  s.commitment_interval = commitment_interval;
  return s;
}

NodeSpec NodeSpec::Follower(std::string id, std::string leader_url, int64_t block_interval_ms,
                            int64_t commitment_interval) {
  NodeSpec s = Leader(std::move(id), block_interval_ms, commitment_interval);
  s.leader = false;
  s.follow = std::move(leader_url);
  return s;
}

std::string RenderConfig(const NodeSpec& spec, int port, const std::vector<SignerKey>& federation,
                         const SignerKey* signer) {
  std::string y;
  y += "node:\n";
  y += "  id: " + spec.id + "\n";
  y += "  data_dir: data\n";
  y += "  listen: 127.0.0.1:" + std::to_string(port) + "\n";
  y += "  block_interval_ms: " + std::to_string(spec.block_interval_ms) + "\n";
  y += "  commitment_interval: " + std::to_string(spec.commitment_interval) + "\n";
  if (spec.mempool_capacity > 0) y += "  mempool_capacity: " + std::to_string(spec.mempool_capacity) + "\n";
  y += "federation:\n";
  y += "  threshold: " + std::to_string(spec.federation_threshold) + "\n";
  y += "  signers:\n";
  for (const auto& s : federation) {
    y += "    - id: " + s.id + "\n";
    y += "      public_key_file: " + s.pub_file + "\n";
  }
  if (signer && spec.leader) {  // leader = false: no key-file signer (extra_yaml may bring its own)
    y += "signer:\n";
    y += "  id: " + signer->id + "\n";
    y += "  key_file: " + (spec.signer_key_file.empty() ? signer->key_file : spec.signer_key_file) + "\n";
  }
  if (!spec.follow.empty()) y += "follow: " + spec.follow + "\n";
  y += "logging:\n";
  y += "  audit_log: audit.log\n";
  if (!spec.log_file.empty()) y += "  log_file: " + spec.log_file + "\n";
  y += spec.extra_yaml;
  return y;
}

// ------------------------------------------------------------------- nodes

TestNode::TestNode(std::string dir, NodeSpec spec, std::vector<SignerKey> federation, std::optional<SignerKey> signer)
    : dir_(std::move(dir)), spec_(std::move(spec)), federation_(std::move(federation)), signer_(std::move(signer)) {}

std::string TestNode::config_path() const { return fs::JoinPath(dir_, "config.yaml"); }
std::string TestNode::data_dir() const { return fs::JoinPath(dir_, "data"); }
std::string TestNode::log_path() const { return fs::JoinPath(dir_, "node.log"); }
std::string TestNode::admin_token_path() const { return fs::JoinPath(data_dir(), "admin.token"); }

std::string TestNode::AdminToken() const {
  auto text = fs::ReadFile(admin_token_path());
  return text.ok() ? text->substr(0, text->find('\n')) : std::string();
}
std::string TestNode::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

Status TestNode::WriteConfig() {
  return WriteFile(config_path(), RenderConfig(spec_, port_, federation_, signer_ ? &*signer_ : nullptr), 0644);
}

Status TestNode::Start(Millis timeout) {
  if (process_.Running()) return FailedPrecondition("node " + spec_.id + " is already running");
  const auto deadline = Clock::now() + timeout;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (port_ == 0 || attempt > 0) {
      port_ = PickFreePort();
      if (port_ == 0) return Unavailable("no free loopback port");
      RETURN_IF_ERROR(WriteConfig());
    }
    std::vector<std::string> argv{NodeBinary(), "--config", config_path()};
    argv.insert(argv.end(), spec_.node_args.begin(), spec_.node_args.end());
    ASSIGN_OR_RETURN(process_, Process::Spawn(argv, log_path()));
    node::NodeClient client(url(), "", 1000);
    bool healthy = false;
    WaitUntil([&] {
      if (!process_.Running()) return true;
      // A 503 is an answer too: the node runs and reports a problem (e.g. forked).
      auto health = client.GetJson("/v1/health");
      healthy = health.ok() || health.status().message().find(" answered HTTP 503") != std::string::npos;
      return healthy || Clock::now() >= deadline;
    }, std::chrono::duration_cast<Millis>(deadline - Clock::now()) + Millis(100), Millis(20));
    if (healthy) return Status::Ok();
    if (process_.Running()) {
      process_.Kill();
      return Unavailable("node " + spec_.id + " did not answer /v1/health on " + url() + " in " +
                         std::to_string(timeout.count()) + " ms; log:\n" + FileTail(log_path()));
    }
    std::string log = FileTail(log_path());
    if (log.find("cannot listen") == std::string::npos) {
      return Internal("node " + spec_.id + " exited with code " + std::to_string(process_.exit_code().value_or(-1)) +
                      " before answering; log:\n" + log);
    }
    // The port was taken between PickFreePort and bind: try another one.
  }
  return Unavailable("node " + spec_.id + " could not bind a port after 3 attempts; log:\n" + FileTail(log_path()));
}

int TestNode::Terminate(Millis timeout) { return process_.Stop(timeout); }
int TestNode::Kill() { return process_.Kill(); }
bool TestNode::Running() { return process_.Running(); }

Status TestNode::Reconfigure(NodeSpec spec) {
  spec_ = std::move(spec);
  return port_ == 0 ? Status::Ok() : WriteConfig();
}

node::NodeClient TestNode::Client(int timeout_ms) const { return node::NodeClient(url(), "", timeout_ms); }

Result<nlohmann::json> TestNode::StatusJson() const { return Client().GetJson("/v1/status"); }

Result<uint64_t> TestNode::Height() const {
  ASSIGN_OR_RETURN(auto s, StatusJson());
  return s["height"].get<uint64_t>();
}

Status TestNode::WaitForHeight(uint64_t height, Millis timeout) const {
  uint64_t last = 0;
  auto client = Client();
  bool ok = WaitUntil([&] {
    auto s = client.GetJson("/v1/status");
    if (s.ok()) last = (*s)["height"].get<uint64_t>();
    return last >= height;
  }, timeout);
  if (ok) return Status::Ok();
  return Unavailable("node " + spec_.id + " at height " + std::to_string(last) + " did not reach " +
                     std::to_string(height) + " in " + std::to_string(timeout.count()) + " ms");
}

Result<std::map<uint64_t, std::string>> TestNode::BlocksByHeight() const {
  std::map<uint64_t, std::string> out;
  auto client = Client(20000);
  for (uint64_t from = 1;;) {
    ASSIGN_OR_RETURN(auto batch, client.GetJson("/v1/blocks?from=" + std::to_string(from) + "&limit=1000"));
    if (batch["blocks"].empty()) return out;
    for (const auto& b : batch["blocks"]) out[b["height"].get<uint64_t>()] = b["encoded"].get<std::string>();
    from = out.rbegin()->first + 1;
  }
}

Result<crypto::Hash256> TestNode::ChainId() const {
  RETURN_IF_ERROR(WaitForHeight(1, Millis(5000)));
  ASSIGN_OR_RETURN(auto doc, Client().GetJson("/v1/blocks/1"));
  auto raw = HexDecode(doc.value("encoded", ""));
  if (!raw) return DataLoss("GET /v1/blocks/1 of " + url() + ": no hex \"encoded\" block");
  ASSIGN_OR_RETURN(state::Block block, state::DecodeBlock(*raw));
  return block.header.Hash();
}

// ---------------------------------------------------------------- scenario

namespace {
SignerKey MustMakeSignerKey(const std::string& dir) {
  auto k = MakeSignerKey(dir, "signer-01");
  if (!k.ok()) {
    std::fprintf(stderr, "harness: %s\n", k.status().ToString().c_str());
    std::abort();
  }
  return std::move(k).value();
}
}  // namespace

Scenario::Scenario(const std::string& tag) : dir_(tag), signer_(MustMakeSignerKey(dir_.Join("keys"))) {}

TestNode Scenario::AddNode(NodeSpec spec) {
  std::optional<SignerKey> signer;
  if (spec.leader) signer = signer_;
  std::string node_dir = dir_.Join(spec.id);  // before spec is moved from
  return TestNode(std::move(node_dir), std::move(spec), {signer_}, std::move(signer));
}

Result<NodeSpec> Scenario::WithOwnKeyCopy(NodeSpec spec) const {
  spec.signer_key_file = dir_.Join(spec.id + ".key");
  ASSIGN_OR_RETURN(std::string pem, fs::ReadFile(signer_.key_file));
  RETURN_IF_ERROR(WriteFile(spec.signer_key_file, pem, 0600));
  return spec;
}

CommandResult Scenario::Cli(const TestNode& node, const std::vector<std::string>& args, Millis timeout) const {
  std::vector<std::string> argv{CliBinary(), "--config", node.config_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, timeout);
}

CommandResult Scenario::CliRaw(const std::vector<std::string>& args, Millis timeout) const {
  std::vector<std::string> argv{CliBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, timeout);
}

Result<Process> Scenario::CliBackground(const TestNode& node, const std::vector<std::string>& args,
                                        const std::string& log_path) const {
  std::vector<std::string> argv{CliBinary(), "--config", node.config_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Process::Spawn(argv, log_path);
}

Result<crypto::Ed25519KeyPair> Scenario::FundAccount(const TestNode& leader, uint64_t amount, Millis timeout) {
  crypto::Ed25519KeyPair account = crypto::Ed25519Generate();
  RETURN_IF_ERROR(PegIn(leader, account.public_key, amount, timeout));
  return account;
}

Status Scenario::PegIn(const TestNode& leader, const std::string& public_key, uint64_t amount, Millis timeout) {
  auto client = leader.Client();
  ASSIGN_OR_RETURN(auto info, client.GetJson("/v1/signers/" + signer_.id));
  std::string btc_txid = crypto::HashToString(crypto::Sha256("it-btc/" + dir_.path() + "/" + std::to_string(btc_counter_++)));
  ASSIGN_OR_RETURN(auto tx, state::MakePegIn(signer_.key, signer_.id, public_key, amount, btc_txid,
                                             info["nonce"].get<uint64_t>()));
  ASSIGN_OR_RETURN(auto submitted, client.PostJson("/v1/tx", state::TransactionToJson(tx)));
  (void)submitted;
  const std::string path = "/v1/accounts/" + state::AccountIdHex(public_key);
  if (!WaitUntil([&] { return client.GetJson(path).ok(); }, timeout)) {
    return Unavailable("peg-in to " + state::AccountIdHex(public_key) + " not in a block after " +
                       std::to_string(timeout.count()) + " ms");
  }
  return Status::Ok();
}

}  // namespace ailee::it
