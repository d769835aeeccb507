// The node's log file sink (node/reopenable_file_sink.h) under logrotate's
// pattern: rename the file, then Reopen(), while other threads log. Every
// line lands whole in exactly one file, in order; a reopen that cannot open
// the file keeps the log going to the old one.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "base/fs.h"
#include "node/reopenable_file_sink.h"

namespace ailee::node {
namespace {

class ReopenableFileSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-log-sink-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/node.log";
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }

  std::shared_ptr<spdlog::logger> Logger(std::shared_ptr<ReopenableFileSink> sink) {
    auto logger = std::make_shared<spdlog::logger>("test", std::move(sink));
    logger->set_pattern("%v");
    return logger;
  }

  static std::vector<std::string> Lines(const std::string& file) {
    std::vector<std::string> out;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  std::string dir_, path_;
};

TEST_F(ReopenableFileSinkTest, RotationsWhileThreadsLogLoseNoLineAndSplitNone) {
  constexpr int kWriters = 4, kRotations = 25;
  auto sink = std::make_shared<ReopenableFileSink>(path_);
  auto logger = Logger(sink);
  std::atomic<bool> done{false};
  std::vector<int> written(kWriters, 0);
  std::vector<std::thread> writers;
  // The writers log until the last rotation is over, so every rotation
  // happens while they write.
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; !done || i < 100; ++i) {
        logger->info("w{} {:06d} {}", w, i, std::string(40, 'x'));
        written[w] = i + 1;
      }
    });
  }
  // logrotate's `create` mode: the live file is renamed, then the node reopens.
  std::vector<std::string> rotated;
  for (int r = 0; r < kRotations; ++r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::string to = path_ + "." + std::to_string(r);
    ASSERT_EQ(::rename(path_.c_str(), to.c_str()), 0);
    rotated.push_back(to);
    ASSERT_TRUE(sink->Reopen().ok());
  }
  done = true;
  for (auto& t : writers) t.join();
  logger->flush();

  rotated.push_back(path_);
  std::map<int, int> next;  // writer -> next expected line number
  std::set<std::string> seen;
  size_t files_with_lines = 0;
  for (const auto& file : rotated) {
    auto lines = Lines(file);
    if (!lines.empty()) ++files_with_lines;
    for (const auto& line : lines) {
      int w = -1, i = -1;
      char tail[64] = {};
      ASSERT_EQ(std::sscanf(line.c_str(), "w%d %d %63s", &w, &i, tail), 3) << "a split line in " << file << ": " << line;
      ASSERT_EQ(std::string(tail), std::string(40, 'x')) << "a split line in " << file;
      ASSERT_TRUE(seen.insert(line).second) << "written twice: " << line;
      EXPECT_EQ(i, next[w]) << "out of order or lost before: " << line << " in " << file;
      next[w] = i + 1;
    }
  }
  for (int w = 0; w < kWriters; ++w) EXPECT_EQ(next[w], written[w]) << "writer " << w << " lost its last lines";
  EXPECT_GE(files_with_lines, static_cast<size_t>(kRotations / 2)) << "the rotations did not split the writes";
}

TEST_F(ReopenableFileSinkTest, ReopenAppendsToAnExistingFileNeverTruncates) {
  auto sink = std::make_shared<ReopenableFileSink>(path_);
  auto logger = Logger(sink);
  logger->info("first");
  logger->flush();
  ASSERT_TRUE(sink->Reopen().ok());  // no rotation: the same file again
  logger->info("second");
  logger->flush();
  EXPECT_EQ(Lines(path_), (std::vector<std::string>{"first", "second"}));
}

TEST_F(ReopenableFileSinkTest, AFailedReopenKeepsLoggingToTheOldFile) {
  auto sink = std::make_shared<ReopenableFileSink>(path_);
  auto logger = Logger(sink);
  logger->info("before");
  // An unlucky rotation: the name now belongs to a directory, so the open fails.
  std::string moved = path_ + ".1";
  ASSERT_EQ(::rename(path_.c_str(), moved.c_str()), 0);
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  Status st = sink->Reopen();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(path_), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("still writing"), std::string::npos) << st.message();
  logger->info("after");
  logger->flush();
  EXPECT_EQ(Lines(moved), (std::vector<std::string>{"before", "after"}));
}

}  // namespace
}  // namespace ailee::node
