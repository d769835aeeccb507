// Entry paths of an archive: what CleanEntryPath accepts and refuses (the
// whole-archive checks run through ImportConfigArchive in
// ops_config_archive_safety_test.cc).
#include <gtest/gtest.h>

#include <string>

#include "archive/paths.h"

namespace ailee::archive {
namespace {

TEST(ArchivePaths, CleanEntryPath) {
  EXPECT_EQ(*CleanEntryPath("./a//b/"), "a/b");
  EXPECT_FALSE(CleanEntryPath("/a").ok());
  EXPECT_FALSE(CleanEntryPath("a/../b").ok());
  EXPECT_FALSE(CleanEntryPath(".").ok());
  EXPECT_FALSE(CleanEntryPath(std::string("a\0b", 3)).ok());
}

}  // namespace
}  // namespace ailee::archive
