#include "node/reopenable_file_sink.h"

#include <utility>

namespace ailee::node {
namespace {

std::unique_ptr<spdlog::details::file_helper> OpenAppending(const std::string& path) {
  auto file = std::make_unique<spdlog::details::file_helper>();
  file->open(path, /*truncate=*/false);
  return file;
}

}  // namespace

ReopenableFileSink::ReopenableFileSink(std::string path) : path_(std::move(path)), file_(OpenAppending(path_)) {}

Status ReopenableFileSink::Reopen() {
  // Opened outside the lock: a slow or failing open never blocks logging.
  std::unique_ptr<spdlog::details::file_helper> fresh;
  try {
    fresh = OpenAppending(path_);
  } catch (const spdlog::spdlog_ex& e) {
    return Unavailable("reopen log file " + path_ + ": " + e.what() +
                               "; still writing the file that was open before");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  file_->flush();
  std::swap(file_, fresh);
  return Status::Ok();  // `fresh`, now the old handle, closes after the lock is released
}

void ReopenableFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  file_->write(formatted);
}

void ReopenableFileSink::flush_() { file_->flush(); }

}  // namespace ailee::node
