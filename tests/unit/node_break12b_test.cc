// Adversarial review of issue 12 (second pass): a FIFO where the node's log
// file belongs (an operator piping the log to a shipper that is not running,
// or someone replacing node.log between logrotate's rename and the SIGHUP).
// Opening a FIFO for writing blocks until a reader comes: the node hung at
// start before serving anything, and a SIGHUP hung its only signal thread in
// Reopen(), after which SIGTERM was never taken. Both must fail at once and
// say why; a failed reopen keeps the old file, as for any other failure.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>

#include <spdlog/logger.h>

#include "base/fs.h"
#include "node/reopenable_file_sink.h"

namespace ailee::node {
namespace {

using std::chrono::seconds;

class LogSinkFifoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-log-fifo-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/node.log";
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }

  // Waits up to 5 s for `f`; a call still blocked in open() is released by
  // opening the FIFO's read end, so a failing test ends instead of hanging.
  template <typename T>
  bool FinishesPromptly(std::future<T>& f) {
    if (f.wait_for(seconds(5)) == std::future_status::ready) return true;
    const int reader = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK);
    f.wait();
    if (reader >= 0) ::close(reader);
    return false;
  }

  std::string dir_, path_;
};

TEST_F(LogSinkFifoTest, StartingOnAFifoNobodyReadsFailsAtOnceNamingIt) {
  ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0);
  auto opened = std::async(std::launch::async, [this]() -> std::string {
    try {
      ReopenableFileSink sink(path_);
      return "";
    } catch (const spdlog::spdlog_ex& e) {
      return e.what();
    }
  });
  ASSERT_TRUE(FinishesPromptly(opened)) << "the sink blocked opening a FIFO without a reader";
  const std::string error = opened.get();
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  EXPECT_NE(error.find("FIFO"), std::string::npos) << error;
}

TEST_F(LogSinkFifoTest, ReopenOntoAFifoFailsAtOnceAndKeepsTheOldFile) {
  auto sink = std::make_shared<ReopenableFileSink>(path_);
  auto logger = std::make_shared<spdlog::logger>("test", sink);
  logger->set_pattern("%v");
  logger->info("before");
  logger->flush();
  const std::string moved = dir_ + "/node.log.1";
  ASSERT_EQ(::rename(path_.c_str(), moved.c_str()), 0);
  ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0);
  auto reopened = std::async(std::launch::async, [&] { return sink->Reopen(); });
  ASSERT_TRUE(FinishesPromptly(reopened)) << "Reopen() blocked on a FIFO: the node's signal thread would hang";
  Status st = reopened.get();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("FIFO"), std::string::npos) << st.ToString();
  logger->info("after");
  logger->flush();
  auto text = fs::ReadFile(moved);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "before\nafter\n") << "the log went on in the file that was open";
}

}  // namespace
}  // namespace ailee::node
