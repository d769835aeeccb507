#include "base/scratch.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>

#include "base/fs.h"

namespace ailee::fs {

uint64_t ProcessStartTicks(int64_t pid) {
  if (pid <= 0) return 0;
  auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return 0;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so
  // count fields from the last ')'. starttime is field 22, the 20th after it.
  auto close = stat->rfind(')');
  if (close == std::string::npos) return 0;
  const char* p = stat->c_str() + close + 1;
  for (int field = 3; field < 22; ++field) {
    while (*p == ' ') ++p;
    while (*p != ' ' && *p != '\0') ++p;
  }
  return std::strtoull(p, nullptr, 10);
}

std::string OwnerTag() {
  // Cached per pid: a forked child is another owner.
  static std::mutex mu;
  static pid_t cached_pid = -1;
  static std::string cached;
  std::lock_guard lock(mu);
  const pid_t pid = ::getpid();
  if (pid != cached_pid) {
    cached = std::to_string(pid) + "s" + std::to_string(ProcessStartTicks(pid));
    cached_pid = pid;
  }
  return cached;
}

std::string ScratchName(std::string_view prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char hex[16];
  std::snprintf(hex, sizeof hex, "%012llx", static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
  return std::string(prefix) + OwnerTag() + "-" + hex;
}

bool OwnerGone(int64_t pid, uint64_t start_ticks) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return errno == ESRCH;
  if (start_ticks == 0) return false;
  // The pid runs: gone only if it is provably another process now. Read
  // failure (a zombie being reaped, hidepid) says nothing: alive.
  const uint64_t now = ProcessStartTicks(pid);
  return now != 0 && now != start_ticks;
}

bool ParseOwnerTag(std::string_view s, int64_t* pid, uint64_t* start_ticks) {
  size_t i = 0;
  int64_t p = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i < 12) p = p * 10 + (s[i++] - '0');
  if (i == 0 || p <= 0) return false;
  uint64_t start = 0;
  if (i + 1 < s.size() && s[i] == 's' && s[i + 1] >= '0' && s[i + 1] <= '9') {
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) start = start * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  *pid = p;
  *start_ticks = start;
  return true;
}

std::string ProcessSpaceId() {
  std::string boot;
  if (std::FILE* f = std::fopen("/proc/sys/kernel/random/boot_id", "re")) {
    char buf[64] = {};
    if (std::fgets(buf, sizeof buf, f)) boot = buf;
    std::fclose(f);
  }
  while (!boot.empty() && (boot.back() == '\n' || boot.back() == ' ')) boot.pop_back();
  char ns[128] = {};
  ssize_t n = ::readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
  if (boot.empty() || n <= 0) return "";
  return boot + "/" + std::string(ns, static_cast<size_t>(n));
}

}  // namespace ailee::fs
