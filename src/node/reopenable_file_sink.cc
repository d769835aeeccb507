#include "node/reopenable_file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

namespace ailee::node {
namespace {

std::unique_ptr<spdlog::details::file_helper> OpenAppending(const std::string& path) {
  // Opening a FIFO for writing blocks until a reader comes: the node hung
  // before it served anything, or its signal thread hung in Reopen() and
  // took no SIGTERM any more. A FIFO with a reader (a log shipper) is fine.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      throw spdlog::spdlog_ex(path + " is a FIFO that nobody reads: start its reader, or move it away for a regular file");
    }
    ::close(fd);
  }
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
