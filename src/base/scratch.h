// Scratch ownership: telling a killed run's leftovers from a live run's.
//
// Every scratch name (a temporary file, a staging, download or test
// directory) carries its owner right after a fixed prefix:
//
//   "<prefix><pid>s<start>-<random>"   (ScratchName)
//   "<path>.tmp.<pid>s<start>.<n>.<r>" (fs::TempSiblingName)
//
// where <start> is the process's start time in clock ticks since boot
// (/proc/<pid>/stat, field 22). Pid and start time together name one process
// of this boot: a pid the kernel has since given to another process comes
// with another start time. fs::RemoveAbandoned(dir, prefix) removes the
// entries whose owner is gone (OwnerGone) and never those of a live process,
// so each job can clean up after its killed predecessors while a concurrent
// run keeps its scratch. Names without "s<start>" (older versions) are judged
// by the pid alone. Only meaningful for processes of this host.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ailee::fs {

// "<pid>s<start>" of the calling process (a forked child gets its own).
std::string OwnerTag();
// A fresh scratch name: "<prefix><OwnerTag()>-<12 random hex digits>".
std::string ScratchName(std::string_view prefix);
// Start time of process `pid` in clock ticks since boot; 0 when no such
// process runs or /proc cannot tell.
uint64_t ProcessStartTicks(int64_t pid);
// True only when the owner is certainly gone from this host: no process has
// `pid`, or (with `start_ticks` nonzero) the process that has it now started
// at another time. A process of another user (EPERM), or one whose start time
// cannot be read, counts as alive.
bool OwnerGone(int64_t pid, uint64_t start_ticks);
// "<boot id>/<pid namespace>" of the calling process: the space in which a
// pid names one process. Two containers (or a container and its host) can
// share a hostname yet not see each other's pids; a record of a process is
// only judged by OwnerGone where this matches. Empty when /proc cannot tell.
std::string ProcessSpaceId();
// Parses "<pid>[s<start>]" at the start of `s`; false when `s` does not start
// with a pid.
bool ParseOwnerTag(std::string_view s, int64_t* pid, uint64_t* start_ticks);

}  // namespace ailee::fs
