// A log file sink that can be reopened by name: logrotate renames node.log,
// creates an empty one and sends SIGHUP; Reopen() then moves the node's
// writes to the new file.
//
// Contract: Reopen() opens the new file before it takes the sink's lock and
// swaps the handle under it, so every line goes whole to exactly one file
// (lines before the swap to the renamed one, lines after to the new one) and
// none is lost. If the new file cannot be opened the sink keeps writing the
// old handle and Reopen() says why: a failed rotation never silences the log.
// A FIFO at the name that nobody reads is such a failure, at once, never a
// wait for a reader (which would hang the node's signal thread).
// Thread safety: as every spdlog *_mt sink, one mutex around every call.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>

#include "base/status.h"

namespace ailee::node {

class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Opens (appending, creating if missing) `path`; throws spdlog_ex as
  // spdlog's own file sinks do when the file cannot be opened at start (or
  // is a FIFO nobody reads); ailee-node's main says so and exits 1.
  explicit ReopenableFileSink(std::string path);

  // Appends to `path` again, whatever file now has that name.
  Status Reopen();

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  const std::string path_;
  std::unique_ptr<spdlog::details::file_helper> file_;
};

}  // namespace ailee::node
