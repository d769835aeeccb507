// FaultProxy: a loopback HTTP proxy in front of a real S3 server that
// misbehaves on request, so retries are tested against real failures.
//
// Every client connection carries one request (the proxy asks the server
// for "Connection: close"), so faults apply per request. A queued fault
// applies to the next `count` requests whose request line contains `match`
// (empty: any): answer with an HTTP error status and an S3 error body,
// reset the connection (RST), or hold the request for `delay_ms` before
// passing it on. Everything else passes through untouched (the Host header
// is kept, so SigV4 signatures stay valid). The request heads seen are
// recorded for assertions.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ailee::storage::s3::testing {

class FaultProxy {
 public:
  enum class Action { kStatus, kReset, kDelay };
  struct Fault {
    Action action = Action::kStatus;
    int status = 503;
    std::string code = "SlowDown";  // S3 error code in the body
    int64_t delay_ms = 0;
    std::string match;  // substring of the request line ("PUT ", "partNumber=2")
    int count = 1;
  };

  // Forwards to 127.0.0.1:`upstream_port`.
  explicit FaultProxy(int upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void Add(Fault fault);
  void ClearFaults();
  int faults_fired() const { return fired_.load(); }
  std::vector<std::string> request_heads() const;
  void ClearRecorded();

 private:
  void AcceptLoop();
  void Serve(int client);
  bool TakeFault(const std::string& request_line, Fault* out);

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> fired_{0};
  mutable std::mutex mu_;
  std::vector<Fault> faults_;
  std::vector<std::string> heads_;
  std::vector<std::thread> threads_;
  std::vector<int> open_fds_;
  std::thread acceptor_;
};

}  // namespace ailee::storage::s3::testing
