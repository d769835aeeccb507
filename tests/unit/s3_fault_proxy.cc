#include "s3_fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace ailee::storage::s3::testing {
namespace {

bool SendAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

const char* Reason(int status) {
  switch (status) {
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Injected";
  }
}

}  // namespace

FaultProxy::FaultProxy(int upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("FaultProxy: cannot listen on loopback");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) t.join();
  ::close(listen_fd_);
}

void FaultProxy::Add(Fault fault) {
  std::lock_guard lock(mu_);
  faults_.push_back(std::move(fault));
}

void FaultProxy::ClearFaults() {
  std::lock_guard lock(mu_);
  faults_.clear();
}

std::vector<std::string> FaultProxy::request_heads() const {
  std::lock_guard lock(mu_);
  return heads_;
}

void FaultProxy::ClearRecorded() {
  std::lock_guard lock(mu_);
  heads_.clear();
}

bool FaultProxy::TakeFault(const std::string& request_line, Fault* out) {
  std::lock_guard lock(mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->count <= 0 || request_line.find(it->match) == std::string::npos) continue;
    *out = *it;
    if (--it->count == 0) faults_.erase(it);
    ++fired_;
    return true;
  }
  return false;
}

void FaultProxy::AcceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    open_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FaultProxy::Serve(int client) {
  auto finish = [&](int fd) {
    std::lock_guard lock(mu_);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    ::close(fd);
  };
  std::string buf;
  size_t head_end = std::string::npos;
  char chunk[65536];
  while (head_end == std::string::npos) {
    ssize_t n = ::recv(client, chunk, sizeof chunk, 0);
    if (n <= 0) return finish(client);
    buf.append(chunk, static_cast<size_t>(n));
    head_end = buf.find("\r\n\r\n");
  }
  std::string head = buf.substr(0, head_end + 4);
  std::string rest = buf.substr(head_end + 4);
  {
    std::lock_guard lock(mu_);
    heads_.push_back(head);
  }
  std::string request_line = head.substr(0, head.find("\r\n"));
  std::string lower = Lower(head);
  Fault fault;
  if (TakeFault(request_line, &fault)) {
    if (fault.action == Action::kReset) {
      linger l{1, 0};  // close with RST
      ::setsockopt(client, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      return finish(client);
    }
    if (fault.action == Action::kStatus) {
      // Read a body the client is already sending (no Expect: 100-continue),
      // so closing does not turn our answer into a reset.
      size_t cl_pos = lower.find("\r\ncontent-length:");
      uint64_t length = cl_pos == std::string::npos ? 0 : std::strtoull(lower.c_str() + cl_pos + 17, nullptr, 10);
      if (lower.find("expect: 100-continue") == std::string::npos) {
        while (rest.size() < length) {
          ssize_t n = ::recv(client, chunk, sizeof chunk, 0);
          if (n <= 0) break;
          rest.append(chunk, static_cast<size_t>(n));
        }
      }
      std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + fault.code +
                         "</Code><Message>injected by FaultProxy</Message></Error>";
      std::string resp = "HTTP/1.1 " + std::to_string(fault.status) + " " + Reason(fault.status) +
                         "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\nConnection: close\r\n\r\n";
      if (request_line.rfind("HEAD ", 0) != 0) resp += body;
      SendAll(client, resp.data(), resp.size());
      ::shutdown(client, SHUT_WR);
      return finish(client);
    }
    for (int64_t waited = 0; waited < fault.delay_ms && !stop_; waited += 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
  if (::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(up);
    return finish(client);
  }
  // One request per connection: drop the client's Connection header, ask
  // for close.
  std::string out;
  size_t pos = 0;
  while (pos < head.size() - 2) {
    size_t eol = head.find("\r\n", pos);
    std::string line = head.substr(pos, eol + 2 - pos);
    if (Lower(line).rfind("connection:", 0) != 0) out += line;
    pos = eol + 2;
  }
  out += "Connection: close\r\n\r\n";
  out += rest;
  if (!SendAll(up, out.data(), out.size())) {
    ::close(up);
    return finish(client);
  }
  pollfd fds[2] = {{client, POLLIN, 0}, {up, POLLIN, 0}};
  while (!stop_) {
    if (::poll(fds, 2, 100) < 0) break;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(client, chunk, sizeof chunk, 0);
      if (n <= 0 || !SendAll(up, chunk, static_cast<size_t>(n))) break;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(up, chunk, sizeof chunk, 0);
      if (n <= 0 || !SendAll(client, chunk, static_cast<size_t>(n))) break;
    }
  }
  ::close(up);
  ::shutdown(client, SHUT_WR);
  finish(client);
}

}  // namespace ailee::storage::s3::testing
