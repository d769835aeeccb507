// Job metrics for node_exporter's textfile collector: each scheduled job of
// ailee-cli leaves one file per job and node, `<dir>/ailee_<job>_<node>.prom`,
// in the Prometheus text format (docs/metrics.md lists every metric).
//
// The file is replaced atomically (a temporary sibling from
// fs::TempSiblingName, fsync, rename, fsync of the directory): the collector
// reads the old file or the new one, never half of one, and kill -9 at any
// moment leaves one of the two (plus at most a temporary file, which does not
// end in .prom and which the next run of the same job removes). Whatever sits
// at the target name, a symlink or a FIFO included, is replaced by the
// rename and never opened for writing; the previous file is only read back
// when it is a regular file (opened without following a symlink and without
// blocking on a FIFO).
//
// Not thread-safe for one (job, node) pair: the scheduler never runs two of
// the same job at once; the last rename wins if it does.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ailee::ops::metrics {

// A metric a job may report: its name, type and help, listed once
// (textfile.cc, the same list as docs/metrics.md).
struct MetricInfo {
  const char* name;
  const char* type;  // "gauge"
  const char* help;
};
// The entry for `name`, or nullptr for a name that is not listed.
const MetricInfo* FindMetric(const std::string& name);
const std::vector<MetricInfo>& AllMetrics();

// One value of one metric. `labels` are added to the job and node labels.
struct Sample {
  std::string name;  // one of AllMetrics()
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// What one run of a job reports.
struct JobReport {
  std::string job;            // label `ailee_job` and file name: backup_state, verify, ...
  std::string node;           // label `node`: the config's node.id
  int64_t started_ms = 0;     // wall clock, Unix milliseconds
  int64_t finished_ms = 0;
  int exit_code = 0;          // 0: success (docs/exit-codes.md)
  std::vector<Sample> samples;  // the job's own numbers (ops/metrics/job_samples.h)
};

// "<dir>/ailee_<job>_<node>.prom"; characters other than [A-Za-z0-9_-] in
// job and node become '_'.
std::string JobMetricsPath(const std::string& dir, const JobReport& report);

// Values of the previous file by series ("name{labels}" exactly as written),
// read only from a regular file of at most 1 MiB; empty when there is none or
// it cannot be read (a first run). Only lines in the form this writer uses
// (one series, finite value, no timestamp) are taken: anything else is
// dropped rather than carried into the next file. A file written before the
// label `job` became `ailee_job` is read under the new name (an upgrade keeps
// the last success and the ages).
std::map<std::string, double> ReadPreviousSeries(const std::string& path);

// The file's text. From `previous`: the last success timestamp when this run
// failed, and every *_age_seconds series this run did not report, aged by the
// time since the previous attempt (an age keeps growing while a job fails).
// kInternal for a sample whose name AllMetrics() does not list.
Result<std::string> RenderJobMetrics(const JobReport& report, const std::map<std::string, double>& previous);

// Reads the previous file, renders and replaces it atomically (mode 0644:
// node_exporter runs as another user); first removes temporary files of
// killed runs of this job. The directory must exist.
Status WriteJobMetrics(const std::string& dir, const JobReport& report);

}  // namespace ailee::ops::metrics
