#include "ops/drill/sandbox_node.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/fs.h"
#include "node/client.h"

namespace ailee::ops {
namespace {

std::string LogTail(const std::string& path) {
  auto text = fs::ReadFile(path);
  if (!text.ok()) return "(no log)";
  const std::string& t = *text;
  return t.size() > 1500 ? t.substr(t.size() - 1500) : t;
}

// The exit code, or 128+signal; -1 while it runs.
int Reap(pid_t pid, bool block) {
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

Result<int> PickFreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const std::string why = std::strerror(errno);
    close(fd);
    return Unavailable("no free loopback port: " + why);
  }
  close(fd);
  return static_cast<int>(ntohs(a.sin_port));
}

Status SandboxNode::Start(const std::string& binary, const std::string& config_path, const std::string& log_path,
                          const std::string& url, const std::string& node_id, int64_t timeout_ms,
                          const std::function<bool()>& cancelled) {
  if (running()) return Internal("sandbox node already started");
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) return Internal("opening the sandbox node's log " + log_path + ": " + std::strerror(errno));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(log);
    return Internal(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the drill died before prctl
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    const int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, STDIN_FILENO);
    execl(binary.c_str(), binary.c_str(), "--config", config_path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(log);
  pid_ = pid;

  node::NodeClient client(url, "", 1000);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    const int code = Reap(pid_, false);
    if (code >= 0) {
      pid_ = -1;
      return Unavailable("the sandbox node (" + binary + ") exited with code " + std::to_string(code) +
                         " before it answered; its log ends:\n" + LogTail(log_path));
    }
    auto health = client.GetJson("/v1/health");
    // A 503 is an answer too: the node runs and says what is wrong.
    if (health.ok() || health.status().code() == StatusCode::kInternal) {
      auto status = client.GetJson("/v1/status");
      const std::string answered = status.ok() ? status->value("node_id", "") : "";
      if (answered == node_id) return Status::Ok();
      if (status.ok()) {
        (void)Stop();
        return Unavailable("another process took the sandbox node's port: " + url + " answers as node '" + answered +
                           "', not '" + node_id + "'");
      }
    }
    if (cancelled && cancelled()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (void)Stop();
  if (cancelled && cancelled()) return Aborted("the drill was interrupted while the sandbox node started");
  return Unavailable("the sandbox node did not answer at " + url + " within " + std::to_string(timeout_ms / 1000) +
                     " s; its log ends:\n" + LogTail(log_path));
}

Status SandboxNode::Stop() {
  if (pid_ <= 0) return Status::Ok();
  const pid_t pid = pid_;
  pid_ = -1;
  kill(pid, SIGTERM);
  for (int i = 0; i < 150; ++i) {
    const int code = Reap(pid, false);
    if (code == 0) return Status::Ok();
    if (code > 0) return Internal("the sandbox node exited with code " + std::to_string(code) + " when stopped");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid, SIGKILL);
  Reap(pid, true);
  return Internal("the sandbox node did not stop within 15 s of SIGTERM and was killed");
}

}  // namespace ailee::ops
